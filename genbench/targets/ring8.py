"""Eight tight Gaussians on the unit circle: the ring of the PacGAN and VEEGAN mode-collapse tests.

Lin et al. (2018) and Srivastava et al. (2017) train GANs on this mixture and count how many of
its modes the samples reach (``genbench.metrics.modes``). Its modes are 0.77 apart and 0.01 wide,
76 standard deviations, so a generator can only cover them by splitting its mass cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

from genbench.registry import targets
from genbench.targets.eight_gaussians import EightGaussians


@targets.register("ring8")
@dataclass(frozen=True)
class Ring8(EightGaussians):
    """An equal-weight mixture of 8 isotropic Gaussians of std 0.01 on the unit circle.

    k ~ Uniform{0..7}; x = (cos 2πk/8, sin 2πk/8) + 0.01·ε, ε ~ N(0, I₂). It is
    :class:`EightGaussians` with other defaults, and shares its density, regions (the angular
    sector of width 2π/8 centred on each mean, mass 1/8 by symmetry) and HDR integration.
    """

    radius: float = 1.0  # distance of every mode's mean from the origin
    std: float = 0.01  # standard deviation of every mode, per axis
    num_modes: int = 8

    name = "ring8"
    # The ring and half its radius around it: room to show the samples that a collapsing
    # generator strews between and beyond the modes, which sit within 1.03 of the origin.
    plot_range = 1.5
    # 0.25 × std, as for eight_gaussians: Scott's factor 10_000^(-1/6) ≈ 0.22 times the mode's
    # std, so the KDE resolves each mode. A kernel on the ring's scale would smear the 8 modes
    # into one ring and hide a dropped mode from the KL metrics.
    bandwidth = 0.0025

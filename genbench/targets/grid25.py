"""Twenty-five tight Gaussians on a 5 × 5 grid: the grid of the PacGAN and VEEGAN mode-collapse
tests (Lin et al. 2018, Srivastava et al. 2017)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from genbench.registry import targets
from genbench.targets.base import HDR_MASS, Target, as_points

# The closed-form regions and HDR below treat every mode as alone in its cell; that holds to
# float64 precision when neighbouring means are at least this many stds apart (see the class).
MIN_SEPARATION = 20.0


@targets.register("grid25")
@dataclass(frozen=True)
class Grid25(Target):
    """An equal-weight mixture of 25 isotropic Gaussians of std 0.05, means {−4, −2, 0, 2, 4}².

    k ~ Uniform{0..24}; x = μₖ + 0.05·ε, ε ~ N(0, I₂), where μₖ = (aᵢ, aⱼ) for k = 5i + j and
    a = (−4, −2, 0, 2, 4). Regions: the modes, each the set of points nearest its mean (a square
    cell of side 2 inside the grid, unbounded at its edges).

    The means are 40 stds apart, so every number here is a one-mode closed form. A draw leaves
    its mode's cell only if a coordinate strays 20 stds, with probability at most
    4·Φ(−20) ≈ 1.1e-88: each region's mass is 1/25 to within 1e-88. At the HDR's edge, 3 stds
    from a mean, the nearest other mode adds a relative e^(−(37² − 3²)/2) < 1e-290 to the density.
    """

    spacing: float = 2.0  # distance between neighbouring means along each axis
    std: float = 0.05  # standard deviation of every mode, per axis
    side: int = 5  # means per axis; K = side² modes

    name = "grid25"
    plot_range = 5.5  # the outer means at ±4 and 30 stds of margin for samples off the grid
    bandwidth = 0.0125  # 0.25 × std, as eight_gaussians: Scott's factor at n = 10,000 × std

    def __post_init__(self) -> None:
        if self.spacing < MIN_SEPARATION * self.std:
            raise ValueError(f"grid modes overlap: spacing must be at least {MIN_SEPARATION} std")

    @property
    def num_modes(self) -> int:
        return self.side**2

    @property
    def axis_means(self) -> np.ndarray:
        """Mean coordinates along either axis, centred on 0, (side,)."""
        return self.spacing * (np.arange(self.side) - (self.side - 1) / 2)

    @property
    def means(self) -> np.ndarray:
        """Mode means, (K, 2); mode k = side·i + j sits at (axis_means[i], axis_means[j])."""
        i, j = np.divmod(np.arange(self.num_modes), self.side)
        return np.column_stack([self.axis_means[i], self.axis_means[j]])

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        modes = rng.integers(0, self.num_modes, size=num_samples)
        return self.means[modes] + self.std * rng.standard_normal((num_samples, 2))

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        # Equal weights on a product grid make p a product of two 1-D mixtures of `side`
        # Gaussians, p(x) = m(x₀)·m(x₁): the same log-sum-exp as over the 25 modes, with (n, 5)
        # temporaries instead of (n, 25) ones on large integration grids.
        x = as_points(x)
        return self._axis_log_prob(x[:, 0]) + self._axis_log_prob(x[:, 1])

    def _axis_log_prob(self, t: np.ndarray) -> np.ndarray:
        """log m(t) for the 1-D mixture m of N(aᵢ, std²), i < side, equal weights; (n,)."""
        exponent = -((t[:, None] - self.axis_means[None, :]) ** 2) / (2 * self.std**2)  # (n, 5)
        peak = exponent.max(axis=1)  # (n,) the nearest mean, for a stable log-sum-exp
        total = np.exp(exponent - peak[:, None]).sum(axis=1)
        return peak + np.log(total) - np.log(self.side * np.sqrt(2 * np.pi) * self.std)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(f"mode-{i}-{j}" for i in range(self.side) for j in range(self.side))

    def region_of(self, x: np.ndarray) -> np.ndarray:
        x = as_points(x)
        nearest = np.rint((x - self.axis_means[0]) / self.spacing)  # (n, 2) index along each axis
        i, j = np.clip(nearest, 0, self.side - 1).astype(np.int64).T
        return self.side * i + j

    @property
    def region_masses(self) -> np.ndarray:
        return np.full(self.num_modes, 1 / self.num_modes)

    # Each mode is alone in its cell (see the class), so the HDR {log p >= t} is the union of
    # the disks ‖x − μₖ‖ <= r with P(‖σε‖ <= r) = 1 − exp(−r²/2σ²) = HDR_MASS, each of mass
    # HDR_MASS/K, and t is log p at distance r: −log(2πσ²K) − r²/2σ² = log(1 − HDR_MASS) −
    # log(2πσ²K).
    @cached_property
    def hdr_threshold(self) -> float:
        return float(np.log(1 - HDR_MASS) - np.log(2 * np.pi * self.std**2 * self.num_modes))

    @cached_property
    def hdr_region_masses(self) -> np.ndarray:
        return np.full(self.num_modes, HDR_MASS / self.num_modes)

"""Eight Gaussians on a circle: the classic mode-collapse test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from genbench.registry import targets
from genbench.targets.base import HDR_MASS, Target, as_points, polar_angle


@targets.register("eight_gaussians")
@dataclass(frozen=True)
class EightGaussians(Target):
    """An equal-weight mixture of ``num_modes`` isotropic Gaussians on a circle.

    k ~ Uniform{0..7}; x = radius·(cos 2πk/8, sin 2πk/8) + std·ε, ε ~ N(0, I₂); the first mode
    sits at (radius, 0). Regions: the modes, each the angular sector of width 2π/8 centred on its
    mean (mass 1/8 by symmetry).
    """

    radius: float = 2.0  # distance of every mode's mean from the origin
    std: float = 0.2  # standard deviation of every mode, per axis
    num_modes: int = 8

    name = "eight_gaussians"
    plot_range = 3.0
    bandwidth = 0.05  # Scott's factor 10_000^(-1/6) ≈ 0.22 times the mode's std 0.2

    @property
    def means(self) -> np.ndarray:
        """Mode means, (K, 2)."""
        angles = 2 * np.pi * np.arange(self.num_modes) / self.num_modes
        return self.radius * np.column_stack([np.cos(angles), np.sin(angles)])

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        modes = rng.integers(0, self.num_modes, size=num_samples)
        return self.means[modes] + self.std * rng.standard_normal((num_samples, 2))

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        x = as_points(x)
        means = self.means  # (K, 2)
        # ‖x − μₖ‖² expanded, to avoid an (n, K, 2) temporary on large grids
        squared = (x**2).sum(1)[:, None] - 2 * x @ means.T + (means**2).sum(1)[None, :]  # (n, K)
        exponent = -squared / (2 * self.std**2)  # (n, K)
        peak = exponent.max(axis=1)  # (n,) the nearest mode; log-sum-exp by hand, 5x scipy's
        total = np.exp(exponent - peak[:, None]).sum(axis=1)
        return peak + np.log(total) - np.log(2 * np.pi * self.std**2 * self.num_modes)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(f"mode-{k}" for k in range(self.num_modes))

    def region_of(self, x: np.ndarray) -> np.ndarray:
        width = 2 * np.pi / self.num_modes
        return np.rint(polar_angle(as_points(x)) / width).astype(np.int64) % self.num_modes

    @property
    def region_masses(self) -> np.ndarray:
        return np.full(self.num_modes, 1 / self.num_modes)

    @cached_property
    def _sector_hdr(self) -> tuple[float, float]:
        # By symmetry each mode's sector holds 1/K of the mass and the same share of the HDR, so
        # integrate over mode 0's sector alone, on a fine grid (cell = std/100) of ±6 std around
        # its mean; the mass beyond 6 std is below 1e-7.
        half = 6 * self.std
        centres = np.linspace(-half, half, 1201)
        cell = (centres[1] - centres[0]) ** 2
        dx, dy = np.meshgrid(centres, centres, indexing="ij")
        points = np.column_stack([self.radius + dx.ravel(), dy.ravel()])
        points = points[self.region_of(points) == 0]
        mass = np.sort(self.prob(points) * cell)[::-1]  # (m,) cell masses, densest first
        cumulative = np.cumsum(mass)
        sector_mass = 1 / self.num_modes
        cut = int(np.searchsorted(cumulative, HDR_MASS * sector_mass))
        return float(np.log(mass[cut] / cell)), float(cumulative[cut])

    @cached_property
    def hdr_threshold(self) -> float:
        return self._sector_hdr[0]

    @cached_property
    def hdr_region_masses(self) -> np.ndarray:
        return np.full(self.num_modes, self._sector_hdr[1])

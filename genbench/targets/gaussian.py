"""The standard bivariate Gaussian N(0, I₂)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from genbench.registry import targets
from genbench.targets.base import HDR_MASS, Target, as_points, polar_angle

SECTORS = 8  # angular sectors of the region partition
# ‖X‖² ~ χ²₂ = Exp(1/2), so the median radius is sqrt(2 ln 2).
MEDIAN_RADIUS = float(np.sqrt(2 * np.log(2)))


@targets.register("gaussian")
@dataclass(frozen=True)
class Gaussian(Target):
    """p(x) = N(x; 0, I₂).

    Regions: 16 cells of mass 1/16 each, 8 equal angular sectors times 2 radial shells split
    at the median radius sqrt(2 ln 2).
    """

    name = "gaussian"
    plot_range = 4.2
    bandwidth = 0.2  # Scott's factor 10_000^(-1/6) ≈ 0.22 times the unit standard deviation

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        return rng.standard_normal((num_samples, 2))

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        x = as_points(x)
        return -np.log(2 * np.pi) - 0.5 * np.sum(x**2, axis=1)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(f"{shell}-{k}" for shell in ("inner", "outer") for k in range(SECTORS))

    def region_of(self, x: np.ndarray) -> np.ndarray:
        x = as_points(x)
        sector = np.floor(polar_angle(x) / (2 * np.pi / SECTORS)).astype(np.int64) % SECTORS
        outer = np.linalg.norm(x, axis=1) > MEDIAN_RADIUS
        return sector + SECTORS * outer

    @property
    def region_masses(self) -> np.ndarray:
        return np.full(2 * SECTORS, 1 / (2 * SECTORS))

    @cached_property
    def hdr_radius(self) -> float:
        """Radius of the 99 % HDR disk: P(‖X‖² <= r²) = 1 - exp(-r²/2) = HDR_MASS."""
        return float(np.sqrt(-2 * np.log(1 - HDR_MASS)))

    @cached_property
    def hdr_threshold(self) -> float:
        return float(-np.log(2 * np.pi) - 0.5 * self.hdr_radius**2)

    @cached_property
    def hdr_region_masses(self) -> np.ndarray:
        # The inner shell lies wholly inside the HDR disk; the outer one loses the 1 % tail.
        inner = np.full(SECTORS, 0.5 / SECTORS)
        outer = np.full(SECTORS, (0.5 - (1 - HDR_MASS)) / SECTORS)
        return np.concatenate([inner, outer])

"""A three-turn spiral arm of constant width, with an exact density.

The target is the image of u ~ U(-1, 1)² under

    r = r0 + growth·(u₀ + 1) + half_width·u₁,    θ = turns·π·u₀,    x = (r cos θ, r sin θ).

The map (u₀, u₁) → (r, θ) has Jacobian determinant turns·π·half_width, so the density in polar
coordinates is (1/4) / (turns·π·half_width), and in the plane (dividing by r)

    p(x) = 1 / (4·turns·π·half_width·‖x‖)  inside the arm,  0 outside.

With the defaults that is 1 / (0.6π‖x‖). Successive turns are 2·growth/turns = 0.3 apart in r
while the arm is 2·half_width = 0.1 wide, so the map is one-to-one and each point of the arm has a
single preimage, which ``log_prob`` recovers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np
from scipy.integrate import quad

from genbench.registry import targets
from genbench.targets.base import HDR_MASS, Target, as_points

SEGMENTS = 12  # equal-mass regions along the arm: equal intervals of u₀
# Slack on the arm's edges so that round-off never puts the target's own draws (u may be exactly
# -1) outside the arm; it changes the arm's area by about 1e-9 of itself.
EDGE_TOLERANCE = 1e-9


@targets.register("spiral")
@dataclass(frozen=True)
class Spiral(Target):
    """The article's spiral: three turns, arm width 0.1, p(x) = 1/(0.6π‖x‖) on the arm."""

    r0: float = 0.05  # radius at the inner end, before the arm's half-width is added
    growth: float = 0.45  # radius gained per unit of u₀
    half_width: float = 0.05  # half the arm's width, in radius
    turns: float = 3.0  # θ runs over turns·π·(-1, 1)

    name = "spiral"
    plot_range = 1.0
    bandwidth = 0.025  # a quarter of the arm's width of 0.1

    def __post_init__(self) -> None:
        gap = 2 * self.growth / self.turns  # radial distance between successive turns
        if gap <= 2 * self.half_width:
            raise ValueError("spiral turns overlap: 2·growth/turns must exceed 2·half_width")

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        u = rng.uniform(-1.0, 1.0, size=(num_samples, 2))
        r = self._radius(u[:, 0], u[:, 1])
        theta = self.turns * np.pi * u[:, 0]
        return np.column_stack([r * np.cos(theta), r * np.sin(theta)])

    def _radius(self, u0: np.ndarray, u1: np.ndarray) -> np.ndarray:
        return self.r0 + self.growth * (u0 + 1) + self.half_width * u1

    def arm_coordinate(self, x: np.ndarray) -> np.ndarray:
        """u₀ of each point's preimage on the arm, (n,); NaN for points off the arm."""
        x = as_points(x)
        r = np.linalg.norm(x, axis=1)
        phi = np.arctan2(x[:, 1], x[:, 0])  # in (-π, π]
        u0 = np.full(len(x), np.nan)
        # θ = turns·π·u₀ equals φ + 2πm for some integer m; try every m that keeps |u₀| < 1.
        max_wraps = int(np.ceil(self.turns / 2)) + 1
        for m in range(-max_wraps, max_wraps + 1):
            candidate = (phi + 2 * np.pi * m) / (self.turns * np.pi)
            u1 = (r - self.r0 - self.growth * (candidate + 1)) / self.half_width
            limit = 1 + EDGE_TOLERANCE
            hit = (np.abs(candidate) <= limit) & (np.abs(u1) <= limit)
            u0[hit] = candidate[hit]
        return u0

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        x = as_points(x)
        on_arm = ~np.isnan(self.arm_coordinate(x))
        r = np.linalg.norm(x, axis=1)
        out = np.full(len(x), -np.inf)
        out[on_arm] = -np.log(4 * self.turns * np.pi * self.half_width * r[on_arm])
        return out

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(f"segment-{k}" for k in range(SEGMENTS))

    def region_of(self, x: np.ndarray) -> np.ndarray:
        u0 = self.arm_coordinate(x)
        segment = np.floor((np.nan_to_num(u0) + 1) / 2 * SEGMENTS)
        return np.where(np.isnan(u0), -1, np.clip(segment, 0, SEGMENTS - 1)).astype(np.int64)

    @property
    def region_masses(self) -> np.ndarray:
        return np.full(SEGMENTS, 1 / SEGMENTS)

    # The density falls as 1/‖x‖, so the HDR is the arm inside a radius R*. Under p,
    # ‖X‖ = centre + growth·u₀ + half_width·u₁ is a sum of two uniforms: its upper tail beyond
    # centre + growth - half_width is the triangle P(‖X‖ > R) = (top - R)² / (8·growth·half_width).
    @cached_property
    def hdr_radius(self) -> float:
        """R* with P_p(‖X‖ <= R*) = HDR_MASS."""
        tail = 1 - HDR_MASS
        assert tail <= self.half_width / (2 * self.growth), "HDR edge must lie in the tail ramp"
        top = self.r0 + 2 * self.growth + self.half_width  # the largest radius on the arm
        return float(top - np.sqrt(8 * self.growth * self.half_width * tail))

    @cached_property
    def hdr_threshold(self) -> float:
        return float(-np.log(4 * self.turns * np.pi * self.half_width * self.hdr_radius))

    @cached_property
    def hdr_region_masses(self) -> np.ndarray:
        def outside_mass(u0: float) -> float:
            # density of u₀ is 1/2; P(u₁ > (R* - r0 - growth·(u₀+1)) / half_width) for u₁ ~ U(-1, 1)
            edge = (self.hdr_radius - self.r0 - self.growth * (u0 + 1)) / self.half_width
            return 0.5 * float(np.clip((1 - edge) / 2, 0, 1))

        bounds = np.linspace(-1, 1, SEGMENTS + 1)
        lost = [quad(outside_mass, lo, hi)[0] for lo, hi in pairwise(bounds)]
        return self.region_masses - np.array(lost)

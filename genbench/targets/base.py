"""The target protocol: an exactly known 2-D distribution with named regions.

A target is a frozen dataclass whose fields are its parameters, so that two targets with the
same fingerprint are the same distribution. Every target provides

- ``sample(num_samples, seed)``: i.i.d. draws, (n, 2) float64, reproducible from ``seed``;
- ``log_prob(x)``: the exact log-density, (n,), ``-inf`` where p = 0;
- ``region_of(x)``: the index of the region each point falls in, (n,), ``-1`` for none;
- ``region_masses``: the probability of each region under p, (K,), summing to 1;
- ``hdr_threshold``: the level t of the highest-density region {x : log p(x) >= t} of mass
  ``HDR_MASS`` (99 %), and ``hdr_region_masses``: P(region k and the HDR), (K,).

Subclasses give closed forms where they exist; the base class falls back to integration on a
fine grid over the plot range, accurate to about 1e-4 for the smooth densities that use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from functools import cached_property
from typing import ClassVar

import numpy as np

HDR_MASS = 0.99  # mass of the highest-density region used by mode coverage and negative space

# The kinds of target: "points", an exactly known 2-D density (every built-in target but one),
# and "images", a finite set of real images with labels and no density (``digits``). Metrics
# and model families say which kinds they handle.
KINDS = ("points", "images")

# Bump when the meaning of an existing target changes, so old results no longer compare as equal.
DEFINITION_VERSION = 1


class Target(ABC):
    """Base class of the exactly known 2-D targets."""

    name: ClassVar[str]
    kind: ClassVar[str] = "points"  # one of KINDS
    dim: ClassVar[int] = 2
    plot_range: ClassVar[float]  # figures show [-plot_range, plot_range]^2
    bandwidth: ClassVar[float]  # Gaussian KDE bandwidth of the KL metrics, fixed per target
    grid_size: ClassVar[int] = 2001  # points per axis of the fallback integration grid

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        """Draw ``num_samples`` points, (n, 2) float64."""

    @abstractmethod
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Exact log-density at ``x`` (n, 2); returns (n,), ``-inf`` where p = 0."""

    @property
    @abstractmethod
    def region_names(self) -> tuple[str, ...]:
        """Names of the regions that mode coverage counts, in index order."""

    @abstractmethod
    def region_of(self, x: np.ndarray) -> np.ndarray:
        """Region index of each point of ``x`` (n, 2); (n,) int64, ``-1`` for no region."""

    @property
    @abstractmethod
    def region_masses(self) -> np.ndarray:
        """P(X in region k) for X ~ p, (K,)."""

    # ------------------------------------------------------------------ shared behaviour
    def label_of(self, x: np.ndarray) -> np.ndarray:
        """The class of each point of ``x`` (n, 2) for a conditional model: its region, or K
        (one past the last region) for a point in none; (n,) int64."""
        regions = self.region_of(x)
        return np.where(regions < 0, len(self.region_masses), regions).astype(np.int64)

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` i.i.d. draws from the target, (n, 2) float64; same seed, same draws."""
        if int(num_samples) != num_samples or num_samples < 0:
            raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
        rng = np.random.default_rng(seed)
        return self._sample(rng, int(num_samples))

    # ------------------------------------------------------------------ what metrics compare
    image_shape: ClassVar[tuple[int, int] | None] = None  # (height, width) of an image target

    def reference_sample(self, num_samples: int, seed: int) -> np.ndarray:
        """What samples are compared with: ``num_samples`` fresh draws of the target, (n, dim).
        An image target, which has no sampler beyond its images, answers with its held-out
        images instead (drawn with replacement when more are asked for than it has)."""
        return self.sample(num_samples, seed)

    def features(self, x: np.ndarray) -> np.ndarray:
        """The space in which the distance-based metrics compare sets: the points themselves;
        an image target's classifier features."""
        return np.asarray(x, dtype=np.float64)

    @property
    def training_points(self) -> np.ndarray | None:
        """The finite set models of this target learn from, if it has one (an image target's
        training half): what memorisation compares samples with. None: fresh draws."""
        return None

    @property
    def population(self) -> Target:
        """The distribution this target's draws come from: itself. A finite training set of
        draws (``genbench.targets.training.TrainingSet``) answers with its target, so that what
        is a property of the distribution, not of a run's data (a model's standardisation), is
        computed from the distribution."""
        return self

    def prob(self, x: np.ndarray) -> np.ndarray:
        """Exact density at ``x`` (n, 2), (n,)."""
        return np.exp(self.log_prob(x))

    @cached_property
    def hdr_threshold(self) -> float:
        """Level t with P_p(log p(X) >= t) = HDR_MASS; the 99 % highest-density region."""
        return self._grid_hdr()[0]

    @cached_property
    def hdr_region_masses(self) -> np.ndarray:
        """P_p(X in region k and log p(X) >= hdr_threshold), (K,); sums to HDR_MASS."""
        return self._grid_hdr()[1]

    def in_hdr(self, x: np.ndarray) -> np.ndarray:
        """Whether each point of ``x`` (n, 2) lies in the 99 % highest-density region, (n,)."""
        return self.log_prob(x) >= self.hdr_threshold

    def params(self) -> dict[str, float | int]:
        """The target's parameters (its dataclass fields)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the name, parameters and definition version of the target."""
        payload = {"name": self.name, "params": self.params(), "definition": DEFINITION_VERSION}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    def grid(self, size: int | None = None) -> tuple[np.ndarray, float]:
        """Cell centres of a square grid over the plot range, (size², 2), and the cell area."""
        size = size or self.grid_size
        edges = np.linspace(-self.plot_range, self.plot_range, size + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        xx, yy = np.meshgrid(centres, centres, indexing="ij")
        cell = (edges[1] - edges[0]) ** 2
        return np.column_stack([xx.ravel(), yy.ravel()]), float(cell)

    @cached_property
    def _grid_hdr_cache(self) -> tuple[float, np.ndarray]:
        return self.highest_density_region(HDR_MASS)

    def highest_density_region(self, mass: float) -> tuple[float, np.ndarray]:
        """The level t with P_p(log p(X) >= t) = ``mass``, and P_p(X in region k and
        log p(X) >= t) for each region, (K,); integrated on the fine grid over the plot range."""
        points, cell = self.grid()
        cells = self.prob(points) * cell  # (m,) probability of each grid cell
        order = np.argsort(cells)[::-1]
        cumulative = np.cumsum(cells[order])
        cut = int(np.searchsorted(cumulative, mass * cumulative[-1]))
        threshold = float(np.log(cells[order[cut]] / cell))
        inside = order[: cut + 1]
        regions = self.region_of(points[inside])
        per_region = np.bincount(
            regions[regions >= 0],
            weights=cells[inside][regions >= 0],
            minlength=len(self.region_names),
        )
        return threshold, per_region / cumulative[-1]

    def _grid_hdr(self) -> tuple[float, np.ndarray]:
        return self._grid_hdr_cache

    def __str__(self) -> str:
        return self.name


def polar_angle(x: np.ndarray) -> np.ndarray:
    """Angle of each point of ``x`` (n, 2) in [0, 2π), (n,)."""
    return np.mod(np.arctan2(x[:, 1], x[:, 0]), 2 * np.pi)


def as_points(x: np.ndarray) -> np.ndarray:
    """``x`` as a float64 (n, 2) array, raising ValueError for any other shape."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"expected points of shape (n, 2), got {x.shape}")
    return x

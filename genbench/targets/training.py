"""A finite training set: N points drawn once from a target, standing in for it in training.

Adapters learn from ``target.sample`` draws, fresh ones at every step: an endless supply of
data. A :class:`TrainingSet` holds N draws of its target, made once from the run's seed, and
answers ``sample(n, seed)`` with n of those points picked uniformly with replacement, so a
model trained on it sees the same N points again and again, as a model trained on a data set
does; the ``memorisation`` metric then asks whether its samples copy them.

Everything else is the target's: its name (the GAN picks its prior by it), fingerprint,
``log_prob``, regions, highest-density region, plot range, bandwidth, parameters, and
``population``, whose draws fix a model's standardisation. What the model may know of the
distribution is still the distribution's; only its data is finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genbench.seeding import derive_seed
from genbench.targets.base import Target


class TrainingSet(Target):
    """``num_points`` draws of ``target`` fixed by ``seed`` (a run's seed), resampled with
    replacement by ``sample``; otherwise ``target`` itself.

    >>> from genbench.targets import get_target
    >>> training = TrainingSet(get_target("spiral"), 5, seed=0)
    >>> training.points.shape, training.name
    ((5, 2), 'spiral')
    >>> bool(np.isin(training.sample(100, seed=1), training.points).all())
    True
    """

    def __init__(self, target: Target, num_points: int, seed: int) -> None:
        if int(num_points) != num_points or num_points < 1:
            raise ValueError(f"num_points must be a positive integer, got {num_points!r}")
        self.target = target
        # (N, 2): the run's whole training data, independent of every other stream of its seed
        self.points = target.sample(int(num_points), derive_seed(seed, "training-set"))

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        """``num_samples`` of the training points, uniformly with replacement, (n, 2)."""
        return self.points[rng.integers(0, len(self.points), size=num_samples)]

    # ------------------------------------------------------------------ the target's own
    @property
    def population(self) -> Target:
        return self.target

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.target.name

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.target.dim

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.target.kind

    @property
    def image_shape(self) -> tuple[int, int] | None:  # type: ignore[override]
        return self.target.image_shape

    @property
    def training_points(self) -> np.ndarray:
        return self.points

    @property
    def plot_range(self) -> float:  # type: ignore[override]
        return self.target.plot_range

    @property
    def bandwidth(self) -> float:  # type: ignore[override]
        return self.target.bandwidth

    @property
    def fingerprint(self) -> str:  # type: ignore[override]
        return self.target.fingerprint

    def params(self) -> dict[str, float | int]:
        return self.target.params()

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        return self.target.log_prob(x)

    def prob(self, x: np.ndarray) -> np.ndarray:
        return self.target.prob(x)

    @property
    def region_names(self) -> tuple[str, ...]:
        return self.target.region_names

    def region_of(self, x: np.ndarray) -> np.ndarray:
        return self.target.region_of(x)

    @property
    def region_masses(self) -> np.ndarray:
        return self.target.region_masses

    @property
    def hdr_threshold(self) -> float:  # type: ignore[override]
        return self.target.hdr_threshold

    @property
    def hdr_region_masses(self) -> np.ndarray:  # type: ignore[override]
        return self.target.hdr_region_masses

    def in_hdr(self, x: np.ndarray) -> np.ndarray:
        return self.target.in_hdr(x)

    def grid(self, size: int | None = None) -> tuple[np.ndarray, float]:
        return self.target.grid(size)

    def __getattr__(self, name: str) -> Any:
        # Only asked for what the class does not define: a target's own parameters and helpers
        # (``means``, ``std``). Not for dunders or ``target`` itself, which copying and
        # unpickling look up before ``__init__`` has run.
        if name.startswith("__") or name == "target":
            raise AttributeError(name)
        return getattr(self.target, name)

    def __repr__(self) -> str:
        return f"TrainingSet({self.target!r}, {len(self.points)} points)"

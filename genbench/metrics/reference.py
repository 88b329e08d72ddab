"""A comparison of a sample set with fresh target draws, computed once per scoring.

Some opt-in metrics are several numbers read off one costly comparison: C2ST's accuracy and AUC
come from the same cross-validated classifiers, precision, recall, density and coverage from
the same k-nearest-neighbour balls. :class:`ReferenceComparison` runs the comparison once per
(samples, target, seed, size) and keeps the last ``CACHE_SIZE`` results, so that scoring a run
with all of its metrics costs one comparison.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from genbench.seeding import derive_seed
from genbench.targets.base import Target, as_points

Scores = TypeVar("Scores")
CACHE_SIZE = 32  # scorings kept

# (reference draws (size, 2), samples (size, 2), seed) -> the scores
Compare = Callable[[np.ndarray, np.ndarray, int], Scores]


class ReferenceComparison(Generic[Scores]):
    """``compare(reference, samples, seed)`` of at most ``size`` of the samples (a subset
    drawn without replacement when there are more) against as many fresh target draws, all
    seeded from ``seed`` and ``name``; computed once, then read back."""

    def __init__(self, name: str, compare: Compare[Scores]) -> None:
        self.name = name
        self.compare = compare
        self._cache: OrderedDict[tuple[str, str, int, int], Scores] = OrderedDict()

    def __call__(self, target: Target, samples: np.ndarray, seed: int, size: int) -> Scores:
        samples = np.ascontiguousarray(as_points(samples))
        key = (hashlib.blake2b(samples.tobytes()).hexdigest(), target.fingerprint, seed, size)
        scores = self._cache.get(key)
        if scores is None:
            size = min(size, len(samples))
            if len(samples) > size:
                rng = np.random.default_rng(derive_seed(seed, self.name, "subsample"))
                samples = samples[rng.choice(len(samples), size, replace=False)]
            reference = target.sample(size, derive_seed(seed, self.name))
            scores = self.compare(reference, samples, seed)
            self._cache[key] = scores
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return scores

    def clear(self) -> None:
        """Forget every stored result."""
        self._cache.clear()

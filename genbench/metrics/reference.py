"""A comparison of a sample set with the target's reference set, computed once per scoring.

The reference set is what ``Target.reference_sample`` gives: fresh draws of a 2-D target, the
held-out images of an image target. Both sides are compared in the target's feature space
(``Target.features``): the points themselves, or an image classifier's features. Some opt-in
metrics are several numbers read off one costly comparison: C2ST's accuracy and AUC
come from the same cross-validated classifiers, precision, recall, density and coverage from
the same k-nearest-neighbour balls. :class:`ReferenceComparison` runs the comparison once per
(samples, target, seed, size) and keeps the last ``CACHE_SIZE`` results, so that scoring a run
with all of its metrics costs one comparison.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from genbench.seeding import derive_seed
from genbench.targets.base import Target, as_points

Scores = TypeVar("Scores")
CACHE_SIZE = 32  # scorings kept

# (reference features (size, d), samples' features (size, d), seed) -> the scores
Compare = Callable[[np.ndarray, np.ndarray, int], Scores]


def as_samples(target: Target, samples: np.ndarray) -> np.ndarray:
    """``samples`` as float64 rows of the target's dimension: points (n, 2) of a 2-D target,
    flattened images (n, height·width) of an image target; ValueError for any other shape."""
    if target.kind == "points":
        return as_points(samples)
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != target.dim:
        raise ValueError(f"expected images of shape (n, {target.dim}), got {samples.shape}")
    return samples


def reference_size(target: Target) -> float:
    """How many reference rows a comparison can draw without repeating one: unbounded for a
    2-D target's fresh draws; for an image target, its held-out images (``held_out_images``),
    since repeated images would stand at distance 0 from their copies."""
    return math.inf if target.kind == "points" else len(target.held_out_images)


class ReferenceComparison(Generic[Scores]):
    """``compare(reference, samples, seed)`` of at most ``size`` of the samples (a subset
    drawn without replacement when there are more) against as many reference draws (an image
    target's reference holds all of its held-out images at most), in the target's feature
    space, all seeded from ``seed`` and ``name``; computed once, then read back."""

    def __init__(self, name: str, compare: Compare[Scores]) -> None:
        self.name = name
        self.compare = compare
        self._cache: OrderedDict[tuple[str, str, int, int], Scores] = OrderedDict()

    def __call__(self, target: Target, samples: np.ndarray, seed: int, size: int) -> Scores:
        samples = np.ascontiguousarray(as_samples(target, samples))
        key = (hashlib.blake2b(samples.tobytes()).hexdigest(), target.fingerprint, seed, size)
        scores = self._cache.get(key)
        if scores is None:
            size = int(min(size, len(samples), reference_size(target)))
            if len(samples) > size:
                rng = np.random.default_rng(derive_seed(seed, self.name, "subsample"))
                samples = samples[rng.choice(len(samples), size, replace=False)]
            reference = target.reference_sample(size, derive_seed(seed, self.name))
            # the identity on 2-D points
            scores = self.compare(target.features(reference), target.features(samples), seed)
            self._cache[key] = scores
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return scores

    def clear(self) -> None:
        """Forget every stored result."""
        self._cache.clear()

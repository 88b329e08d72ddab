"""Score a sample set with every registered metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genbench.metrics.base import selected_metrics
from genbench.registry import metrics
from genbench.targets.base import Target

MIN_SAMPLES = 100  # fewer points make every estimate meaningless noise
MIN_TRAINING_POINTS = 2  # a training set of one point is a point mass, not data to learn from
# Scoring is O(n) in memory and roughly O(n log n) in time beyond the fixed-size parts; ten
# million points (160 MB) take minutes, so larger inputs are refused before any work starts.
MAX_SAMPLES = 10_000_000


def check_samples(
    samples: np.ndarray, *, minimum: int = MIN_SAMPLES, what: str = "samples", dim: int = 2
) -> np.ndarray:
    """``samples`` as a float64 (n, ``dim``) array of at least ``minimum`` rows, or ValueError
    saying what is wrong with them (calling them ``what``: "training points")."""
    array = np.asarray(samples)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != dim:
        raise ValueError(f"{what} must have shape (n, {dim}), got {array.shape}")
    if len(array) < minimum:
        raise ValueError(f"need at least {minimum} {what} to score, got {len(array)}")
    if len(array) > MAX_SAMPLES:
        raise ValueError(f"at most {MAX_SAMPLES:,} {what} can be scored, got {len(array):,}")
    array = array.astype(np.float64, copy=False)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{what} contain NaN or infinite values in {bad.sum()} of {len(array)} rows "
            f"(first at row {int(np.argmax(bad))})"
        )
    return array


def score(
    target: Target,
    samples: np.ndarray,
    *,
    seed: int = 0,
    extra: Sequence[str] = (),
    model: Any = None,
    training: np.ndarray | None = None,
) -> dict[str, float]:
    """The default metrics of ``samples`` (n, dim) against ``target``, and the opt-in metrics
    named in ``extra``, by metric name (in registration order): those of the target's kind
    (``Target.kind``), so an opt-in metric of 2-D points is left out for an image target.
    Metrics that read the trained ``model`` (``uses_model``) need it, and those that read the
    ``training`` set (m, dim) the samples' model learned from (``uses_training``) need that:
    ValueError without them.

    ``seed`` fixes the metrics' own randomness (fresh reference draws, subsets), so the same
    samples and seed always give the same values.
    """
    chosen = [metrics.get(name) for name in selected_metrics(extra, target.kind)]
    if model is None and (needs := [m.name for m in chosen if m.uses_model]):
        raise ValueError(f"metric {needs[0]} reads a trained model's density: pass model=")
    if training is None and (needs := [m.name for m in chosen if m.uses_training]):
        raise ValueError(
            f"metric {needs[0]} compares the samples with a training set: pass training="
        )
    samples = check_samples(samples, dim=target.dim)
    if training is not None:
        training = check_samples(
            training, minimum=MIN_TRAINING_POINTS, what="training points", dim=target.dim
        )
    return {m.name: m(target, samples, seed=seed, model=model, training=training) for m in chosen}

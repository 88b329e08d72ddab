"""Score a sample set with every registered metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genbench.metrics.base import selected_metrics
from genbench.registry import metrics
from genbench.targets.base import Target

MIN_SAMPLES = 100  # fewer points make every estimate meaningless noise
# Scoring is O(n) in memory and roughly O(n log n) in time beyond the fixed-size parts; ten
# million points (160 MB) take minutes, so larger inputs are refused before any work starts.
MAX_SAMPLES = 10_000_000


def check_samples(samples: np.ndarray) -> np.ndarray:
    """``samples`` as a float64 (n, 2) array, or ValueError saying what is wrong with them."""
    array = np.asarray(samples)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"samples must be numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2), got {array.shape}")
    if len(array) < MIN_SAMPLES:
        raise ValueError(f"need at least {MIN_SAMPLES} samples to score, got {len(array)}")
    if len(array) > MAX_SAMPLES:
        raise ValueError(f"at most {MAX_SAMPLES:,} samples can be scored, got {len(array):,}")
    array = array.astype(np.float64, copy=False)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ValueError(
            f"samples contain NaN or infinite values in {bad.sum()} of {len(array)} rows "
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
) -> dict[str, float]:
    """The default metrics of ``samples`` (n, 2) against ``target``, and the opt-in metrics
    named in ``extra``, by metric name (in registration order). Metrics that read the trained
    ``model`` (``uses_model``) need it: ValueError without it.

    ``seed`` fixes the metrics' own randomness (fresh reference draws, subsets), so the same
    samples and seed always give the same values.
    """
    chosen = [metrics.get(name) for name in selected_metrics(extra)]
    if model is None and (needs := [m.name for m in chosen if m.uses_model]):
        raise ValueError(f"metric {needs[0]} reads a trained model's density: pass model=")
    samples = check_samples(samples)
    return {m.name: m(target, samples, seed=seed, model=model) for m in chosen}

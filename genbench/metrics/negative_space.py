"""Negative space: generated mass that falls where the target has (almost) none."""

from __future__ import annotations

import numpy as np

from genbench.metrics.base import metric
from genbench.targets.base import HDR_MASS, Target


@metric(
    "negative_space",
    ideal=1 - HDR_MASS,
    description="fraction of samples outside the target's 99 % HDR (perfect: 0.01)",
    label="negative space",
    short_label="neg.sp",
    bounds=(0.0, 1.0),
    headline=True,
    practical_change=0.02,
)
def negative_space(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """Fraction of ``samples`` (n, 2) with log p(x) below the target's 99 % HDR level.

    A perfect sampler scores 1 − 0.99 = 0.01; lower means samples crowd the densest parts,
    higher means they spill between modes or off the arm. Deterministic: ``seed`` is unused.
    """
    return float(np.mean(~target.in_hdr(samples)))

"""Mode coverage: how many of the target's regions the samples reach in reasonable number."""

from __future__ import annotations

import numpy as np

from genbench.metrics.base import metric
from genbench.targets.base import Target

MIN_SHARE = 0.2  # a region counts as covered at 20 % of the samples a perfect sampler puts there


@metric(
    "mode_coverage",
    ideal=1.0,
    description="fraction of the target's regions covered",
    label="mode coverage",
    short_label="modes",
    bounds=(0.0, 1.0),
    headline=True,
    practical_change=0.05,
)
def mode_coverage(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """Fraction of regions k with count_k >= MIN_SHARE · n · P_p(region k ∩ HDR).

    count_k is the number of ``samples`` (n, 2) that fall in region k *and* in the target's 99 %
    highest-density region, so points between modes do not cover anything. Deterministic:
    ``seed`` is accepted for a uniform metric signature and unused.
    """
    inside = samples[target.in_hdr(samples)]
    regions = target.region_of(inside)
    counts = np.bincount(regions[regions >= 0], minlength=len(target.region_names))
    expected = len(samples) * target.hdr_region_masses
    return float(np.mean(counts >= MIN_SHARE * expected))

"""Mode collapse as PacGAN (Lin et al. 2018) and VEEGAN (Srivastava et al. 2017) measure it.

On a target that is an equal-weight mixture of K isotropic Gaussians (it exposes ``means``
(K, 2) and ``std``: ``ring8``, ``grid25``, ``eight_gaussians``), a sample is *high quality* when
its Mahalanobis distance to the nearest mean, ‖x − μ‖ / std, is below 3, and it then sits on
that mean's mode. Three numbers follow, the columns of the papers' tables:

- ``high_quality``: the fraction of high-quality samples (the papers' percentage / 100);
- ``modes_captured``: the fraction of the K modes with at least one high-quality sample among
  2,500 samples (× K: the papers' count, "6.3 of 8");
- ``modes_kl``: KL(h ‖ uniform) = ln K − H(h), in nats, of the histogram h of the high-quality
  samples over the modes, on the same 2,500 samples (the papers' "reverse KL").

A perfect sampler puts P(χ²₂ < 9) = 1 − e^(−4.5) ≈ 0.9889 of its samples within 3 stds of
their mode, not all of them.

Targets without ``means`` and ``std`` (``gaussian``, ``spiral``) get the same three numbers
from the same idea stated without a mixture: a sample is high quality when it lies in the
target's highest-density region of that same mass 1 − e^(−4.5), its mode is its region
(``region_of``), and ``modes_kl`` compares the histogram with the share of that region's mass in
each region rather than with uniform. On an equal-weight mixture of well-separated isotropic
Gaussians this region is the union of the 3-std disks and the shares are uniform, the papers'
definition; on the standard Gaussian it is the 3-std disk.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from genbench.metrics.base import metric
from genbench.seeding import derive_seed
from genbench.targets.base import Target, as_points

QUALITY_RADIUS = 3.0  # a sample within 3 stds of its nearest mean is high quality (both papers)
QUALITY_MASS = 1 - math.exp(-(QUALITY_RADIUS**2) / 2)  # P(χ²₂ < 9) ≈ 0.9889: a perfect sampler
NUM_COUNTED = 2_500  # samples whose modes are counted, as in both papers
BLOCK = 65_536  # rows per nearest-mean search, so that (block, K, 2) stays near 26 MB at K = 25


def is_mixture(target: Target) -> bool:
    """Whether ``target`` exposes the ``means`` (K, 2) and ``std`` of an isotropic mixture."""
    return hasattr(target, "means") and hasattr(target, "std")


def mode_of(target: Target, samples: np.ndarray) -> np.ndarray:
    """The mode on which each of ``samples`` (n, 2) is a high-quality sample, (n,) int64; -1
    for a sample that is not high quality (see the module for the definition)."""
    samples = as_points(samples)
    if is_mixture(target):
        return _nearest_mode(np.asarray(target.means, dtype=np.float64), target.std, samples)
    level, _ = _quality_region(target)
    return np.where(target.log_prob(samples) >= level, target.region_of(samples), -1)


def mode_shares(target: Target) -> np.ndarray:
    """The share of a perfect sampler's high-quality samples on each mode, (K,); uniform on an
    equal-weight mixture."""
    if is_mixture(target):
        return np.full(len(target.means), 1 / len(target.means))
    return _quality_region(target)[1]


def _nearest_mode(means: np.ndarray, std: float, samples: np.ndarray) -> np.ndarray:
    modes = np.empty(len(samples), dtype=np.int64)
    for start in range(0, len(samples), BLOCK):
        block = samples[start : start + BLOCK]  # (b, 2)
        distance = np.linalg.norm(block[:, None, :] - means[None], axis=2) / std  # (b, K) in stds
        nearest = distance.argmin(axis=1)  # (b,)
        close = distance[np.arange(len(block)), nearest] < QUALITY_RADIUS
        modes[start : start + len(block)] = np.where(close, nearest, -1)
    return modes


@cache
def _quality_region(target: Target) -> tuple[float, np.ndarray]:
    """The level t with P_p(log p(X) >= t) = QUALITY_MASS, and the share of that region's mass
    in each of the target's regions, (K,); computed once per target."""
    level, masses = target.highest_density_region(QUALITY_MASS)
    return level, masses / masses.sum()


def mode_counts(target: Target, samples: np.ndarray, seed: int) -> np.ndarray:
    """High-quality samples on each mode, (K,), among NUM_COUNTED of ``samples`` (n, 2): a
    subset drawn without replacement from ``seed`` when n is larger, all of them otherwise."""
    if len(samples) > NUM_COUNTED:
        rng = np.random.default_rng(derive_seed(seed, "modes", "subset"))
        samples = samples[rng.choice(len(samples), NUM_COUNTED, replace=False)]
    modes = mode_of(target, samples)
    return np.bincount(modes[modes >= 0], minlength=len(mode_shares(target)))


@metric(
    "high_quality",
    ideal=QUALITY_MASS,
    description="fraction of samples within 3 stds of a mode (perfect: 0.989)",
    label="high-quality samples",
    short_label="HQ",
    bounds=(0.0, 1.0),
    default=False,
)
def high_quality(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """Fraction of ``samples`` (n, 2) within 3 stds of their nearest mean, ‖x − μ‖ / std < 3.

    A perfect sampler scores P(χ²₂ < 9) = 1 − e^(−4.5) ≈ 0.9889, not 1, and that is the ideal:
    1 means samples too tightly packed on the means, lower means samples between or off the
    modes. All n samples count (the fraction needs no subset). On a target without ``means``,
    the fraction in its highest-density region of mass 1 − e^(−4.5). Deterministic: ``seed``
    is accepted for a uniform metric signature and unused.
    """
    return float(np.mean(mode_of(target, samples) >= 0))


@metric(
    "modes_captured",
    ideal=1.0,
    description="fraction of modes with a high-quality sample among 2,500 (× K: the count)",
    label="modes captured",
    short_label="captured",
    bounds=(0.0, 1.0),
    default=False,
)
def modes_captured(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """Fraction of the K modes with at least one high-quality sample among 2,500 of ``samples``.

    The papers report the count, "6.3 of 8 modes"; it is this fraction × K (8 for ``ring8``,
    25 for ``grid25``). The fraction is reported instead so that the ideal, 1, is the same on
    every target. A perfect sampler captures every mode (it misses one of ``grid25``'s with
    probability 25·(1 − 0.9889/25)^2,500 ≈ 4e-43). The 2,500 are a subset drawn from ``seed``
    when n is larger; when n is smaller all n samples count, and fewer samples capture fewer
    modes, so the value is then not comparable with the papers'. On a target without
    ``means``, the fraction of its regions with a sample in its highest-density region of mass
    1 − e^(−4.5).
    """
    return float(np.mean(mode_counts(target, samples, seed) > 0))


@metric(
    "modes_kl",
    ideal=0.0,
    description="KL(mode histogram of high-quality samples ‖ uniform), nats, among 2,500",
    label="KL(modes ‖ uniform)",
    short_label="KL(modes)",
    unit="nats",
    scale="log",
    bounds=(0.0, math.inf),
    default=False,
)
def modes_kl(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """KL(h ‖ u) = Σₖ hₖ ln(hₖ / uₖ) = ln K − H(h), in nats, with 0 · ln 0 = 0.

    h is the histogram over the K modes of the high-quality samples among the same 2,500 of
    ``samples`` (n, 2) as :func:`modes_captured`, and u is uniform. It is ln K when every
    high-quality sample sits on one mode, ln K − ln m for an even split over m modes, and
    ln K as well when no sample is high quality (no histogram: scored as the worst one).

    A perfect sampler's histogram is multinomial, so its value is not 0 but about
    (K − 1) / (2m) for its m ≈ 2,472 high-quality samples (2m·KL is the G statistic, close to
    χ²_{K−1}): 0.0014 on ``ring8``, 0.0049 on ``grid25``; the oracle row shows that floor.
    On a target without ``means``, u is the share of its highest-density region of mass
    1 − e^(−4.5) in each of its regions, and the no-sample value is the largest, −ln minₖ uₖ.
    """
    counts = mode_counts(target, samples, seed)
    shares = mode_shares(target)
    if counts.sum() == 0:
        return float(-np.log(shares.min()))
    histogram = counts / counts.sum()
    on = histogram > 0
    return float(np.sum(histogram[on] * np.log(histogram[on] / shares[on])))

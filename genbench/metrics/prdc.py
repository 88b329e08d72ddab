"""Precision, recall, density and coverage of Naeem et al. (2020), with k-nearest-neighbour balls.

Every point gets a ball reaching to its k-th nearest neighbour within its own set. Real points
are fresh target draws, fake points the samples. On an image target both are compared in the
classifier's feature space (``Target.features``): real points are all of the held-out images,
fake points as many of the samples. Precision and density ask whether samples
land inside the real balls (fidelity), recall and coverage whether the real points are reached
by the samples (diversity); a sampler collapsed onto one typical point has perfect precision
and no recall. The four are computed together, once per (samples, target, seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import KDTree

from genbench.metrics.base import metric
from genbench.metrics.reference import ReferenceComparison
from genbench.targets.base import Target

K = 5  # neighbours that set each ball's radius, as recommended by Naeem et al.
# Nearest-neighbour trees make this O(n log n): 10,000 points per set take about 0.1 s on one
# CPU core. Larger sample sets are subsampled without replacement. An image target has fewer
# reference images (899 for digits), and as many samples are compared with them.
MAX_POINTS = 10_000
QUERY_ROWS = 512  # balls queried at once: bounds the memory of the neighbour lists
PERFECT_COVERAGE = 1 - 2.0**-K  # ≈ 0.969: a perfect sampler's coverage as n → ∞ (m = n)


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage of fake points against real ones."""

    precision: float  # fraction of fake points inside some real ball
    recall: float  # fraction of real points inside some fake ball
    density: float  # real balls holding a fake point, per fake point and per k; mean 1 if p = q
    coverage: float  # fraction of real balls holding at least one fake point


def _ball_radii(points: np.ndarray, tree: KDTree, k: int) -> np.ndarray:
    """Distance from each point (n, d) to its k-th nearest other point of its set, (n,)."""
    return tree.query(points, k=k + 1)[0][:, k]  # column 0 is the point itself


def _inside_some_ball(
    tree: KDTree, num_points: int, centres: np.ndarray, radii: np.ndarray
) -> np.ndarray:
    """Whether each of the ``num_points`` points in ``tree`` lies in at least one closed ball
    (centres[i], radii[i]), (num_points,) bool."""
    inside = np.zeros(num_points, dtype=bool)
    for start in range(0, len(centres), QUERY_ROWS):
        rows = slice(start, start + QUERY_ROWS)
        found = tree.query_radius(centres[rows], radii[rows])  # (rows,) arrays of indices
        inside[np.concatenate([*found, np.empty(0, dtype=np.intp)])] = True
    return inside


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, *, k: int = K) -> PRDC:
    """The four measures of Naeem et al. (2020) for ``real`` (m, d) and ``fake`` (n, d).

    With B(x, r) the closed ball of radius r around x, rᵢ the distance from realᵢ to its k-th
    nearest real neighbour and sⱼ that from fakeⱼ to its k-th nearest fake neighbour:

    - precision = 1/n Σⱼ 1[∃i: fakeⱼ ∈ B(realᵢ, rᵢ)]
    - recall = 1/m Σᵢ 1[∃j: realᵢ ∈ B(fakeⱼ, sⱼ)]
    - density = 1/(k·n) Σⱼ Σᵢ 1[fakeⱼ ∈ B(realᵢ, rᵢ)]
    - coverage = 1/m Σᵢ 1[∃j: fakeⱼ ∈ B(realᵢ, rᵢ)]

    If fake and real come from the same distribution and m = n, density is 1 on average and
    coverage 1 − 2^−k; precision and recall fall short of 1 only in the sparse tails.
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"prdc needs two sets of rows of one width, got {real.shape}, {fake.shape}"
        )
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"prdc needs more than k = {k} points per set")
    real_tree, fake_tree = KDTree(real), KDTree(fake)
    real_radii = _ball_radii(real, real_tree, k)  # (m,)
    fake_radii = _ball_radii(fake, fake_tree, k)  # (n,)
    fakes_per_real_ball = fake_tree.query_radius(real, real_radii, count_only=True)  # (m,)
    return PRDC(
        precision=float(np.mean(_inside_some_ball(fake_tree, len(fake), real, real_radii))),
        recall=float(np.mean(_inside_some_ball(real_tree, len(real), fake, fake_radii))),
        density=float(fakes_per_real_ball.sum() / (k * len(fake))),
        coverage=float(np.mean(fakes_per_real_ball > 0)),
    )


# computed once per scoring, read by each of the metrics below
_prdc = ReferenceComparison(
    "prdc",
    lambda reference, samples, seed: precision_recall_density_coverage(reference, samples),
)


@metric(
    "precision",
    ideal=1.0,
    description="k-NN precision: fraction of samples inside the target's k-NN balls",
    label="precision (k-NN)",
    short_label="prec",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
    kinds=("points", "images"),
)
def precision(
    target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS
) -> float:
    """Fraction of ``samples`` (n, 2) inside the k-NN ball (k = 5) of some fresh target draw
    (of some held-out image, in feature space, on an image target).

    Fidelity only: samples that all sit on one typical point score 1. A perfect sampler
    scores just under 1 (about 0.99 on the built-in targets). Sizes and cost: see :func:`density`.
    """
    return _prdc(target, samples, seed, size).precision


@metric(
    "recall",
    ideal=1.0,
    description="k-NN recall: fraction of target draws inside the samples' k-NN balls",
    label="recall (k-NN)",
    short_label="recall",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
    kinds=("points", "images"),
)
def recall(target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS) -> float:
    """Fraction of fresh target draws inside the k-NN ball (k = 5) of some sample.

    Diversity: a dropped mode of eight_gaussians lowers it by about 1/8. A perfect sampler
    scores just under 1 (about 0.99). Sizes and cost: see :func:`density`.
    """
    return _prdc(target, samples, seed, size).recall


@metric(
    "density",
    ideal=1.0,
    description="k-NN density: target k-NN balls holding each sample, per k (perfect: 1)",
    label="density (k-NN)",
    short_label="density",
    bounds=(0.0, math.inf),
    practical_change=0.05,
    default=False,
    kinds=("points", "images"),
)
def density(target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS) -> float:
    """Mean number of target draws' k-NN balls (k = 5) that hold a sample, divided by k.

    A perfect sampler scores 1 on average. It is not bounded by 1: samples crowded into the
    densest parts of the target, where many balls overlap, score above 1, and samples off
    the target below. Both sides have min(n, ``size``) points (10,000 by default): a seeded
    subset of the samples and as many fresh target draws; on an image target at most as many
    as it has held-out images, all of them by default, compared in feature space. The four
    PRDC metrics share one computation of about 0.1 s on one core at 10,000 points.
    """
    return _prdc(target, samples, seed, size).density


@metric(
    "coverage_prdc",
    ideal=PERFECT_COVERAGE,
    description="k-NN coverage: fraction of target k-NN balls holding a sample (perfect: 0.97)",
    label="coverage (k-NN)",
    short_label="cover",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
    kinds=("points", "images"),
)
def coverage_prdc(
    target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS
) -> float:
    """Fraction of fresh target draws whose k-NN ball (k = 5) holds at least one sample.

    Its ideal is a perfect sampler's value, 1 − 2^−5 ≈ 0.969, not 1: each ball holds 5 target
    draws, and the chance that none of as many samples falls nearer than the 5th of them
    tends to 2^−5. Unlike recall it is robust to outlying samples. A dropped mode of
    eight_gaussians lowers it by about 1/8. Sizes and cost: see :func:`density`.
    """
    return _prdc(target, samples, seed, size).coverage

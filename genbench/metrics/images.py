"""Metrics of image samples, read through the image target's classifier.

An image target has no density, so its samples are compared with its held-out images
(``Target.reference_sample``) as the classifier sees them, as FID and KID compare images
through Inception's features (Heusel et al. 2017; Bińkowski et al. 2018):

- ``fid`` and ``kid``: distances between the samples' features (``Target.features``) and the
  held-out images'; 0 for the same distribution of features (KID only in the mean).
- ``class_coverage`` and ``class_kl``: how the samples spread over the classes
  (``Target.region_of``, the classifier's predicted class); mode dropping in a form that reads.
- ``classifier_accuracy``: the classifier's accuracy on the held-out images, a diagnostic that
  every row carries so that a reader knows how far to trust the others.

A model trained on the training half and drawing it perfectly (the oracle) still scores a
little off the ideal: the classifier was trained on those images, so their features differ a
little from the held-out images', and the held-out half is finite (899 images for ``digits``).
The oracle's row is that floor. The samples are a seeded subset of at most ``MAX_SAMPLES``.
"""

from __future__ import annotations

import math

import numpy as np

from genbench.metrics.base import metric
from genbench.metrics.reference import as_samples, reference_size
from genbench.seeding import derive_seed
from genbench.targets.base import Target

MAX_SAMPLES = 10_000  # samples scored, at most: a seeded subset of larger sets
KID_SUBSETS = 10  # KID is the mean over this many pairs of random subsets
KID_SUBSET_SIZE = 1_000  # points per subset and side, at most (Bińkowski et al.'s choice)
# A class counts as covered at 20 % of the samples a perfect sampler puts there, as a region
# does for mode_coverage.
MIN_SHARE = 0.2


def _subset(samples: np.ndarray, seed: int, name: str) -> np.ndarray:
    """At most ``MAX_SAMPLES`` of ``samples``, drawn without replacement from ``seed``."""
    if len(samples) <= MAX_SAMPLES:
        return samples
    rng = np.random.default_rng(derive_seed(seed, name, "subsample"))
    return samples[rng.choice(len(samples), MAX_SAMPLES, replace=False)]


def _features(target: Target, samples: np.ndarray, seed: int, name: str) -> np.ndarray:
    """The features of (a subset of) ``samples`` (n, dim), and of all of the held-out images:
    ((n', d), (m, d))."""
    samples = _subset(as_samples(target, samples), seed, name)
    reference = target.reference_sample(int(reference_size(target)), derive_seed(seed, name))
    return target.features(samples), target.features(reference)


def _class_counts(target: Target, samples: np.ndarray, seed: int, name: str) -> np.ndarray:
    """How many of (a subset of) ``samples`` the classifier puts in each class, (K,)."""
    samples = _subset(as_samples(target, samples), seed, name)
    return np.bincount(target.region_of(samples), minlength=len(target.region_names))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite ``matrix`` (d, d),
    its rounding-error negative eigenvalues set to 0."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to ``x`` (m, d) and ``y`` (n, d):

        ‖μ_x − μ_y‖² + tr Σ_x + tr Σ_y − 2 tr (Σ_x^½ Σ_y Σ_x^½)^½,

    the squared 2-Wasserstein distance between N(μ_x, Σ_x) and N(μ_y, Σ_y). The last trace
    equals tr (Σ_x Σ_y)^½ and is computed by symmetric eigendecompositions, which stay real; a
    value below 0 by rounding is returned as 0. Identical sets score 0.
    """
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)  # (d, d)
    root_x = _psd_sqrt(cov_x)
    cross = np.linalg.eigvalsh(root_x @ cov_y @ root_x)  # eigenvalues of Σ_x Σ_y
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    distance = np.sum((mean_x - mean_y) ** 2) + np.trace(cov_x) + np.trace(cov_y)
    return max(float(distance - 2 * trace_root), 0.0)


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased estimate of MMD² between ``x`` (m, d) and ``y`` (n, d) with the cubic
    polynomial kernel k(a, b) = (aᵀb / d + 1)³:

        1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σᵢⱼ k(xᵢ, yⱼ).

    Its mean is the true MMD², so it can be negative when the distributions are equal or close.
    """
    m, n, dim = len(x), len(y), x.shape[1]
    if min(m, n) < 2:
        raise ValueError(f"kid needs at least 2 points per set, got {m} and {n}")
    within_x = (x @ x.T / dim + 1) ** 3  # (m, m)
    within_y = (y @ y.T / dim + 1) ** 3  # (n, n)
    between = (x @ y.T / dim + 1) ** 3  # (m, n)
    return float(
        (within_x.sum() - np.trace(within_x)) / (m * (m - 1))
        + (within_y.sum() - np.trace(within_y)) / (n * (n - 1))
        - 2 * between.mean()
    )


@metric(
    "fid",
    ideal=0.0,
    description="Fréchet distance between Gaussians fitted to the classifier features of the "
    "samples and of the held-out images",
    label="FID (classifier features)",
    short_label="FID",
    scale="log",
    bounds=(0.0, math.inf),
    headline=True,
    practical_change=0.2,
    kinds=("images",),
)
def fid(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """:func:`frechet_distance` between the features of ``samples`` (n, dim) and of all the
    held-out images. Gaussian fits see only means and covariances, and its estimate is biased
    upwards at finite sizes, so even real images score above 0 (see the module)."""
    sample_features, reference_features = _features(target, samples, seed, "fid")
    return frechet_distance(sample_features, reference_features)


@metric(
    "kid",
    ideal=0.0,
    description="kernel inception distance: unbiased MMD², cubic kernel on classifier features "
    "(can be below 0)",
    label="KID (classifier features)",
    short_label="KID",
    bounds=(-math.inf, math.inf),
    headline=True,
    # Unbiased, so the oracle scatters around 0 (±0.03 over seeds on digits), where FID has a
    # floor that depends on the sample size: it ranks the leaderboard of images.
    ranks=True,
    # a tenth of what dropping one digit of ten costs (about 0.5 on digits)
    practical_change=0.05,
    kinds=("images",),
)
def kid(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """The mean of :func:`polynomial_mmd2` over ``KID_SUBSETS`` pairs of seeded subsets of the
    features of ``samples`` (n, dim) and of the held-out images, min(n, m, 1,000) points each
    (m held-out images: 899 on ``digits``). A perfect sampler scores about 0, up to noise of
    either sign; one that drops a digit of ``digits`` about 0.5, uniform noise about 20. Costs
    about 0.3 s on one core."""
    sample_features, reference_features = _features(target, samples, seed, "kid")
    size = min(KID_SUBSET_SIZE, len(sample_features), len(reference_features))
    rng = np.random.default_rng(derive_seed(seed, "kid", "subsets"))
    values = [
        polynomial_mmd2(
            sample_features[rng.choice(len(sample_features), size, replace=False)],
            reference_features[rng.choice(len(reference_features), size, replace=False)],
        )
        for _ in range(KID_SUBSETS)
    ]
    return float(np.mean(values))


@metric(
    "class_coverage",
    ideal=1.0,
    description="fraction of the classes that receive at least 20 % of their share of the samples",
    label="class coverage",
    short_label="classes",
    bounds=(0.0, 1.0),
    headline=True,
    practical_change=0.05,
    kinds=("images",),
)
def class_coverage(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """Fraction of classes k with count_k >= MIN_SHARE · n · p_k, count_k the samples (n, dim)
    the classifier puts in class k and p_k the class's share of the held-out images. One
    image repeated scores 1/K (0.1 on ``digits``)."""
    counts = _class_counts(target, samples, seed, "class_coverage")
    return float(np.mean(counts >= MIN_SHARE * counts.sum() * target.region_masses))


@metric(
    "class_kl",
    ideal=0.0,
    description="KL of the samples' predicted classes to the uniform law over the classes, nats",
    label="KL(classes ‖ uniform)",
    short_label="class KL",
    unit="nats",
    scale="log",
    bounds=(0.0, math.inf),  # at most log K: log 10 on digits
    practical_change=0.2,
    kinds=("images",),
)
def class_kl(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """KL(h ‖ u) = Σ_k h_k log(K h_k) = log K − H(h), with h the share of ``samples``
    (n, dim) that the classifier puts in each of the K classes, u the uniform law, and
    0 log 0 = 0. One image repeated scores log K (ln 10 on ``digits``). A perfect sampler
    scores a little above 0: the classes are not exactly balanced (KL 0.0002 nats on
    ``digits``) and a finite histogram is never flat (about (K − 1)/(2n) more)."""
    counts = _class_counts(target, samples, seed, "class_kl")
    shares = counts[counts > 0] / counts.sum()
    return float(np.sum(shares * np.log(len(counts) * shares)))


@metric(
    "classifier_accuracy",
    ideal=None,
    description="accuracy of the image target's classifier on its held-out images "
    "(how far to trust the other image metrics)",
    label="classifier accuracy",
    short_label="clf acc.",
    bounds=(0.0, 1.0),
    kinds=("images",),
)
def classifier_accuracy(target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
    """The classifier's accuracy on the held-out images (``Target.classifier_accuracy``),
    the same for every run of a target; ``samples`` and ``seed`` are not read."""
    return target.classifier_accuracy

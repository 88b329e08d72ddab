"""Wasserstein distances against the Bures closed form and exact translations."""

import numpy as np
import pytest
from scipy.linalg import sqrtm

from genbench.metrics import w1, w2
from genbench.targets import get_target


def bures_w2(mean1, cov1, mean2, cov2):
    """W₂ between two Gaussians: ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₂^½ Σ₁ Σ₂^½)^½), square-rooted."""
    root2 = sqrtm(cov2)
    cross = sqrtm(root2 @ cov1 @ root2)
    squared = np.sum((mean1 - mean2) ** 2) + np.trace(cov1 + cov2 - 2 * cross).real
    return float(np.sqrt(squared))


@pytest.fixture(scope="module")
def gaussian():
    return get_target("gaussian")


@pytest.mark.parametrize(
    ("mean", "cov"),
    [
        (np.array([3.0, 0.0]), 4.0 * np.eye(2)),  # shifted and scaled
        (np.array([0.0, 1.0]), np.array([[3.0, 1.2], [1.2, 0.8]])),  # correlated
    ],
)
def test_w2_matches_bures_formula(gaussian, mean, cov):
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(mean, cov, size=2_000)
    expected = bures_w2(mean, cov, np.zeros(2), np.eye(2))
    assert w2(gaussian, draws) == pytest.approx(expected, rel=0.05)


def test_w1_of_a_translation_is_its_length(gaussian):
    draws = gaussian.sample(2_000, seed=1) + np.array([2.0, 0.0])
    assert w1(gaussian, draws) == pytest.approx(2.0, rel=0.05)


def test_wasserstein_bias_shrinks_as_n_grows(gaussian):
    def floor(n):
        return np.mean([w2(gaussian, gaussian.sample(n, seed=s), seed=s) for s in range(3)])

    assert floor(2_000) < floor(100)


def test_w1_never_exceeds_w2(gaussian):
    draws = gaussian.sample(1_000, seed=2) * 2 + 1
    assert w1(gaussian, draws) <= w2(gaussian, draws) * 1.02  # Jensen, up to subsample noise

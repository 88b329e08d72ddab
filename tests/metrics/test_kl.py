"""KL estimates against closed forms for Gaussians, smoothed by the metric's own kernel."""

import numpy as np
import pytest

from genbench.metrics import kl_forward, kl_reverse
from genbench.targets import get_target


def kl_isotropic(mean0, var0, mean1, var1, dim=2):
    """KL(N(mean0, var0·I) ‖ N(mean1, var1·I)) in closed form."""
    squared = np.sum((np.asarray(mean1) - np.asarray(mean0)) ** 2)
    return 0.5 * (dim * var0 / var1 + squared / var1 - dim + dim * np.log(var1 / var0))


@pytest.fixture(scope="module")
def gaussian():
    return get_target("gaussian")


def shifted_scaled(n, mean, scale, seed):
    return np.asarray(mean) + scale * np.random.default_rng(seed).standard_normal((n, 2))


def test_kl_forward_matches_closed_form(gaussian):
    # q = N(μ, s²I); its KDE tends to q * N(0, h²I) = N(μ, (s² + h²)I), so the estimate
    # converges to KL(N(0, I) ‖ N(μ, (s² + h²)I)).
    mean, scale, h2 = (0.5, 0.0), 1.5, gaussian.bandwidth**2
    expected = kl_isotropic((0, 0), 1.0, mean, scale**2 + h2)
    estimate = kl_forward(gaussian, shifted_scaled(20_000, mean, scale, seed=1))
    assert estimate == pytest.approx(expected, rel=0.05)


def test_kl_forward_error_shrinks_with_more_samples(gaussian):
    mean, scale = (0.5, 0.0), 1.5
    expected = kl_isotropic((0, 0), 1.0, mean, scale**2 + gaussian.bandwidth**2)

    def mean_error(n):
        draws = [shifted_scaled(n, mean, scale, seed=s) for s in range(3)]
        return np.mean(
            [abs(kl_forward(gaussian, d, seed=s) - expected) for s, d in enumerate(draws)]
        )

    assert mean_error(20_000) < mean_error(200) / 3


def test_kl_forward_vanishes_when_the_smoothed_sampler_is_the_target(gaussian):
    # q = N(0, (1 − h²)I) smoothed by the kernel is exactly N(0, I)
    draws = shifted_scaled(20_000, (0, 0), np.sqrt(1 - gaussian.bandwidth**2), seed=2)
    assert abs(kl_forward(gaussian, draws)) < 0.01


def test_kl_reverse_matches_closed_form(gaussian):
    # both sides smoothed by the same kernel: KL(N(μ, (s² + h²)I) ‖ N(0, (1 + h²)I))
    mean, scale, h2 = (1.0, -0.5), 0.7, gaussian.bandwidth**2
    expected = kl_isotropic(mean, scale**2 + h2, (0, 0), 1 + h2)
    estimate = kl_reverse(gaussian, shifted_scaled(20_000, mean, scale, seed=3))
    assert estimate == pytest.approx(expected, rel=0.05)


def test_kl_reverse_stays_finite_off_the_support():
    spiral = get_target("spiral")
    far = np.full((500, 2), 5.0)  # p = 0 there: an unsmoothed KL would be infinite
    value = kl_reverse(spiral, far)
    assert np.isfinite(value) and value > 100


def test_kl_is_deterministic_given_the_seed(gaussian):
    draws = shifted_scaled(2_000, (0, 0), 1.0, seed=4)
    assert kl_forward(gaussian, draws, seed=7) == kl_forward(gaussian, draws, seed=7)
    assert kl_reverse(gaussian, draws, seed=7) == kl_reverse(gaussian, draws, seed=7)
    assert kl_forward(gaussian, draws, seed=7) != kl_forward(gaussian, draws, seed=8)

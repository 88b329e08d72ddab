"""MMD² against closed forms (point masses, Gaussian mixtures, far-apart sets), its unbiasedness
for a perfect sampler, and its place among the opt-in metrics."""

import numpy as np
import pytest

from genbench.api import score
from genbench.metrics.base import default_metrics
from genbench.metrics.mmd import median_bandwidth, mmd2, mmd2_unbiased
from genbench.targets import get_target

FAR = 2 - 2 * np.exp(-0.5)  # sets a distance D apart, with the median bandwidth h = D


@pytest.fixture(scope="module")
def eight():
    return get_target("eight_gaussians")


@pytest.fixture(scope="module")
def gaussian():
    return get_target("gaussian")


def draws_from_modes(target, modes, n, seed):
    """``n`` draws from the equal-weight mixture of the target's ``modes``, (n, 2)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(modes, size=n)
    return target.means[chosen] + target.std * rng.standard_normal((n, 2))


def mixture_mmd2(target, modes_q, bandwidth):
    """Exact MMD² between equal-weight mixtures of the target's Gaussian modes: ``modes_q`` and
    all of them. For x ~ N(μ_a, s²I), y ~ N(μ_b, s²I) in 2-D,
    E exp(−‖x − y‖²/(2h²)) = h²/(h² + 2s²) · exp(−‖μ_a − μ_b‖²/(2(h² + 2s²)))."""
    spread = bandwidth**2 + 2 * target.std**2
    gaps = ((target.means[:, None] - target.means[None]) ** 2).sum(-1)  # (K, K)
    kernel = bandwidth**2 / spread * np.exp(-gaps / (2 * spread))
    q = np.zeros(target.num_modes)
    q[modes_q] = 1 / len(modes_q)
    p = np.full(target.num_modes, 1 / target.num_modes)
    return q @ kernel @ q + p @ kernel @ p - 2 * q @ kernel @ p


@pytest.mark.parametrize("bandwidth", [0.5, 1.0, 3.0])
def test_two_point_masses_give_the_closed_form(bandwidth):
    a, b = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    x, y = np.tile(a, (50, 1)), np.tile(b, (70, 1))
    expected = 2 - 2 * np.exp(-5.0 / (2 * bandwidth**2))  # ‖a − b‖² = 5
    assert mmd2_unbiased(x, y, bandwidth) == pytest.approx(expected, abs=1e-12)
    assert mmd2_unbiased(x, x, bandwidth) == pytest.approx(0.0, abs=1e-12)


def test_the_median_bandwidth_of_two_equal_point_masses_is_their_distance():
    x, y = np.zeros((300, 2)), np.tile([3.0, 4.0], (300, 1))
    assert median_bandwidth(x, y) == pytest.approx(5.0)


def test_a_dropped_mode_matches_the_mixture_closed_form(eight):
    # The mean of 10 independent estimates is compared with the exact value within 4 standard
    # errors of that mean: the estimator is unbiased also when p and q differ.
    seven = list(range(1, 8))
    estimates = [
        mmd2_unbiased(
            draws_from_modes(eight, seven, 1_000, seed=s),
            draws_from_modes(eight, list(range(8)), 1_000, seed=100 + s),
            bandwidth=1.0,
        )
        for s in range(10)
    ]
    error = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates) - mixture_mmd2(eight, seven, 1.0)) < 4 * error
    assert mixture_mmd2(eight, seven, 1.0) > 10 * error  # and the mode's loss is visible


def test_the_metric_sees_a_dropped_mode(eight):
    perfect = mmd2(eight, eight.sample(2_000, seed=1), seed=0)
    dropped = mmd2(eight, draws_from_modes(eight, list(range(1, 8)), 2_000, seed=1), seed=0)
    assert dropped > 0.002 > abs(perfect)  # 0.002: many null standard errors (below) at 2,000


def test_a_perfect_sampler_scores_zero_on_average_and_sometimes_below(gaussian):
    # Unbiased: the mean over seeds is 0 within 4 standard errors. The biased V-statistic would
    # sit 2(1 − E k(x, x'))/m ≈ 1e-3 above 0 here (E k ≈ 0.5 with the median bandwidth), which
    # is more than 4 of these standard errors: the test tells the two estimators apart.
    values = [mmd2(gaussian, gaussian.sample(1_000, seed=s), seed=s) for s in range(40)]
    error = np.std(values, ddof=1) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 4 * error < 8e-4
    assert min(values) < 0  # the unbiased estimate goes below 0; ideal stays 0


def test_far_apart_sets_score_the_median_heuristic_maximum(gaussian):
    # Shifted by D = 10,000, the median pairwise distance is D up to the sets' spread (about
    # 10), which moves k(far) = exp(−1/2) by ~1e-3 relative.
    far = gaussian.sample(1_000, seed=1) + 1e4 / np.sqrt(2)
    assert mmd2(gaussian, far, seed=0) == pytest.approx(FAR, abs=2e-3)


def test_it_grows_with_the_shift(gaussian):
    samples = gaussian.sample(1_000, seed=1)
    shifts = [np.array([shift, 0.0]) for shift in (0.0, 0.25, 0.5, 1.0)]
    values = [mmd2(gaussian, samples + shift, seed=0) for shift in shifts]
    assert values == sorted(values)
    assert values[1] > 0.002  # a quarter of a standard deviation is far above the noise


def test_same_seed_same_value_and_the_seed_matters(eight):
    samples = eight.sample(3_000, seed=2)
    subsampled = mmd2.function(eight, samples, seed=4, size=500)  # subset and draws both seeded
    assert mmd2.function(eight, samples, seed=4, size=500) == subsampled
    assert mmd2.function(eight, samples, seed=5, size=500) != subsampled


def test_it_is_opt_in(gaussian):
    samples = get_target("spiral").sample(300, seed=1)
    assert "mmd2" not in default_metrics()
    assert "mmd2" not in score("spiral", samples)
    assert np.isfinite(score("spiral", samples, metrics=["mmd2"])["mmd2"])


def test_too_few_points_is_one_clear_error():
    with pytest.raises(ValueError, match="at least 2 points"):
        mmd2_unbiased(np.zeros((1, 2)), np.ones((5, 2)), 1.0)

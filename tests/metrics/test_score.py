"""The full score, the oracle floor and input checks."""

import numpy as np
import pytest

from genbench.api import floor
from genbench.kde import log_kde
from genbench.metrics import MIN_SAMPLES, check_samples, score
from genbench.metrics.base import default_metrics
from genbench.registry import metrics
from genbench.targets import get_target

SPEC_COLUMNS = ["kl_forward", "kl_reverse", "w1", "w2", "mode_coverage", "negative_space"]


def test_the_spec_metrics_are_registered_in_spec_order():
    # plug-ins may add columns; the SPEC's come first, in its order
    assert metrics.available()[: len(SPEC_COLUMNS)] == SPEC_COLUMNS


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "spiral"])
def test_target_samples_score_at_the_oracle_floor(name):
    target = get_target(name)
    own = score(target, target.sample(5_000, seed=11), seed=3)
    oracle = floor(name, 5_000, seed=3)
    assert list(own) == list(oracle) == default_metrics()  # opt-in metrics only when asked
    assert own["mode_coverage"] == oracle["mode_coverage"] == 1.0
    assert own["negative_space"] == pytest.approx(0.01, abs=0.005)
    for column in ["kl_forward", "kl_reverse", "w1", "w2"]:
        assert own[column] < 2 * oracle[column] + 0.02


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "spiral"])
def test_a_collapsed_sampler_scores_far_worse_than_the_oracle(name):
    target = get_target(name)
    oracle = floor(name, 2_000, seed=0)
    collapsed = score(target, np.zeros((2_000, 2)) + target.sample(1, seed=1), seed=0)
    for column in ["kl_forward", "kl_reverse", "w1", "w2"]:
        assert collapsed[column] > 5 * oracle[column]
    assert collapsed["mode_coverage"] <= 1 / 8


def test_score_is_reproducible():
    target = get_target("spiral")
    samples = target.sample(1_000, seed=1) * 1.1
    assert score(target, samples, seed=4) == score(target, samples, seed=4)


def test_oracle_bias_shrinks_as_n_grows():
    small, large = floor("eight_gaussians", 300, seed=0), floor("eight_gaussians", 5_000, seed=0)
    for column in ["kl_forward", "kl_reverse", "w1", "w2"]:
        assert large[column] < small[column]


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (np.zeros((500, 3)), r"shape \(n, 2\)"),
        (np.zeros(500), r"shape \(n, 2\)"),
        (np.zeros((MIN_SAMPLES - 1, 2)), "at least 100 samples"),
        (np.array([["a", "b"]] * 200), "must be numbers"),
        (
            np.vstack([np.zeros((150, 2)), [[np.nan, 0.0]]]),
            "NaN or infinite values in 1 of 151 rows",
        ),
        (np.vstack([np.zeros((150, 2)), [[0.0, np.inf]]]), "first at row 150"),
    ],
)
def test_bad_samples_are_refused_with_a_clear_message(samples, message):
    with pytest.raises(ValueError, match=message):
        check_samples(samples)


def test_log_kde_matches_a_direct_sum():
    rng = np.random.default_rng(0)
    points, data, h = rng.normal(size=(50, 2)), rng.normal(size=(70, 2)), 0.3
    squared = ((points[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    direct = np.log(np.mean(np.exp(-squared / (2 * h * h)), axis=1) / (2 * np.pi * h * h))
    np.testing.assert_allclose(log_kde(points, data, h), direct, rtol=1e-10)

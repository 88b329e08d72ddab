"""Precision, recall, density and coverage on planted sample sets with known answers: identical
sets, the target's own samples, disjoint sets, a dropped mode, a collapsed sampler, and samples
narrower and wider than the target."""

import math

import numpy as np
import pytest

import genbench.metrics.prdc as prdc_module
from genbench.api import score
from genbench.metrics.base import default_metrics
from genbench.metrics.prdc import (
    PERFECT_COVERAGE,
    K,
    coverage_prdc,
    density,
    precision,
    precision_recall_density_coverage,
    recall,
)
from genbench.targets import get_target
from genbench.targets.eight_gaussians import EightGaussians

NAMES = ["precision", "recall", "density", "coverage_prdc"]
NUM_SAMPLES = 2_000
# Precision and recall of a perfect sampler miss only points in the sparse tails, outside every
# 5-NN ball of the other set: about 1 % in 2-D at these sizes. 0.97 leaves three times that.
HIGH = 0.97


def expected_coverage(n, k=K):
    """A perfect sampler's mean coverage with n real and n fake points (Naeem et al., 2020):
    1 − Π_{i=1..k} (n − i)/(2n − i), the chance that a real ball's k real neighbours are all
    nearer than the nearest fake point; 1 − 2^−k as n → ∞."""
    return 1 - math.prod((n - i) / (2 * n - i) for i in range(1, k + 1))


@pytest.fixture(scope="module")
def eight():
    return get_target("eight_gaussians")


def all_four(target, samples):
    return {
        "precision": precision(target, samples),
        "recall": recall(target, samples),
        "density": density(target, samples),
        "coverage_prdc": coverage_prdc(target, samples),
    }


def test_identical_sets_are_precise_recalled_and_covered_exactly():
    points = np.random.default_rng(0).normal(size=(500, 2))
    scores = precision_recall_density_coverage(points, points.copy())
    # every point lies in its own ball (at distance 0)
    assert (scores.precision, scores.recall, scores.coverage) == (1.0, 1.0, 1.0)
    # Each ball holds its centre and the k − 1 nearer neighbours, and the k-th one on its
    # boundary or not as rounding falls: k to k + 1 copies per ball, so density is above 1.
    assert 1.0 <= scores.density <= 1 + 1 / K


def test_the_targets_own_samples_score_near_the_perfect_values(eight):
    scores = all_four(eight, eight.sample(NUM_SAMPLES, seed=1))
    assert scores["precision"] > HIGH and scores["recall"] > HIGH
    assert scores["density"] == pytest.approx(1.0, abs=0.1)  # mean 1; ±10 % covers the noise
    # coverage is an average of 2,000 weakly dependent indicators of probability 0.03:
    # standard error ~0.004, so 0.02 is five of them
    assert scores["coverage_prdc"] == pytest.approx(expected_coverage(NUM_SAMPLES), abs=0.02)
    assert expected_coverage(10**9) == pytest.approx(PERFECT_COVERAGE)


def test_disjoint_sets_score_zero(eight):
    shifted = eight.sample(NUM_SAMPLES, seed=1) + 10 * eight.plot_range
    assert all_four(eight, shifted) == dict.fromkeys(NAMES, 0.0)


def test_a_dropped_mode_lowers_recall_and_coverage_by_an_eighth(eight):
    own = all_four(eight, eight.sample(NUM_SAMPLES, seed=1))
    draws = eight.sample(2 * NUM_SAMPLES, seed=1)
    seven = draws[eight.region_of(draws) != 0][:NUM_SAMPLES]  # samples from 7 of the 8 modes
    dropped = all_four(eight, seven)
    # the dropped mode holds 1/8 of the target draws, and none of them is recalled or covered
    assert dropped["recall"] == pytest.approx(7 / 8 * own["recall"], abs=0.03)
    assert dropped["coverage_prdc"] == pytest.approx(7 / 8 * own["coverage_prdc"], abs=0.03)
    assert dropped["precision"] > HIGH  # every sample is still realistic
    assert dropped["density"] == pytest.approx(1.0, abs=0.1)


def test_a_collapsed_sampler_is_precise_but_recalls_and_covers_nothing(eight):
    collapsed = np.tile(eight.means[2], (NUM_SAMPLES, 1))  # every sample on one mode's centre
    scores = all_four(eight, collapsed)
    assert scores["precision"] == 1.0  # fidelity only: the point itself is realistic
    assert scores["recall"] == 0.0  # the samples' balls have radius 0
    assert scores["coverage_prdc"] < 0.01  # only the balls that reach the one point


def test_narrow_samples_trade_recall_for_precision_and_wide_ones_the_reverse(eight):
    narrow = all_four(eight, EightGaussians(std=eight.std / 4).sample(NUM_SAMPLES, seed=1))
    assert narrow["precision"] > HIGH  # every sample near a mode's centre is realistic
    # but the balls of the modes' outer parts hold none: within 2.5 narrow standard deviations
    # of the centres lie only 1 − exp(−(2.5/4)²/2) ≈ 18 % of the target draws
    assert narrow["recall"] < 0.5 and narrow["coverage_prdc"] < 0.5
    wide = all_four(eight, EightGaussians(std=2 * eight.std).sample(NUM_SAMPLES, seed=1))
    assert wide["recall"] > HIGH  # the wide samples' balls reach every target draw
    assert wide["precision"] < 0.9 and wide["density"] < 0.9  # but many samples land between


def test_same_seed_same_value_and_the_seed_matters(eight):
    samples = eight.sample(3_000, seed=2)
    first = coverage_prdc.function(eight, samples, seed=4, size=1_000)  # subset and draws
    prdc_module._prdc.clear()  # recompute rather than read back the stored result
    assert coverage_prdc.function(eight, samples, seed=4, size=1_000) == first
    assert coverage_prdc.function(eight, samples, seed=5, size=1_000) != first


def test_they_are_opt_in():
    samples = get_target("spiral").sample(300, seed=1)
    assert not set(NAMES) & set(default_metrics())
    assert not set(NAMES) & set(score("spiral", samples))
    values = score("spiral", samples, metrics=NAMES)
    assert all(0 <= values[name] <= 1 for name in NAMES if name != "density")
    assert values["density"] >= 0


def test_too_few_points_is_one_clear_error():
    with pytest.raises(ValueError, match="more than k = 5 points"):
        precision_recall_density_coverage(np.zeros((5, 2)), np.ones((50, 2)))

"""The classifier two-sample test on planted sample sets: the target's own samples, disjoint
sets and a dropped mode, whose Bayes-optimal accuracy and AUC are known in closed form."""

import numpy as np
import pytest

import genbench.metrics.c2st as c2st_module
from genbench.api import score
from genbench.metrics.base import default_metrics
from genbench.metrics.c2st import c2st, c2st_auc
from genbench.targets import get_target

# Samples from 7 of the 8 equal modes: q = 8/7·p off the dropped mode, 0 on it. The Bayes
# classifier is right everywhere except where p and q overlap, so its accuracy is
# 1/2 + TV(p, q)/2 = 1/2 + 1/16, and its AUC is the same: a draw from the dropped mode (1/8 of
# p) always ranks below the samples, every other pair ties.
BAYES_DROPPED_MODE = 0.5 + 1 / 16


def chance_margin(metric, n):
    """Four standard errors of the metric for two indistinguishable sets of ``n`` points each:
    an accuracy over 2n held-out points has 0.5/√(2n); the AUC (Mann-Whitney) has
    √((2n + 1)/(12n²))."""
    error = 0.5 / np.sqrt(2 * n) if metric is c2st else np.sqrt((2 * n + 1) / (12 * n**2))
    return 4 * error


@pytest.fixture(scope="module")
def eight():
    return get_target("eight_gaussians")


def drop_mode(target, n, seed):
    """``n`` of the target's own samples that avoid its first mode, (n, 2)."""
    draws = target.sample(2 * n, seed)
    return draws[target.region_of(draws) != 0][:n]


@pytest.mark.parametrize("metric", [c2st, c2st_auc])
def test_the_targets_own_samples_score_chance(metric, eight):
    value = metric(eight, eight.sample(1_000, seed=1), seed=0)
    assert value == pytest.approx(0.5, abs=chance_margin(metric, 1_000))


@pytest.mark.parametrize("metric", [c2st, c2st_auc])
def test_disjoint_sets_are_told_apart(metric, eight):
    shifted = eight.sample(1_000, seed=1) + 10 * eight.plot_range
    assert metric(eight, shifted, seed=0) > 0.99


@pytest.mark.parametrize("metric", [c2st, c2st_auc])
def test_a_dropped_mode_rises_above_chance_up_to_the_bayes_limit(metric, eight):
    n = c2st_module.MAX_POINTS  # the most points the metric uses: its full power
    value = metric(eight, drop_mode(eight, n, seed=1), seed=0)
    margin = chance_margin(metric, n)
    assert 0.5 + margin < value < BAYES_DROPPED_MODE + margin


def test_same_seed_same_value_and_the_seed_matters(eight):
    samples = eight.sample(2_000, seed=2)
    first = c2st.function(eight, samples, seed=4, size=400)  # subset, draws, folds, network
    c2st_module._scores.clear()  # recompute rather than read back the stored result
    assert c2st.function(eight, samples, seed=4, size=400) == first
    assert c2st.function(eight, samples, seed=5, size=400) != first


def test_scores_of_one_sample_set_against_two_targets_are_kept_apart(eight):
    samples = eight.sample(400, seed=3)
    assert c2st(eight, samples, seed=0) < 0.6
    assert c2st(get_target("spiral"), samples, seed=0) > 0.9  # not the cached eight_gaussians


def test_it_is_opt_in():
    samples = get_target("spiral").sample(300, seed=1)
    assert not {"c2st", "c2st_auc"} & set(default_metrics())
    assert "c2st" not in score("spiral", samples)
    values = score("spiral", samples, metrics=["c2st", "c2st_auc"])
    assert 0 <= values["c2st"] <= 1 and 0 <= values["c2st_auc"] <= 1

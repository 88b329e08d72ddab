"""The contract of every registered metric, plug-ins included, on every registered target of a
kind it scores (``Metric.kinds``).

A metric returns a finite float that the same samples and seed reproduce; the target's own
samples score within the metric's bounds and nearer its ideal value than clearly wrong samples;
and its metadata, which the leaderboard, the terminal table and the figures read, is complete.
"""

import functools
import math

import numpy as np
import pytest

from genbench.leaderboard import RANK_METRIC
from genbench.metrics import Metric, ranking_metric
from genbench.registry import metrics, targets
from genbench.targets import get_target
from genbench.targets.base import KINDS

NUM_SAMPLES = 2_000  # enough that a perfect sampler's 1 % of negative space is 20 ± 4 points
METRICS = metrics.available()
# Metrics of samples alone; those that read a trained model's density (``uses_model``) or the
# training set (``uses_training``) have their own tests (test_exact_kl.py, test_memorisation.py)
SAMPLE_METRICS = [
    name
    for name in METRICS
    if not metrics.get(name).uses_model and not metrics.get(name).uses_training
]
# Fidelity-only metrics judge where each sample lands, not how the samples spread: samples all
# on one typical point of the target land where it has mass and score at (precision) or near
# (density) the ideal. Collapse is tested where it shows, on recall and coverage (test_prdc.py).
FIDELITY_ONLY = {"precision", "density"}


@pytest.fixture(scope="module", params=targets.available())
def target(request):
    return get_target(request.param)


def scored(name, target):
    """Skip unless metric ``name`` scores targets of ``target``'s kind."""
    if target.kind not in metrics.get(name).kinds:
        pytest.skip(f"{name} does not score targets of kind {target.kind!r} ({target.name})")


def own_samples(target):
    """The target's own samples: a perfect sampler's, (NUM_SAMPLES, dim)."""
    return target.sample(NUM_SAMPLES, seed=5)


@functools.cache
def own_score(name, target):
    """Metric ``name`` of the target's own samples, computed once per target."""
    return metrics.get(name)(target, own_samples(target), seed=3)


def wrong_samples(target, kind):
    """Samples that miss the target entirely, (NUM_SAMPLES, dim)."""
    if kind == "shifted":  # the right shape, 10 plot ranges away along both axes
        return own_samples(target) + 10 * target.plot_range
    # every sample on one typical point of the target
    return np.repeat(target.sample(1, seed=6), NUM_SAMPLES, axis=0)


@pytest.mark.parametrize("name", SAMPLE_METRICS)
def test_value_is_a_finite_float_that_the_same_seed_reproduces(name, target):
    scored(name, target)
    value = own_score(name, target)
    assert isinstance(value, float) and math.isfinite(value)
    assert metrics.get(name)(target, own_samples(target), seed=3) == value


@pytest.mark.parametrize("kind", ["shifted", "collapsed"])
@pytest.mark.parametrize("name", SAMPLE_METRICS)
def test_target_samples_score_within_bounds_and_nearer_the_ideal_than_wrong_ones(
    name, kind, target
):
    scored(name, target)
    if kind == "collapsed" and name in FIDELITY_ONLY:
        pytest.skip(f"{name} measures fidelity only: collapsed samples are realistic ones")
    metric = metrics.get(name)
    low, high = metric.bounds
    right = own_score(name, target)
    assert low <= right <= high
    if metric.diagnostic:
        return  # no value of a diagnostic is nearer an ideal than another: only its bounds
    wrong = metric(target, wrong_samples(target, kind), seed=3)
    assert abs(right - metric.ideal) < abs(wrong - metric.ideal)


@pytest.mark.parametrize("name", METRICS)
def test_metadata_is_complete_and_consistent(name):
    metric = metrics.get(name)
    assert isinstance(metric, Metric)
    assert metric.name == name  # the registry key is the results column
    assert all(isinstance(text, str) and text for text in [metric.description, metric.label])
    assert isinstance(metric.short_label, str) and metric.short_label
    assert metric.scale in {"log", "linear"}
    low, high = metric.bounds
    assert low < high and (metric.diagnostic or low <= metric.ideal <= high)
    if metric.scale == "log":  # a log axis and a log-normal interval need positive values
        assert low >= 0
    assert isinstance(metric.headline, bool) and isinstance(metric.ranks, bool)


@pytest.mark.parametrize("kind", KINDS)
def test_exactly_one_metric_ranks_the_leaderboard_of_each_kind(kind):
    ranking = [
        name for name in METRICS if metrics.get(name).ranks and kind in metrics.get(name).kinds
    ]
    assert len(ranking) == 1
    assert ranking_metric(kind).name == ranking[0]
    if kind == "points":
        assert ranking[0] == RANK_METRIC


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scale": "sqrt"}, "scale must be one of"),
        ({"bounds": (1.0, 0.0)}, "are empty"),
        ({"ideal": 2.0}, "outside"),
        ({"scale": "log", "bounds": (-1.0, 1.0)}, "cannot be negative"),
        ({"ideal": None, "headline": True}, "a diagnostic"),
        ({"ideal": None, "practical_change": 0.1}, "a diagnostic"),
    ],
)
def test_inconsistent_metadata_is_refused_where_it_is_declared(change, message):
    declared = {
        "name": "share",
        "function": lambda target, samples, *, seed=0: 0.5,
        "ideal": 1.0,
        "description": "a share",
        "label": "share",
        "short_label": "share",
        "bounds": (0.0, 1.0),
    }
    with pytest.raises(ValueError, match=message):
        Metric(**(declared | change))

"""``memorisation``: P(a sample is nearer the training set than a fresh target draw), with
planted answers (copies, fresh draws, blurred copies, a far-off blob), a brute-force check of
the rank computation, and how it asks for its training set."""

import math

import numpy as np
import pytest

from genbench.api import score
from genbench.metrics import Metric, metric
from genbench.metrics.base import default_metrics
from genbench.metrics.memorisation import MAX_FRESH, memorisation
from genbench.registry import metrics
from genbench.seeding import derive_seed
from genbench.targets import get_target

NUM_TRAINING = 1_000
NUM_SAMPLES = 4_000  # the standard error of a perfect sampler's value is about 0.006


@pytest.fixture(scope="module", params=["gaussian", "eight_gaussians", "spiral"])
def target(request):
    return get_target(request.param)


@pytest.fixture(scope="module")
def training(target):
    return target.sample(NUM_TRAINING, seed=11)


def resampled(points, num_samples, seed=0):
    """``num_samples`` rows of ``points``, uniformly with replacement."""
    return points[np.random.default_rng(seed).integers(0, len(points), num_samples)]


def test_copies_of_the_training_set_score_1(target, training):
    assert memorisation(target, training, training=training) == 1.0
    copies = resampled(training, NUM_SAMPLES)
    assert memorisation(target, copies, training=training, seed=2) >= 0.99


def test_copies_with_a_little_noise_still_score_near_1(target, training):
    # a kernel density estimate with a tiny bandwidth: blobs around the training points
    wiggle = 1e-3 * target.plot_range
    near = resampled(training, NUM_SAMPLES) + wiggle * np.random.default_rng(1).normal(
        size=(NUM_SAMPLES, 2)
    )
    assert memorisation(target, near, training=training) > 0.9


def test_fresh_target_draws_score_one_half(target, training):
    fresh = target.sample(NUM_SAMPLES, seed=12)  # independent of the training set
    assert memorisation(target, fresh, training=training, seed=3) == pytest.approx(0.5, abs=0.05)


def test_blurred_copies_score_below_one_half(target, training):
    # the training points, each moved by noise of half the plot range: farther than new data
    blurred = resampled(training, NUM_SAMPLES) + 0.5 * target.plot_range * np.random.default_rng(
        2
    ).normal(size=(NUM_SAMPLES, 2))
    assert memorisation(target, blurred, training=training) < 0.4


def test_a_far_off_blob_scores_0(target, training):
    blob = 10 * target.plot_range + np.random.default_rng(3).normal(size=(NUM_SAMPLES, 2))
    assert memorisation(target, blob, training=training) == 0.0


def test_it_is_the_pairwise_probability_with_ties_counting_one_half():
    target = get_target("gaussian")
    rng = np.random.default_rng(4)
    training = rng.normal(size=(30, 2))
    # some samples copy training points (distance 0), the rest are anywhere
    samples = np.concatenate([training[:10], rng.normal(size=(140, 2))])
    # the metric's own fresh draws, and the distances, by brute force
    fresh = target.sample(len(samples), derive_seed(7, "memorisation"))

    def nearest(points):
        return np.linalg.norm(points[:, None] - training[None], axis=2).min(axis=1)

    generated, new = nearest(samples)[:, None], nearest(fresh)[None, :]
    expected = np.mean(generated < new) + 0.5 * np.mean(generated == new)
    assert memorisation(target, samples, training=training, seed=7) == pytest.approx(expected)
    # samples that are the fresh draws themselves: each sample ties with its own draw, and only
    # with ties counting one half is that exactly 0.5
    assert memorisation(target, fresh, training=training, seed=7) == pytest.approx(0.5)


def test_fresh_draws_are_capped_and_seeded(target, training):
    many = target.sample(MAX_FRESH + 500, seed=13)
    value = memorisation(target, many, training=training, seed=5)
    assert memorisation(target, many, training=training, seed=5) == value
    assert memorisation(target, many, training=training, seed=6) != value
    assert 0.0 <= value <= 1.0


def test_its_metadata():
    declared = metrics.get("memorisation")
    assert declared.ideal == 0.5 and declared.bounds == (0.0, 1.0)
    assert declared.scale == "linear" and declared.short_label == "memo."
    assert not declared.default and declared.uses_training and not declared.uses_model
    assert "memorisation" not in default_metrics()


def test_it_needs_the_training_set():
    target = get_target("gaussian")
    samples = target.sample(500, seed=1)
    with pytest.raises(ValueError, match="needs the training set"):
        metrics.get("memorisation")(target, samples)
    with pytest.raises(ValueError, match="pass training="):
        score("gaussian", samples, metrics=["memorisation"])
    assert "memorisation" not in score("gaussian", samples)  # opt-in: not asked, not needed
    asked = score("gaussian", samples, metrics=["memorisation"], training=samples)
    assert asked["memorisation"] == 1.0


def test_a_bad_training_set_is_refused_with_a_clear_message():
    samples = get_target("gaussian").sample(500, seed=1)
    for bad, message in [
        (np.zeros((1, 2)), "at least 2 training points"),
        (np.zeros((10, 3)), r"training points must have shape \(n, 2\)"),
        (np.full((10, 2), np.nan), "training points contain NaN"),
    ]:
        with pytest.raises(ValueError, match=message):
            score("gaussian", samples, metrics=["memorisation"], training=bad)


def test_a_training_set_metric_must_be_opt_in_and_cannot_rank():
    def nearness(target, samples, *, seed=0, training):
        return 0.5

    with pytest.raises(ValueError, match="must be opt-in"):
        Metric("x", nearness, 0.5, "d", "x", "x", uses_training=True)
    with pytest.raises(ValueError, match="ranking metric"):
        Metric("x", nearness, 0.5, "d", "x", "x", ranks=True, default=False, uses_training=True)


def test_a_plug_in_metric_gets_the_training_set():
    def mean_training_distance(target, samples, *, seed=0, training):
        return float(np.linalg.norm(samples.mean(0) - training.mean(0)))

    metric(
        "training_offset",
        ideal=0.0,
        description="distance between the sample mean and the training mean",
        label="training offset",
        short_label="Δμ(T)",
        bounds=(0.0, math.inf),
        default=False,
        uses_training=True,
    )(mean_training_distance)
    try:
        samples = get_target("gaussian").sample(500, seed=1)
        shifted = samples + np.array([1.0, 0.0])
        values = score("gaussian", samples, metrics=["training_offset"], training=shifted)
    finally:
        metrics._entries.pop("training_offset", None)
    assert values["training_offset"] == pytest.approx(1.0)

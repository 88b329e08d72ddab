"""The metrics of images on ``digits``, with planted answers: real images against the held-out
ones, one image repeated, two digits only, uniform noise, copies of the training half, and a
conditional "model" that returns held-out images of the class it is asked for."""

import math

import numpy as np
import pytest

from genbench.metrics import score
from genbench.metrics.base import default_metrics, ranking_metric
from genbench.metrics.images import (
    class_coverage,
    class_kl,
    classifier_accuracy,
    fid,
    frechet_distance,
    kid,
    polynomial_mmd2,
)
from genbench.metrics.label_fidelity import label_fidelity
from genbench.metrics.memorisation import memorisation
from genbench.metrics.prdc import coverage_prdc, precision, recall
from genbench.targets import get_target

NUM_SAMPLES = 5_000
# KID of real images scatters around 0 by about ±0.03 over seeds at these sizes (the classifier
# was trained on the training half, which adds little); uniform noise scores about 20.
KID_TOLERANCE = 0.15
FID_OF_REAL = 3.0  # real images score about 1 (finite held-out half); noise about 150


@pytest.fixture(scope="module")
def target():
    return get_target("digits")


@pytest.fixture(scope="module")
def real(target):
    """Training images, as a perfect sampler (the oracle) draws them, (NUM_SAMPLES, 64)."""
    return target.sample(NUM_SAMPLES, seed=1)


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(0).uniform(-1, 1, size=(NUM_SAMPLES, 64))


def of_classes(target, classes, count):
    """``count`` training images of each of ``classes`` that the classifier puts in that
    class, in turn, (len(classes)·count, 64)."""
    predicted = target.region_of(target.train_images)
    rng = np.random.default_rng(0)
    return np.concatenate(
        [target.train_images[rng.choice(np.flatnonzero(predicted == k), count)] for k in classes]
    )


def test_the_image_metrics_are_the_defaults_of_images_and_kid_ranks():
    assert default_metrics("images") == [
        "fid",
        "kid",
        "class_coverage",
        "class_kl",
        "classifier_accuracy",
    ]
    assert ranking_metric("images").name == "kid"
    assert "fid" not in default_metrics("points")


def test_frechet_distance_of_identical_shifted_and_scaled_sets():
    x = np.random.default_rng(1).normal(size=(500, 4)) @ np.diag([1.0, 2.0, 0.5, 3.0])
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    shift = np.array([1.0, -2.0, 0.0, 0.5])
    assert frechet_distance(x, x + shift) == pytest.approx(np.sum(shift**2), rel=1e-9)
    # N(μ, Σ) against N(μ, 4Σ): tr Σ + 4 tr Σ − 2·2 tr Σ = tr Σ
    centred = x - x.mean(axis=0)
    trace = np.trace(np.cov(centred, rowvar=False))
    assert frechet_distance(centred, 2 * centred) == pytest.approx(trace, rel=1e-9)


def test_polynomial_mmd_of_two_point_masses():
    a, b = np.array([1.0, 2.0]), np.array([-1.0, 0.5])
    x, y = np.tile(a, (7, 1)), np.tile(b, (9, 1))
    k = lambda u, v: (u @ v / 2 + 1) ** 3  # noqa: E731
    assert polynomial_mmd2(x, y) == pytest.approx(k(a, a) + k(b, b) - 2 * k(a, b), rel=1e-12)
    assert polynomial_mmd2(x, x) == pytest.approx(0.0, abs=1e-9)


def test_real_images_score_near_the_floor(target, real):
    assert abs(kid(target, real, seed=0)) < KID_TOLERANCE
    assert 0 < fid(target, real, seed=0) < FID_OF_REAL
    assert class_coverage(target, real) == 1.0
    assert 0 < class_kl(target, real) < 0.01  # a finite histogram is never quite flat


def test_uniform_noise_scores_far_from_the_floor(target, noise):
    assert kid(target, noise, seed=0) > 20 * KID_TOLERANCE
    assert fid(target, noise, seed=0) > 20 * FID_OF_REAL


def test_metrics_are_reproducible_from_the_seed(target, real):
    assert kid(target, real, seed=4) == kid(target, real, seed=4)
    assert fid(target, real, seed=4) == fid(target, real, seed=4)


def test_one_repeated_image_covers_one_class_of_ten(target, real):
    one = np.repeat(real[:1], NUM_SAMPLES, axis=0)
    assert class_coverage(target, one) == pytest.approx(0.1)
    assert class_kl(target, one) == pytest.approx(math.log(10), abs=1e-9)
    assert kid(target, one) > 20 * KID_TOLERANCE


def test_two_digits_in_equal_numbers(target):
    two = of_classes(target, [3, 7], 400)
    assert class_coverage(target, two) == pytest.approx(0.2)
    assert class_kl(target, two) == pytest.approx(math.log(5), abs=1e-9)  # log 10 − log 2


def test_a_missing_digit_is_missed(target):
    nine = of_classes(target, [k for k in range(10) if k != 4], 300)
    assert class_coverage(target, nine) == pytest.approx(0.9)


def test_classifier_accuracy_is_the_targets(target, real):
    assert classifier_accuracy(target, real) == target.classifier_accuracy >= 0.97


def test_images_of_the_wrong_shape_are_refused(target):
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        fid(target, np.zeros((200, 2)))


def test_the_held_out_images_themselves_have_perfect_precision_recall_and_coverage(target):
    # compared in feature space with the held-out images, all of them: the very same points
    held_out = target.held_out_images
    assert precision(target, held_out) == recall(target, held_out) == 1.0
    assert coverage_prdc(target, held_out) == 1.0


def test_prdc_tells_real_images_from_noise(target, real, noise):
    assert precision(target, real) > 0.9 and recall(target, real) > 0.85
    assert precision(target, noise) < 0.5 and recall(target, noise) < 0.5


def test_copies_of_the_training_half_are_memorised(target):
    training = target.training_points
    assert memorisation(target, training, training=training) == 1.0
    # held-out images are the new data memorisation compares with: exactly one half
    assert memorisation(target, target.held_out_images, training=training) == 0.5


class HeldOutByClass:
    """A planted conditional "model": for label k, held-out images of class k (``faithful``)
    or of any class."""

    conditional = True

    def __init__(self, target, faithful):
        self.target, self.faithful = target, faithful

    def sample_given(self, labels, seed):
        rng = np.random.default_rng(seed)
        classes = self.target.held_out_labels
        if self.faithful:
            rows = [rng.choice(np.flatnonzero(classes == k)) for k in labels]
        else:
            rows = rng.integers(0, len(classes), size=len(labels))
        return self.target.held_out_images[rows]


def test_label_fidelity_of_a_conditional_model_of_images(target):
    faithful = label_fidelity(target, np.empty((0, 64)), model=HeldOutByClass(target, True))
    assert faithful >= 0.97
    ignoring = label_fidelity(target, np.empty((0, 64)), model=HeldOutByClass(target, False))
    assert ignoring == pytest.approx(0.1, abs=0.02)


def test_score_reads_the_image_metrics_of_an_image_target(target, real):
    scores = score(target, real, extra=["precision"])
    assert list(scores) == [*default_metrics("images"), "precision"]
    assert scores["kid"] == kid(target, real)

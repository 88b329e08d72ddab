"""``digits``: the split of the bundled images, the draws, the reference set and the classifier
that the image metrics read."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from genbench.registry import targets
from genbench.targets import Digits, get_target
from genbench.targets import digits as digits_module
from genbench.targets.digit_classifier import FEATURE_DIM

NUM_IMAGES = 1_797
NUM_TRAIN, NUM_HELD_OUT = 898, 899


@pytest.fixture(scope="module")
def target():
    return get_target("digits")


def sorted_rows(x):
    """The rows of ``x`` (n, d) in lexicographic order: a multiset of rows, comparable."""
    return x[np.lexsort(x.T[::-1])]


def test_it_is_a_registered_image_target(target):
    assert targets.get("digits") is Digits and target.kind == "images"
    assert target.dim == 64 and target.image_shape == (8, 8)
    assert target.params() == {"size": 8, "split_seed": 0}


def test_the_halves_split_the_scaled_images_and_nothing_else(target):
    assert target.train_images.shape == (NUM_TRAIN, 64)
    assert target.held_out_images.shape == (NUM_HELD_OUT, 64)
    both = np.concatenate([target.train_images, target.held_out_images])
    assert both.dtype == np.float64 and both.min() == -1.0 and both.max() == 1.0
    # a partition: together the halves are the 1,797 images, pixels 0..16 scaled to x/8 − 1
    bundled = load_digits().data / 8 - 1
    np.testing.assert_array_equal(sorted_rows(both), sorted_rows(bundled))
    assert len(np.unique(both, axis=0)) == NUM_IMAGES  # the bundled images are all distinct


def test_the_split_is_stratified_by_class(target):
    train = np.bincount(target.train_labels, minlength=10)
    held_out = np.bincount(target.held_out_labels, minlength=10)
    assert np.abs(train - held_out).max() <= 1
    np.testing.assert_array_equal(target.region_masses, held_out / NUM_HELD_OUT)


def test_the_split_is_reproducible_by_seed_and_differs_between_seeds(target):
    again = digits_module._split.__wrapped__(8, 0)  # computed afresh, not read from the cache
    np.testing.assert_array_equal(again.train_images, target.train_images)
    np.testing.assert_array_equal(again.held_out_labels, target.held_out_labels)
    other = Digits(split_seed=1)
    assert not np.array_equal(sorted_rows(other.train_images), sorted_rows(target.train_images))
    assert other.fingerprint != target.fingerprint
    assert Digits().fingerprint == target.fingerprint


def test_the_halves_cannot_be_changed_by_a_caller(target):
    with pytest.raises(ValueError, match="read-only"):
        target.train_images[0, 0] = 0.0


def test_draws_are_training_images_reproducible_from_the_seed(target):
    draws = target.sample(500, seed=3)
    assert draws.shape == (500, 64) and draws.dtype == np.float64
    matches = (draws[:, None, :] == target.train_images[None, :, :]).all(axis=2)  # (500, 898)
    assert matches.any(axis=1).all()
    np.testing.assert_array_equal(draws, target.sample(500, seed=3))
    assert not np.array_equal(draws, target.sample(500, seed=4))
    np.testing.assert_array_equal(target.training_points, target.train_images)


def test_the_reference_is_the_held_out_half(target):
    every = target.reference_sample(NUM_HELD_OUT, seed=1)  # all of them, each once
    np.testing.assert_array_equal(sorted_rows(every), sorted_rows(target.held_out_images))
    some = target.reference_sample(100, seed=1)
    assert len(np.unique(some, axis=0)) == 100  # without replacement
    np.testing.assert_array_equal(some, target.reference_sample(100, seed=1))
    more = target.reference_sample(2_000, seed=1)  # with replacement beyond the 899
    assert more.shape == (2_000, 64)
    assert len(np.unique(more, axis=0)) <= NUM_HELD_OUT


def test_the_16_by_16_images_upsample_the_8_by_8_ones():
    large, small = Digits(size=16), Digits(size=8)
    assert large.dim == 256 and large.image_shape == (16, 16)
    assert large.sample(10, seed=0).shape == (10, 256)
    images = large.train_images
    assert images.min() >= -1.0 and images.max() <= 1.0
    # bilinear zoom keeps the corner pixels, and the split, which depends on the labels only
    corners = images.reshape(-1, 16, 16)[:, ::15, ::15]
    np.testing.assert_allclose(corners, small.train_images.reshape(-1, 8, 8)[:, ::7, ::7])


def test_a_size_other_than_8_or_16_is_refused():
    with pytest.raises(ValueError, match="size must be one of"):
        Digits(size=12)


def test_the_classifier_is_right_on_at_least_97_percent_of_the_held_out_images(target):
    assert target.classifier_accuracy >= 0.97
    predicted = target.region_of(target.held_out_images)
    assert predicted.dtype == np.int64 and set(predicted) <= set(range(10))
    assert target.classifier_accuracy == np.mean(predicted == target.held_out_labels)
    assert target.region_names == tuple("0123456789")


def test_the_16_by_16_classifier_is_as_good():
    assert Digits(size=16).classifier_accuracy >= 0.97


def test_the_classifier_is_trained_deterministically(target):
    again = digits_module._classifier.__wrapped__(8, 0)  # trained afresh, not read from the cache
    images = target.held_out_images
    np.testing.assert_array_equal(again.features(images), target.features(images))


def test_features_are_the_penultimate_layer_of_the_images(target):
    features = target.features(target.sample(300, seed=0))
    assert features.shape == (300, FEATURE_DIM) and features.dtype == np.float64
    assert (features >= 0).all()  # after a ReLU
    assert target.features(np.empty((0, 64))).shape == (0, FEATURE_DIM)
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        target.features(np.zeros((10, 2)))


def test_it_has_no_density(target):
    x = target.sample(3, seed=0)
    with pytest.raises(NotImplementedError, match="no known density"):
        target.log_prob(x)
    with pytest.raises(NotImplementedError, match="highest-density"):
        target.in_hdr(x)
    with pytest.raises(NotImplementedError, match="highest-density"):
        _ = target.hdr_region_masses

"""``TrainingSet``: N draws of a target fixed by a seed, resampled with replacement, and the
target itself in every other respect (what adapters and metrics read of it)."""

import copy
import pickle

import numpy as np
import pytest

from genbench.models.gan import GAN
from genbench.models.nn import Standardizer
from genbench.registry import targets
from genbench.seeding import derive_seed
from genbench.targets import get_target
from genbench.targets.training import TrainingSet

NUM_POINTS = 25


# train_points is for the 2-D targets: an image target trains on its own training half
@pytest.fixture(
    scope="module",
    params=[name for name in targets.available() if targets.get(name).kind == "points"],
)
def target(request):
    return get_target(request.param)


def rows_of(points, training):
    """Whether every row of ``points`` (n, 2) is a row of ``training.points``."""
    matches = (points[:, None, :] == training.points[None, :, :]).all(axis=2)  # (n, N)
    return bool(matches.any(axis=1).all())


def test_it_holds_the_run_seeds_draws_of_the_target(target):
    training = TrainingSet(target, NUM_POINTS, seed=3)
    assert training.points.shape == (NUM_POINTS, 2)
    expected = target.sample(NUM_POINTS, derive_seed(3, "training-set"))
    np.testing.assert_array_equal(training.points, expected)


def test_its_samples_are_rows_of_the_fixed_points(target):
    training = TrainingSet(target, NUM_POINTS, seed=0)
    samples = training.sample(2_000, seed=1)
    assert samples.shape == (2_000, 2)
    assert rows_of(samples, training)
    # with replacement: 2,000 draws of 25 points repeat them, 80 times each on average
    assert len(np.unique(samples, axis=0)) == NUM_POINTS
    np.testing.assert_array_equal(training.sample(300, seed=1), training.sample(300, seed=1))
    assert not np.array_equal(training.sample(300, seed=1), training.sample(300, seed=2))


def test_the_same_seed_gives_the_same_set_and_other_seeds_other_sets(target):
    first, again = TrainingSet(target, NUM_POINTS, seed=0), TrainingSet(target, NUM_POINTS, seed=0)
    np.testing.assert_array_equal(first.points, again.points)
    other = TrainingSet(target, NUM_POINTS, seed=1)
    assert not np.isin(other.points, first.points).all(axis=1).any()  # not one point shared


def test_everything_else_is_the_target(target):
    training = TrainingSet(target, NUM_POINTS, seed=0)
    assert training.name == target.name and str(training) == str(target)
    assert training.fingerprint == target.fingerprint
    assert training.params() == target.params()
    assert training.plot_range == target.plot_range and training.bandwidth == target.bandwidth
    assert training.population is target and target.population is target
    x = target.sample(500, seed=9)
    np.testing.assert_array_equal(training.log_prob(x), target.log_prob(x))
    np.testing.assert_array_equal(training.region_of(x), target.region_of(x))
    np.testing.assert_array_equal(training.in_hdr(x), target.in_hdr(x))
    assert training.region_names == target.region_names
    np.testing.assert_array_equal(training.region_masses, target.region_masses)
    assert training.hdr_threshold == target.hdr_threshold
    np.testing.assert_array_equal(training.hdr_region_masses, target.hdr_region_masses)


def test_a_targets_own_parameters_are_read_through():
    ring = get_target("ring8")
    training = TrainingSet(ring, NUM_POINTS, seed=0)
    np.testing.assert_array_equal(training.means, ring.means)
    assert training.std == ring.std
    with pytest.raises(AttributeError):
        training.no_such_attribute  # noqa: B018


def test_a_models_standardisation_is_the_targets():
    target = get_target("eight_gaussians")
    own = Standardizer.of_target(target)
    # three points far from the target's mean and scale: the scaling must not follow them
    trained_on = Standardizer.of_target(TrainingSet(target, 3, seed=0))
    assert np.array_equal(own.mean, trained_on.mean) and own.scale == trained_on.scale


@pytest.mark.parametrize(("name", "prior"), [("gaussian", "uniform"), ("spiral", "normal")])
def test_the_gan_picks_its_prior_by_the_targets_name(name, prior):
    gan = GAN(latent_dim=2, generator_width=8, discriminator_width=8, batch_size=8)
    gan.fit(TrainingSet(get_target(name), NUM_POINTS, seed=0), 2, 0)
    assert gan.prior_.kind == prior


def test_it_copies_and_pickles():
    training = TrainingSet(get_target("spiral"), NUM_POINTS, seed=0)
    for clone in [copy.deepcopy(training), pickle.loads(pickle.dumps(training))]:
        np.testing.assert_array_equal(clone.points, training.points)
        assert clone.name == "spiral"


def test_it_needs_points():
    with pytest.raises(ValueError, match="positive integer"):
        TrainingSet(get_target("gaussian"), 0, seed=0)

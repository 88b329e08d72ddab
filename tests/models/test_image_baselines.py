"""The classical baselines on images: PCA + a Gaussian mixture, and a Bayesian network over the
pixels of the digits."""

import numpy as np
import pytest

from genbench.models.baselines import PCAGMM
from genbench.models.bayesnet import BayesNet
from genbench.targets import get_target


@pytest.fixture(scope="module")
def digits():
    return get_target("digits")


@pytest.fixture(scope="module")
def pca_gmm(digits):
    return PCAGMM(latent_dim=10, max_components=4).fit(digits, 2000, seed=0)


def test_pca_gmm_samples_are_images_of_the_targets_range(pca_gmm, digits):
    samples = pca_gmm.sample(500, seed=1)
    assert samples.shape == (500, digits.dim) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    np.testing.assert_array_equal(samples, pca_gmm.sample(500, seed=1))
    assert not np.array_equal(samples, pca_gmm.sample(500, seed=2))


def test_pca_gmm_lives_in_its_latent_subspace(pca_gmm):
    # before clipping, every sample is the mean plus a combination of the 10 components
    assert pca_gmm.components_.shape == (10, 64)
    codes = pca_gmm.sample(300, seed=3) - pca_gmm.pixel_mean_
    unclipped = np.abs(pca_gmm.sample(300, seed=3)).max(axis=1) < 1
    inside = codes[unclipped] @ pca_gmm.components_.T @ pca_gmm.components_
    np.testing.assert_allclose(inside, codes[unclipped], atol=1e-5)


def test_pca_gmm_draws_digits_the_classifier_recognises(pca_gmm, digits):
    labels = digits.region_of(pca_gmm.sample(2000, seed=4))
    shares = np.bincount(labels, minlength=10) / len(labels)
    assert (shares > 0.03).all()  # every class drawn; a uniform draw gives 0.1 each


def test_pca_gmm_caps_its_latent_size_at_the_pixel_count(digits):
    model = PCAGMM(latent_dim=100, max_components=1).fit(digits, 2000, seed=0)
    assert model.components_.shape == (64, 64)


def test_a_bayesian_network_over_the_pixels_learns_their_dependencies(digits):
    # floor 0: no broad Gaussian, whose share of the samples would be noise images
    network = BayesNet(bins=4, floor=0).fit(digits, 2000, seed=0)
    assert len(network.edges_) == 64  # one variable per pixel
    assert len(network.edge_list) >= 20  # neighbouring strokes depend on each other
    samples = network.sample(2000, seed=1)
    assert samples.shape == (2000, 64)
    assert samples.min() >= -1.2 and samples.max() <= 1.2  # the span and its 5 % margins
    # its samples follow the pixels' dependencies: a pixel pair's correlation in the training
    # images is kept, where independent pixels (no edges) would lose it
    training = digits.train_images
    pairs = [(a, b) for b, a in network.edge_list]
    real = np.array([np.corrcoef(training[:, a], training[:, b])[0, 1] for a, b in pairs])
    drawn = np.array([np.corrcoef(samples[:, a], samples[:, b])[0, 1] for a, b in pairs])
    assert np.nanmean(np.abs(drawn - real)) < 0.15
    assert np.nanmean(np.abs(real)) > 0.3

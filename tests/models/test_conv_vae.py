"""The convolutional VAE on the digits: its bound and its rate, and that a short training draws
digits of every class and, conditioned, of the class asked for (the model protocol for images is
in ``test_contract.py``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from genbench.metrics.images import kid
from genbench.models import get_model_class
from genbench.models.conv_vae import ConvVAE
from genbench.registry import models
from genbench.targets import Digits, get_target

SMALL = dict(width=16, latent_dim=10, batch_size=64, log_prob_samples=8)  # a few ms a step
TINY_STEPS = 20
SHORT_STEPS = 400


@pytest.fixture(scope="module")
def digits():
    return get_target("digits")


@pytest.fixture(scope="module")
def trained(digits) -> ConvVAE:
    return ConvVAE(**SMALL).fit(digits, SHORT_STEPS, seed=0)


@pytest.fixture(scope="module")
def conditional(digits) -> ConvVAE:
    model = ConvVAE(**SMALL, conditional=True, label_input="concat", kl_warmup=0)
    return model.fit(digits, SHORT_STEPS, seed=0)


def test_is_registered_as_an_image_family_with_a_bound():
    assert get_model_class("conv_vae") is ConvVAE and "conv_vae" in models.available()
    assert ConvVAE.kinds == ("images",)
    assert ConvVAE.has_log_prob and ConvVAE.log_prob_is_bound


@pytest.mark.parametrize("name", ["trained", "conditional"])
def test_save_load_round_trip(name, request, tmp_path, digits):
    model = request.getfixturevalue(name)
    model.save(tmp_path / "conv_vae.pt")
    loaded = ConvVAE.load(tmp_path / "conv_vae.pt")
    assert loaded.params() == model.params()
    assert (loaded.image_height, loaded.image_width) == (8, 8)
    np.testing.assert_array_equal(loaded.sample(300, seed=2), model.sample(300, seed=2))
    images = digits.held_out_images[:20]
    np.testing.assert_array_equal(loaded.log_prob(images), model.log_prob(images))
    if model.conditional:
        labels = np.arange(10).repeat(5)
        np.testing.assert_array_equal(
            loaded.sample_given(labels, seed=2), model.sample_given(labels, seed=2)
        )


def test_a_bad_configuration_is_refused(digits):
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvVAE(image_height=6, image_width=8)
    with pytest.raises(ValueError, match="built for 16×16"):  # a shape set must be the target's
        ConvVAE(**SMALL, image_height=16, image_width=16).fit(digits, TINY_STEPS, 0)
    with pytest.raises(ValueError, match="sphere"):
        ConvVAE(latent_dim=1, prior="sphere")
    with pytest.raises(ValueError, match="beta"):
        ConvVAE(beta=0)


def test_a_short_training_reconstructs_and_draws_every_class(trained, digits):
    untrained = ConvVAE(**SMALL).fit(digits, 0, seed=0)
    held_out = digits.held_out_images
    # seed 0: 91 nats per image untrained, −31 after 400 steps (a density over 64 pixels can
    # exceed 1); seeds 1 to 4: 86 to 93, then −31 to −33
    assert trained.rate_distortion(held_out)[1] < untrained.rate_distortion(held_out)[1] - 80
    samples = trained.sample(2000, seed=0)
    # the untrained model's noise spreads over the classes too, but is far from any digit:
    # seed 0, KID 14.6 untrained, 5.6 trained (seeds 1 to 4: 3.5 to 5.8, against 13.7 to 17.7)
    assert kid(digits, samples) < 0.6 * kid(digits, untrained.sample(2000, seed=0))
    shares = np.bincount(digits.region_of(samples), minlength=10) / len(samples)
    assert (shares >= 0.03).sum() >= 8  # seeds 0 to 4: all 10 classes, each 5.8 % or more


def test_log_prob_is_a_bound_that_tightens_with_more_draws(trained, digits):
    images = digits.held_out_images[:200]
    bound = trained.log_prob(images)
    assert bound.shape == (200,) and bound.dtype == np.float64 and np.isfinite(bound).all()
    elbo = dataclasses.replace(trained, log_prob_samples=1)
    elbo.encoder_, elbo.decoder_ = trained.encoder_, trained.decoder_
    assert bound.mean() > elbo.log_prob(images).mean()
    rate, distortion = trained.rate_distortion(images, seed=0)
    assert rate > 0 and elbo.log_prob(images).mean() == pytest.approx(-(rate + distortion), abs=2)


def test_rate_grows_as_beta_falls(digits):
    def rate(beta: float) -> float:
        model = ConvVAE(**SMALL, beta=beta).fit(digits, 150, seed=0)
        return model.rate_distortion(digits.held_out_images[:300])[0]

    # seed 0: 26 nats at beta 0.1, 0.4 at beta 4 (seeds 1 to 4: 25 to 26, 0.5 to 0.7)
    assert rate(0.1) > 5 * rate(4.0)


def test_conditional_samples_are_of_the_class_asked_for(conditional, digits):
    labels = np.arange(10).repeat(100)  # one label at a time, as label fidelity draws them
    hits = digits.region_of(conditional.sample_given(labels, seed=0)) == labels
    # chance: 0.1; seed 0 hits 0.93 (seeds 1 to 4: 0.91 to 0.95, no label below 0.77)
    assert hits.mean() >= 0.7
    x = conditional.sample(200, seed=0)
    assert x.shape == (200, 64) and x.min() >= -1 and x.max() <= 1


def test_a_conditional_model_needs_labels_and_only_it(trained, conditional, digits):
    images = digits.held_out_images[:50]
    with pytest.raises(ValueError, match="conditional"):
        trained.sample_given(np.zeros(3, dtype=int), seed=0)
    with pytest.raises(ValueError, match="region indices"):
        conditional.sample_given(np.array([0, 10]), seed=0)
    with pytest.raises(ValueError, match="labels"):
        conditional.rate_distortion(images)
    with pytest.raises(ValueError, match="labels"):
        trained.rate_distortion(images, labels=digits.label_of(images))
    rate, distortion = conditional.rate_distortion(images, labels=digits.label_of(images))
    assert np.isfinite(rate) and np.isfinite(distortion)
    assert np.isfinite(conditional.log_prob(images)).all()


@pytest.mark.parametrize("name", ["trained", "conditional"])
def test_interpolates_between_two_codes(name, request):
    model = request.getfixturevalue(name)
    assert ConvVAE.interpolates
    paths = model.interpolate(3, 5, seed=0)
    assert paths.shape == (3, 5, 64) and paths.dtype == np.float32
    assert np.isfinite(paths).all() and paths.min() >= -1 and paths.max() <= 1
    np.testing.assert_array_equal(paths, model.interpolate(3, 5, seed=0))
    assert not np.allclose(paths[:, 0], paths[:, -1])  # the two ends are different codes
    steps = np.abs(np.diff(paths, axis=1)).mean()
    assert steps < np.abs(paths[:, -1] - paths[:, 0]).mean()  # each step is part of the way


@pytest.mark.parametrize(
    "overrides",
    [
        dict(latent_dim=1),
        dict(latent_dim=100),
        dict(latent_dim=2, prior="uniform"),
        dict(latent_dim=3, prior="sphere"),
        dict(latent_dim=1, conditional=True, label_input="product"),
    ],
)
def test_latent_sizes_priors_and_label_inputs_run(overrides, digits):
    model = ConvVAE(**{**SMALL, **overrides}).fit(digits, TINY_STEPS, 0)
    x = model.sample(100, seed=0)
    assert x.shape == (100, 64) and np.isfinite(x).all()
    assert np.isfinite(model.log_prob(digits.held_out_images[:10])).all()


def test_learns_16_by_16_images():
    digits16 = Digits(size=16)
    model = ConvVAE(**SMALL).fit(digits16, TINY_STEPS, 0)
    x = model.sample(50, seed=0)
    assert x.shape == (50, 256) and np.isfinite(x).all()
    assert (model.image_height, model.image_width) == (16, 16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_conditional_vae_runs_on_cuda(tmp_path, digits):
    model = ConvVAE(**SMALL, device="cuda", conditional=True).fit(digits, TINY_STEPS, 0)
    x = model.sample(300, seed=0)
    assert x.dtype == np.float32 and x.shape == (300, 64) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(300, seed=0), x)
    model.save(tmp_path / "model.pt")
    on_cpu = ConvVAE.load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(300, seed=0).shape == (300, 64)

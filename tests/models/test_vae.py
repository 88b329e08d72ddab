"""The VAE's bound on log q(x) behaves like one, and samples are the full generative model."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.models.vae import VAE
from genbench.targets import get_target

SMALL = dict(width=64, depth=2, lr=3e-3)


@pytest.fixture(scope="module")
def trained() -> VAE:
    return VAE(latent_dim=2, **SMALL).fit(get_target("eight_gaussians"), 400, 0)


def test_elbo_improves_with_training(trained):
    x = get_target("eight_gaussians").sample(2000, seed=1)
    barely = VAE(latent_dim=2, **SMALL).fit(get_target("eight_gaussians"), 5, 0)
    assert trained.log_prob(x).mean() > barely.log_prob(x).mean() + 0.25


def test_bound_tightens_with_importance_samples(trained):
    x = get_target("eight_gaussians").sample(2000, seed=1)
    elbo = VAE(**{**trained.params(), "log_prob_samples": 1})
    elbo.encoder_, elbo.decoder_ = trained.encoder_, trained.decoder_
    elbo.standardizer_ = trained.standardizer_
    assert trained.log_prob(x).mean() > elbo.log_prob(x).mean()


def test_bound_is_below_the_targets_log_density_on_average(trained):
    # Gibbs: E_p[log q] <= E_p[log p], and a bound is below log q.
    target = get_target("eight_gaussians")
    x = target.sample(5000, seed=2)
    assert trained.log_prob(x).mean() < target.log_prob(x).mean()


def test_samples_include_decoder_noise():
    # With a 1-D latent the decoder means lie on a curve; p(x | z) must fill in the second
    # dimension, so samples of the whole model spread in every direction.
    model = VAE(latent_dim=1, **SMALL).fit(get_target("gaussian"), 200, 0)
    x = model.sample(5000, seed=0)
    assert np.linalg.eigvalsh(np.cov(x.T)).min() > 0.2

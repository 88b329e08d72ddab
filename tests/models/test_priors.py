"""Latent priors: the GAN draws z from normal, uniform or spherical noise, and the VAE's decoder
reads its latent through the fixed map that turns N(0, I) into each of those laws."""

import numpy as np
import pytest
import torch
from scipy import stats

from genbench.models.gan import LatentPrior
from genbench.models.vae import LATENT_MAPS, VAE
from genbench.targets import get_target
from tests.models.tiny import tiny_fit, tiny_model

N = 20000
P_MIN = 1e-4  # per KS test: two dozen of them, so a right law fails one about 0.2 % of the time


def gan_draws(kind: str, latent_dim: int) -> np.ndarray:
    prior = LatentPrior(latent_dim, uniform=kind == "uniform", sphere=kind == "sphere")
    return prior.sample(N, torch.Generator().manual_seed(0)).numpy()


def vae_draws(kind: str, latent_dim: int) -> np.ndarray:
    u = torch.randn(N, latent_dim, generator=torch.Generator().manual_seed(0))
    return LATENT_MAPS[kind](u).numpy()


@pytest.mark.parametrize("draws", [gan_draws, vae_draws])
def test_each_prior_has_its_stated_law(draws):
    normal, uniform, sphere = (draws(kind, 3) for kind in ("normal", "uniform", "sphere"))
    for d in range(3):
        assert stats.kstest(normal[:, d], "norm").pvalue > P_MIN
        assert stats.kstest(uniform[:, d], "uniform").pvalue > P_MIN  # U[0, 1)
        # on S², each coordinate is uniform on [−1, 1] (Archimedes' hat-box theorem)
        assert stats.kstest(sphere[:, d], "uniform", args=(-1, 2)).pvalue > P_MIN
    np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), 1.0, rtol=1e-5)
    circle = draws("sphere", 2)  # on S¹ the angle is uniform
    angle = np.arctan2(circle[:, 1], circle[:, 0])
    assert stats.kstest(angle, "uniform", args=(-np.pi, 2 * np.pi)).pvalue > P_MIN
    assert set(np.unique(draws("sphere", 1))) == {-1.0, 1.0}  # S⁰: two points


@pytest.mark.parametrize("prior", ["normal", "uniform", "sphere"])
def test_a_gan_with_each_prior_trains_alone_and_stacked(prior):
    model = tiny_fit("gan", latent_dim=3, prior=prior)
    assert model.prior_.kind == prior
    assert np.isfinite(model.sample(100, seed=0)).all()
    stack = type(model).fit_many(
        [tiny_model("gan", latent_dim=3, prior=prior) for _ in range(2)],
        [get_target("gaussian"), get_target("spiral")],
        5,
        [0, 1],
    )
    assert [m.prior_.kind for m in stack] == [prior, prior]  # "auto" alone depends on the target


@pytest.mark.parametrize("prior", ["uniform", "sphere"])
def test_a_vae_decodes_through_its_prior(prior):
    model = tiny_fit("vae", latent_dim=3, prior=prior)
    plain = VAE(**{**model.params(), "prior": "normal"})  # the same networks, no map
    plain.encoder_, plain.decoder_ = model.encoder_, model.decoder_
    z = torch.randn(5, 3)
    torch.testing.assert_close(model._decode(z), plain._decode(LATENT_MAPS[prior](z)))
    assert np.isfinite(model.sample(100, seed=0)).all()
    assert np.isfinite(model.log_prob(get_target("eight_gaussians").sample(50, seed=1))).all()


def test_an_unknown_prior_is_refused():
    with pytest.raises(ValueError, match="prior"):
        tiny_model("vae", prior="cube")
    with pytest.raises(ValueError, match="prior"):
        tiny_model("gan", prior="cube")


def test_the_vae_refuses_the_sphere_of_a_one_dimensional_latent():
    """On S⁰ = {±1} the map is sign(u): no gradient would reach the encoder."""
    with pytest.raises(ValueError, match="latent_dim >= 2"):
        tiny_model("vae", latent_dim=1, prior="sphere")
    tiny_model("gan", latent_dim=1, prior="sphere")  # the GAN needs no gradient through z

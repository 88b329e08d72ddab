"""Tiny hyperparameters that make every registered model train in a fraction of a second, on
2-D points and on images."""

from __future__ import annotations

from typing import Any

from genbench.models import GenerativeModel, get_model_class
from genbench.targets import get_target

# Per family: the smallest networks that still exercise every code path on 2-D points. A plug-in
# model not listed here is tested with its defaults.
TINY: dict[str, dict[str, Any]] = {
    "gan": dict(generator_width=16, discriminator_width=16, batch_size=64),
    "vae": dict(width=16, depth=1, batch_size=64, log_prob_samples=8),
    "realnvp": dict(num_couplings=4, width=16, depth=1, batch_size=64),
    "ddpm": dict(
        width=16,
        depth=1,
        time_embedding_dim=8,
        input_frequencies=4,
        batch_size=64,
        num_timesteps=50,
    ),
    "fm": dict(
        width=16,
        depth=1,
        time_embedding_dim=8,
        input_frequencies=4,
        batch_size=64,
        sampling_steps=4,
        likelihood_steps=4,
    ),
    "gmm": dict(max_components=3, restarts=1),
    "pacgan": dict(generator_width=16, discriminator_width=16, batch_size=64),
    "kde": dict(candidates=3, folds=2),
    "bayesnet": dict(bins=8),
}
TINY_STEPS = 20

# The same on the 8 × 8 digits.
TINY_IMAGES: dict[str, dict[str, Any]] = {
    "dcgan": dict(width=16, latent_dim=10, batch_size=64),
    "conv_vae": dict(width=16, latent_dim=10, batch_size=64, log_prob_samples=8),
    "ddpm_unet": dict(width=8, batch_size=16, num_timesteps=50, sampling_steps=5),
    "fm_unet": dict(width=8, batch_size=16, sampling_steps=4),
    "pca_gmm": dict(latent_dim=5, max_components=2),
    "bayesnet": dict(bins=4),
}
TINY_IMAGE_STEPS = 10


def tiny_model(name: str, *, kind: str = "points", **overrides: Any) -> GenerativeModel:
    """An untrained model ``name`` with the tiny hyperparameters of ``kind`` (and
    ``overrides``)."""
    tiny = TINY if kind == "points" else TINY_IMAGES
    return get_model_class(name)(**{**tiny.get(name, {}), **overrides})


def tiny_fit(name: str, seed: int = 0, target: str = "eight_gaussians", **overrides: Any):
    """A model ``name`` trained for ``TINY_STEPS`` steps on the 2-D ``target``."""
    return tiny_model(name, **overrides).fit(get_target(target), TINY_STEPS, seed)

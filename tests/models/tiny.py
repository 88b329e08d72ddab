"""Tiny hyperparameters that make every registered model train in a fraction of a second."""

from __future__ import annotations

from typing import Any

from genbench.models import GenerativeModel, get_model_class
from genbench.targets import get_target

# Per family: the smallest networks that still exercise every code path. A plug-in model not
# listed here is tested with its defaults.
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


def tiny_model(name: str, **overrides: Any) -> GenerativeModel:
    """An untrained model ``name`` with the tiny hyperparameters (and ``overrides``)."""
    return get_model_class(name)(**{**TINY.get(name, {}), **overrides})


def tiny_fit(name: str, seed: int = 0, target: str = "eight_gaussians", **overrides: Any):
    """A model ``name`` trained for ``TINY_STEPS`` steps on ``target``."""
    return tiny_model(name, **overrides).fit(get_target(target), TINY_STEPS, seed)

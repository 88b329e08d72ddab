"""Training speed of each family, one model at a time, with the quick preset's hyperparameters.

``fit`` of a few steps is timed whole, so the figure includes building the networks and the
optimiser once per call; over ``STEPS`` steps that overhead is small. The batched grid
training of issue 4 (item 1) is to come, and with it its benchmark beside this one.
"""

import pytest

from genbench.config import load_preset
from genbench.datasets import get_target
from genbench.models import get_model_class

STEPS = 20  # optimiser steps per timed fit
ROUNDS = 3

FAMILIES = {"gan": 3, "vae": 2, "realnvp": 2, "ddpm": 2}  # family → latent size benchmarked


@pytest.mark.parametrize("family", list(FAMILIES))
def test_training_steps(benchmark, family, device, synchronize):
    params = load_preset("quick").models[family].params
    model = get_model_class(family)(latent_dim=FAMILIES[family], device=device, **params)
    target = get_target("eight_gaussians")

    def fit():
        model.fit(target, steps=STEPS, seed=0)
        synchronize()

    benchmark.pedantic(fit, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info["device"] = device
    benchmark.extra_info["steps"] = STEPS
    benchmark.extra_info["steps_per_second"] = STEPS / benchmark.stats.stats.mean

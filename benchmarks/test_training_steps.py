"""Training speed of each family: one model at a time (``fit``), and a stack (``fit_many``).

Both use the quick preset's hyperparameters. The stack is what ``genbench run`` trains for one
grid entry and latent size: the quick grid's 3 targets × 3 seeds, 9 models. Side by side in
one session, the two give the ratio of model-steps per second (target: at least 2×).

``fit`` of a few steps is timed whole, so the figure includes building the networks and the
optimiser once per call; over ``STEPS`` steps that overhead is small. Each benchmark records
model-steps per second, the FLOPs of one model-step (the ``nn.Linear`` layers' multiply-adds:
3× a forward pass where weights get gradients, 2× where only the input does, 1× without
gradients) and the fraction of the session's matrix-multiply peak that makes (on the CPU, the
peak of one thread, which is what the steps run on).

On the CPU both run on one thread, as each of ``genbench run``'s worker processes does (one per
core): torch's second thread gains these small networks little, and spins against any other
busy process on a 2-core machine (10–100× slower steps).
"""

import contextlib

import pytest
import torch
from test_samplers import linear_flops

from genbench.config import load_preset
from genbench.executors import single_threaded
from genbench.models import get_model_class
from genbench.targets import get_target

STEPS = 20  # optimiser steps per timed fit
ROUNDS = 3
TARGETS = ["gaussian", "eight_gaussians", "spiral"]
SEEDS = [0, 1, 2]

FAMILIES = {"gan": 3, "vae": 2, "realnvp": 2, "ddpm": 2}  # family → latent size benchmarked


def flops_per_step(model) -> int:
    """FLOPs of one training step of one model (see the module's docstring)."""
    if model.name == "gan":
        batch, generator, critic = (
            model.batch_size,
            linear_flops(model.generator_),
            linear_flops(model.discriminator_),
        )
        # D's step: G without gradients on batch/2, D trained on batch; G's step: G trained
        # on batch, D on the same points with gradients for its input only.
        return (
            generator * batch // 2 + 3 * critic * batch + 3 * generator * batch + 2 * critic * batch
        )
    return 3 * model.batch_size * sum(map(linear_flops, model.modules().values()))


def make(family: str, device: str):
    params = load_preset("quick").models[family].params
    return get_model_class(family)(latent_dim=FAMILIES[family], device=device, **params)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("mode", ["one_at_a_time", "stacked"])
def test_training_steps(benchmark, family, mode, device, synchronize, single_thread_peak_gflops):
    if mode == "one_at_a_time":
        models = [make(family, device)]
        target = get_target("eight_gaussians")

        def fit():
            models[0].fit(target, steps=STEPS, seed=0)
            synchronize()
    else:
        models = [make(family, device) for _ in TARGETS for _ in SEEDS]
        targets = [get_target(name) for name in TARGETS for _ in SEEDS]
        seeds = [seed for _ in TARGETS for seed in SEEDS]

        def fit():
            type(models[0]).fit_many(models, targets, steps=STEPS, seeds=seeds)
            synchronize()

    with single_threaded() if device == "cpu" else contextlib.nullcontext():
        benchmark.pedantic(fit, rounds=ROUNDS, iterations=1, warmup_rounds=1)
        threads = torch.get_num_threads()
    model_steps = STEPS * len(models) / benchmark.stats.stats.mean
    flops = flops_per_step(models[0])
    benchmark.extra_info["device"] = device
    benchmark.extra_info["models"] = len(models)
    benchmark.extra_info["steps"] = STEPS
    benchmark.extra_info["model_steps_per_second"] = model_steps
    benchmark.extra_info["flops_per_model_step"] = flops
    # on the CPU, of the one-thread peak: the steps run on one thread
    peak = single_thread_peak_gflops
    benchmark.extra_info["peak_gflops"] = peak
    benchmark.extra_info["fraction_of_peak"] = model_steps * flops / (peak * 1e9)
    benchmark.extra_info["torch_threads"] = threads

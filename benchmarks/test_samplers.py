"""Sampling throughput of every model, against the matrix-multiply peak of the same session.

Throughput does not depend on what a network learned, so each model trains only a few steps,
with the quick preset's hyperparameters. Each benchmark records samples per second, the FLOPs
of one sample (2 × the multiply-adds of the ``nn.Linear`` layers evaluated for it) and the
fraction of the peak that makes. Issue 4's target: at least 50 % of the peak at a batch of
65,536 for the GAN generator, the VAE decoder and RealNVP.
"""

import numpy as np
import pytest
import torch
from torch import nn

from genbench.config import load_preset
from genbench.datasets import get_target
from genbench.models import get_model_class

TRAINING_STEPS = 5  # enough to run fit; the weights' values do not change the cost
SMALL_BATCH = 1_024
LARGE_BATCH = 65_536
# Ancestral DDPM evaluates its network 1000 times per sample, so it takes a smaller large batch
# (already compute-bound) and one round without warm-up (its first step warms the rest): this
# keeps it to some 15 s of the run on a 2-core CPU.
LARGE_BATCH_ANCESTRAL = 4_096
ROUNDS = 3

# Leaderboard entry → (registry name, latent size, hyperparameters beyond the quick preset's).
ENTRIES = {
    "gan": ("gan", 3, {}),
    "vae": ("vae", 2, {}),
    "realnvp": ("realnvp", 2, {}),
    "ddpm": ("ddpm", 2, {"sampler": "ancestral"}),
    "ddpm_ddim": ("ddpm", 2, {"sampler": "ddim", "sampling_steps": 50}),
}


def linear_flops(module: nn.Module) -> int:
    """FLOPs of one forward pass of one point: 2 × in × out for every ``nn.Linear`` inside."""
    return sum(
        2 * layer.in_features * layer.out_features
        for layer in module.modules()
        if isinstance(layer, nn.Linear)
    )


def flops_per_sample(model) -> int:
    """FLOPs of the networks that ``model.sample`` evaluates to draw one point."""
    if model.name == "gan":
        return linear_flops(model.generator_)
    if model.name == "vae":
        return linear_flops(model.decoder_)
    if model.name == "realnvp":
        return linear_flops(model.couplings_)  # the inverse pass runs every coupling once
    if model.name == "ddpm":
        evaluations = model.num_timesteps if model.sampler == "ancestral" else model.sampling_steps
        return linear_flops(model.network_) * evaluations
    raise ValueError(f"no FLOP count for {model.name!r}")


def trained_model(entry: str, device: str):
    name, latent_dim, extra = ENTRIES[entry]
    params = dict(load_preset("quick").models[name].params) | extra
    model = get_model_class(name)(latent_dim=latent_dim, device=device, **params)
    return model.fit(get_target("eight_gaussians"), steps=TRAINING_STEPS, seed=0)


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_sampling(benchmark, entry, size, device, peak_gflops, synchronize):
    model = trained_model(entry, device)
    if size == "small":
        num_samples = SMALL_BATCH
    else:
        num_samples = LARGE_BATCH_ANCESTRAL if entry == "ddpm" else LARGE_BATCH

    def draw() -> np.ndarray:
        samples = model.sample(num_samples, seed=0)
        synchronize()  # sample returns NumPy, so CUDA has finished already; be explicit
        return samples

    slow = entry == "ddpm"
    # The warm-up round keeps first-call allocations and kernel choice out of the timing.
    samples = benchmark.pedantic(
        draw, rounds=1 if slow else ROUNDS, iterations=1, warmup_rounds=0 if slow else 1
    )
    assert samples.shape == (num_samples, 2)
    assert np.isfinite(samples).all()

    samples_per_second = num_samples / benchmark.stats.stats.mean
    flops = flops_per_sample(model)
    benchmark.extra_info["device"] = device
    benchmark.extra_info["num_samples"] = num_samples
    benchmark.extra_info["samples_per_second"] = samples_per_second
    benchmark.extra_info["flops_per_sample"] = flops
    benchmark.extra_info["peak_gflops"] = peak_gflops
    benchmark.extra_info["fraction_of_peak"] = samples_per_second * flops / (peak_gflops * 1e9)
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()

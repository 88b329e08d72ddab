"""Sampling throughput of every model, against the matrix-multiply peak of the same session.

Throughput does not depend on what a network learned, so each model trains only a few steps,
with the quick preset's hyperparameters. Each benchmark records samples per second, the FLOPs
of one sample (2 × the multiply-adds of the ``nn.Linear`` layers evaluated for it) and the
fraction of the peak that makes. The target: at least 50 % of the peak at a batch of 65,536
for the GAN generator, the VAE decoder and RealNVP.

Each timed round is bracketed by calibrations of its length (``CalibratedRounds``), and each
benchmark records the median over rounds of (samples/s) / (calibration points/s): the
*normalised throughput* that the speed gate (``benchmarks/gate.py``) compares with its
baseline. It is the throughput in units of the calibration network's, and moves far less with
a shared machine's load than samples/s does.

With ``GENBENCH_BENCH_SHORT=1`` (the gate's short mode: one torch thread, see ``conftest``)
the large batch is 16,384 (ancestral DDPM runs at the small batch only), a round calls
``sample`` as often as it takes to last ``SHORT_MIN_ROUND_SECONDS``, and each benchmark times
about ``SHORT_SECONDS`` of sampling after one warm-up call: under a minute in all on a 2-core
CPU.
"""

import functools
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from genbench.config import load_preset
from genbench.models import get_model_class
from genbench.targets import get_target

TRAINING_STEPS = 5  # enough to run fit; the weights' values do not change the cost
SMALL_BATCH = 1_024
LARGE_BATCH = 65_536
# Ancestral DDPM evaluates its network 1000 times per sample, so it takes a smaller large batch
# (already compute-bound) and one round without warm-up (its first step warms the rest): this
# keeps it to some 15 s of the run on a 2-core CPU.
LARGE_BATCH_ANCESTRAL = 4_096
ROUNDS = 3
# The calibrations around a round last as long as the round together, up to this, s: the rate
# they measure does not depend on their length, and the full mode's long rounds (20 s of
# ancestral DDPM on two busy threads) need not take twice as long.
CALIBRATION_MAX_SECONDS = 1.0

# The short mode (GENBENCH_BENCH_SHORT=1). The warm-up call sets the rounds' length and number:
# a GAN draws 1,024 points in 1 ms on one thread, so its rounds make some 25 calls each and it
# gets 20 of them; ancestral DDPM takes 1.5 s a call, so one call per round and 3 rounds. Its
# large batch is left out: already at 1,024 points its time grows in proportion to the batch
# (6 s for 4,096), so it would take a minute and tell little that the small one does not.
SHORT_LARGE_BATCH = 16_384
SHORT_SECONDS = 1.0  # sampling time to aim for per benchmark, s (calibration doubles it)
# A round calls sample as often as it takes to last this long, s: rounds of a millisecond are
# hit or missed whole by other processes' time slices, and their calibration the other way.
SHORT_MIN_ROUND_SECONDS = 0.05
SHORT_MIN_ROUNDS = 3
SHORT_MAX_ROUNDS = 50

# Leaderboard entry → (registry name, latent size, hyperparameters beyond the quick preset's).
ENTRIES = {
    "gan": ("gan", 3, {}),
    "vae": ("vae", 2, {}),
    "realnvp": ("realnvp", 2, {}),
    "ddpm": ("ddpm", 2, {"sampler": "ancestral"}),
    "ddpm_ddim": ("ddpm", 2, {"sampler": "ddim", "sampling_steps": 50}),
    "ddpm_dpm_solver": ("ddpm", 2, {"sampler": "dpm_solver", "sampling_steps": 50}),
    "ddpm_dpm_solver_sde": ("ddpm", 2, {"sampler": "dpm_solver_sde", "sampling_steps": 50}),
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


@functools.cache
def trained_model(entry: str, device: str):
    """The model behind ``entry``, fitted a few steps; shared by the small and large batch."""
    name, latent_dim, extra = ENTRIES[entry]
    params = dict(load_preset("quick").models[name].params) | extra
    model = get_model_class(name)(latent_dim=latent_dim, device=device, **params)
    return model.fit(get_target("eight_gaussians"), steps=TRAINING_STEPS, seed=0)


def batch_size(entry: str, size: str, short: bool) -> int:
    if size == "small":
        return SMALL_BATCH
    if entry == "ddpm":
        return LARGE_BATCH_ANCESTRAL
    return SHORT_LARGE_BATCH if short else LARGE_BATCH


class CalibratedRounds:
    """Rounds of ``sample`` calls, each with the calibration network run around it.

    pytest-benchmark times ``draw`` and calls ``before`` and ``after`` (its untimed setup and
    teardown) around every round. Each of those runs the calibration for half as long as the
    last round took, so that a round and its calibration share the machine's load, and a load
    that grows or shrinks during the round weighs on both halves alike.
    """

    def __init__(self, sample: Callable[[], np.ndarray], num_points: int, synchronize, calibrate):
        self.sample = sample
        self.num_points = num_points  # points per sample call, and per calibration pass
        self.synchronize = synchronize
        self.calibrate = calibrate
        self.calls = 1  # sample calls per round
        self.last: float | None = None  # seconds of the last round (or what it is expected to be)
        self.seconds: list[float] = []  # per round, warm-up rounds included
        self.calibrations: list[list[float]] = []  # per round: calibration points/s around it

    def draw(self) -> np.ndarray:
        start = time.perf_counter()
        for _ in range(self.calls):
            samples = self.sample()
        self.synchronize()  # sample returns NumPy, so CUDA has finished already; be explicit
        self.last = time.perf_counter() - start
        self.seconds.append(self.last)
        return samples

    def before(self) -> None:
        self.calibrations.append([])
        if self.last is not None:  # before the very first round there is no length to match
            self.calibrations[-1].append(self.calibrate_half())

    def after(self) -> None:
        self.calibrations[-1].append(self.calibrate_half())

    def calibrate_half(self) -> float:
        return self.calibrate(self.num_points, min(self.last, CALIBRATION_MAX_SECONDS) / 2)

    def normalised(self, rounds: int) -> tuple[list[float], list[float]]:
        """Of the last ``rounds`` rounds: (samples/s) / (calibration points/s), and the
        calibration points/s."""
        calibrations = [statistics.mean(rates) for rates in self.calibrations[-rounds:]]
        rates = [self.calls * self.num_points / seconds for seconds in self.seconds[-rounds:]]
        normalised = [
            rate / calibration for rate, calibration in zip(rates, calibrations, strict=True)
        ]
        return normalised, calibrations


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_sampling(benchmark, entry, size, device, peak_gflops, synchronize, calibrate, short_mode):
    if short_mode and entry == "ddpm" and size == "large":
        pytest.skip("short mode: ancestral DDPM at the small batch only")
    model = trained_model(entry, device)
    num_samples = batch_size(entry, size, short_mode)
    timer = CalibratedRounds(
        lambda: model.sample(num_samples, seed=0), num_samples, synchronize, calibrate
    )
    if short_mode:
        timer.before()
        timer.draw()  # the warm-up call, which also sizes the rounds
        timer.after()
        timer.calls = math.ceil(SHORT_MIN_ROUND_SECONDS / timer.last)
        timer.last *= timer.calls
        rounds = math.ceil(SHORT_SECONDS / timer.last)
        rounds, warmup_rounds = min(max(rounds, SHORT_MIN_ROUNDS), SHORT_MAX_ROUNDS), 0
    elif entry == "ddpm":
        rounds, warmup_rounds = 1, 0  # its first step warms the rest (see above)
    else:
        # The warm-up round keeps first-call allocations and kernel choice out of the timing.
        rounds, warmup_rounds = ROUNDS, 1
    samples = benchmark.pedantic(
        timer.draw,
        setup=timer.before,
        teardown=timer.after,
        rounds=rounds,
        iterations=1,
        warmup_rounds=warmup_rounds,
    )
    assert samples.shape == (num_samples, 2)
    assert np.isfinite(samples).all()
    if benchmark.disabled:  # --benchmark-disable: one untimed call, nothing to record
        return

    normalised, calibrations = timer.normalised(rounds)
    samples_per_second = timer.calls * num_samples / benchmark.stats.stats.mean
    flops = flops_per_sample(model)
    benchmark.extra_info["device"] = device
    benchmark.extra_info["num_samples"] = num_samples
    benchmark.extra_info["calls_per_round"] = timer.calls
    benchmark.extra_info["samples_per_second"] = samples_per_second
    benchmark.extra_info["flops_per_sample"] = flops
    benchmark.extra_info["peak_gflops"] = peak_gflops
    benchmark.extra_info["fraction_of_peak"] = samples_per_second * flops / (peak_gflops * 1e9)
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()
    benchmark.extra_info["short_mode"] = short_mode
    # calibration network points/s, the median over the timed rounds
    benchmark.extra_info["calibration"] = statistics.median(calibrations)
    # median over rounds of (samples/s) / (calibration points/s): what the speed gate compares
    benchmark.extra_info["normalised_throughput"] = statistics.median(normalised)
    benchmark.extra_info["normalised_throughput_rounds"] = normalised
    benchmark.extra_info["calibration_rounds"] = calibrations

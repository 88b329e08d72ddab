"""DDPM (Ho et al., 2020): learn to undo a fixed Gaussian noising of the data.

The forward process x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, ε ~ N(0, I₂), with a linear schedule
β_t from ``beta_start`` to ``beta_end`` over T steps and ᾱ_t = Π_{s≤t} (1 − β_s), turns data
into noise. An MLP ε_θ(x_t, t) learns to predict ε (the simple loss ‖ε − ε_θ‖²), and sampling
runs the process backwards from x_T ~ N(0, I₂) with the sampler that ``sampler`` names in
``diffusion_samplers.SAMPLERS``, all with the same trained network:

- ``"ancestral"``: all T steps of the learned reverse chain, stochastic;
- ``"ddim"``: Song et al.'s deterministic sampler (η = 0) on ``sampling_steps`` evenly spaced
  steps, a fraction of the cost: a first-order solver of the probability-flow ODE;
- ``"dpm_solver"``: DPM-Solver++(2M) (Lu et al., 2022), a second-order multistep solver of
  the same ODE, on ``sampling_steps`` steps evenly spaced in log-SNR, at DDIM's cost;
- ``"dpm_solver_sde"``: the same multistep solver for the reverse-time SDE instead of the ODE
  (SDE-DPM-Solver++(2M), as k-diffusion's ``sample_dpmpp_2m_sde`` with η = 1): stochastic,
  like ancestral sampling, in ``sampling_steps`` steps, on the same grid and at the same cost.

The latent size is forced to 2: x_T lives in the data space.

What makes it converge on narrow structure (the convergence study in ``results/convergence``):
the data are standardised (mean 0, unit spread) before they are noised, as the schedule assumes;
ε_θ sees sin and cos of x_t's coordinates at ``input_frequencies`` frequencies besides x_t and
the time embedding (an MLP fed x_t alone blurs the spiral's 0.1-wide arm for tens of thousands of
steps); the learning rate warms up and decays on a cosine; and the weights sampled are an
exponential moving average of the trained ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genbench.models.diffusion_samplers import NoiseSchedule, get_sampler
from genbench.models.nn import (
    Standardizer,
    check_fitted,
    check_schedule,
    fourier_features,
    generator,
    mlp,
    sample_in_chunks,
    seeded_init,
    sinusoidal_embedding,
)
from genbench.models.stack import Monitor, StackableModel, Streams, model_means, optimise
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target


@models.register("ddpm")
@dataclass(eq=False)
class DDPM(StackableModel):
    """x_0 by reversing a T-step Gaussian diffusion with an ε-predicting MLP."""

    name = "ddpm"
    stacked_modules = ("network",)
    sampling_params = ("sampler", "sampling_steps")
    fixed_latent_dim = 2

    latent_dim: int = 2  # ignored: x_T lives in the data space
    device: str = "cpu"  # torch device to train and sample on
    num_timesteps: int = 1000  # T, steps of the forward (noising) process
    beta_start: float = 1e-4  # β_1 of the linear schedule
    beta_end: float = 0.02  # β_T of the linear schedule
    width: int = 128  # units of each hidden SiLU layer of ε_θ
    depth: int = 3  # hidden layers of ε_θ
    time_embedding_dim: int = 32  # size of the sinusoidal embedding of t fed to ε_θ with x_t
    # ε_θ also sees sin and cos of each coordinate of x_t at this many frequencies (0: x_t only)
    input_frequencies: int = 64
    input_scale: float = 25.0  # the highest of those frequencies, radians per unit of x_t
    standardize: bool = True  # diffuse the data standardised (mean 0, unit spread), not raw
    batch_size: int = 512  # target draws per step
    lr: float = 4e-3  # peak Adam learning rate
    warmup_steps: int = 100  # the learning rate ramps up over these, then decays (cosine)
    final_lr: float = 0.1  # the rate at the last step, as a fraction of ``lr``; 1: constant
    ema_decay: float = 0.999  # > 0: sample with an exponential moving average of the weights
    # a name in diffusion_samplers.SAMPLERS: "ancestral" (T stochastic steps); "ddim" (η = 0)
    # or "dpm_solver" (DPM-Solver++(2M)): deterministic, in sampling_steps steps;
    # "dpm_solver_sde": stochastic, in sampling_steps steps
    sampler: str = "ancestral"
    sampling_steps: int = 50  # steps of the few-step samplers (ancestral always takes T)

    def __post_init__(self) -> None:
        check_schedule(self)
        get_sampler(self.sampler)  # a ValueError naming the known samplers
        if not 1 <= self.sampling_steps <= self.num_timesteps:
            raise ValueError(f"sampling_steps must be in [1, T], got {self.sampling_steps}")
        if self.time_embedding_dim < 2 or self.time_embedding_dim % 2:
            raise ValueError(f"time_embedding_dim must be even, got {self.time_embedding_dim}")

    def _build(self, seed: int = 0) -> None:
        in_features = 2 * (1 + 2 * self.input_frequencies) + self.time_embedding_dim
        with seeded_init(derive_seed(seed, "init")):
            self.network_ = mlp(in_features, [self.width] * self.depth, 2, nn.SiLU).to(self.device)
        # β_t and ᾱ_t for t = 0 … T−1, the paper's 1 … T, in float64 for accuracy
        self.schedule = NoiseSchedule.linear(
            self.beta_start, self.beta_end, self.num_timesteps, self.device
        )
        steps = torch.arange(self.num_timesteps, device=self.device)
        self.time_embeddings = sinusoidal_embedding(steps, self.time_embedding_dim)  # (T, e)
        self.standardizer_ = Standardizer().to(self.device)  # the identity until _prepare

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "network_")
        return {"network": self.network_, "standardizer": self.standardizer_}

    def _predict_noise(
        self, x_t: torch.Tensor, t: torch.Tensor | int, network: nn.Module | None = None
    ) -> torch.Tensor:
        """ε_θ(x_t, t) for ``x_t`` (..., 2) and steps ``t``, (...) or one for all; (..., 2)."""
        embedding = self.time_embeddings[t].expand(*x_t.shape[:-1], -1)  # (..., e)
        features = fourier_features(x_t, self.input_frequencies, self.input_scale)
        return (network or self.network_)(torch.cat([features, embedding], dim=-1))

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[DDPM],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        noise = Streams([derive_seed(seed, "noise") for seed in seeds], self.device, single)
        alpha_bars = self.schedule.alpha_bars.float()
        network = networks["network"]

        def step_losses(step: int, x_0: torch.Tensor) -> torch.Tensor:  # x_0: ([M,] batch, 2)
            t = noise.randint(self.num_timesteps, self.batch_size)  # ([M,] batch)
            eps = noise.randn(self.batch_size, 2)
            alpha_bar = alpha_bars[t][..., None]  # ([M,] batch, 1)
            x_t = alpha_bar.sqrt() * x_0 + (1 - alpha_bar).sqrt() * eps
            error = (self._predict_noise(x_t, t, network) - eps) ** 2
            return model_means(error, single)

        optimise(self, network, models, targets, seeds, steps, monitor, single, step_losses)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "network_")
        # looked up here, not kept from __post_init__: the runner sets ``sampler`` on trained
        # copies, and a sampler registered since then must be found
        sampler = get_sampler(self.sampler)
        rng = generator(derive_seed(seed, "sample"), self.device)

        def draw(count: int) -> torch.Tensor:
            x_T = torch.randn(count, 2, generator=rng, device=self.device)  # (count, 2)
            x_0 = sampler(self._predict_noise, x_T, self.schedule, rng, steps=self.sampling_steps)
            return self.standardizer_.inverse(x_0)

        return sample_in_chunks(draw, num_samples, self.device)

"""DDPM (Ho et al., 2020): learn to undo a fixed Gaussian noising of the data.

The forward process x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, ε ~ N(0, I₂), with a linear schedule
β_t from ``beta_start`` to ``beta_end`` over T steps and ᾱ_t = Π_{s≤t} (1 − β_s), turns data
into noise. An MLP ε_θ(x_t, t) learns to predict ε (the simple loss ‖ε − ε_θ‖²), and sampling
runs the process backwards from x_T ~ N(0, I₂):

- ``"ancestral"``: all T steps, x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) · ε_θ) / √(1 − β_t) + σ_t ξ,
  with σ_t² = β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), the posterior variance given x_0;
- ``"ddim"``: Song et al.'s deterministic sampler (η = 0) on ``sampling_steps`` evenly spaced
  steps, the same trained network, a fraction of the cost: a first-order solver of the
  probability-flow ODE;
- ``"dpm_solver"``: DPM-Solver++(2M) (Lu et al., 2022), a second-order multistep solver of the
  same ODE, on ``sampling_steps`` steps evenly spaced in log-SNR, with one network evaluation
  per step as DDIM has;
- ``"dpm_solver_sde"``: the same multistep solver for the reverse-time SDE instead of the ODE
  (SDE-DPM-Solver++(2M), as k-diffusion's ``sample_dpmpp_2m_sde`` with η = 1): stochastic,
  like ancestral sampling, in ``sampling_steps`` steps, on the same grid and at the same cost.

The latent size is forced to 2: x_T lives in the data space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from genbench.models.base import ProgressCallback
from genbench.models.nn import (
    adam,
    check_fitted,
    generator,
    mlp,
    sample_in_chunks,
    seeded_init,
)
from genbench.models.stack import (
    StackableModel,
    Streams,
    descend,
    model_means,
    report,
    stacked_batches,
)
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

SAMPLERS = ("ancestral", "ddim", "dpm_solver", "dpm_solver_sde")


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer-style embedding of timesteps ``t`` (n,): sin and cos at ``dim``/2 frequencies
    from 1 to 1/``max_period`` radians per step, (n, dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies  # (n, dim/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


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
    batch_size: int = 256  # target draws per step
    lr: float = 1e-3  # Adam learning rate
    ema_decay: float = 0.0  # > 0: sample with an exponential moving average of the weights
    # "ancestral" (T stochastic steps); "ddim" (η = 0) or "dpm_solver" (DPM-Solver++(2M)):
    # deterministic, in sampling_steps steps; "dpm_solver_sde": stochastic, in sampling_steps
    sampler: str = "ancestral"
    sampling_steps: int = 50  # steps of the few-step samplers (ancestral always takes T)

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if not 1 <= self.sampling_steps <= self.num_timesteps:
            raise ValueError(f"sampling_steps must be in [1, T], got {self.sampling_steps}")
        if self.time_embedding_dim < 2 or self.time_embedding_dim % 2:
            raise ValueError(f"time_embedding_dim must be even, got {self.time_embedding_dim}")

    def _build(self, seed: int = 0) -> None:
        in_features = 2 + self.time_embedding_dim
        with seeded_init(derive_seed(seed, "init")):
            self.network_ = mlp(in_features, [self.width] * self.depth, 2, nn.SiLU).to(self.device)
        # The schedule, indexed by t = 0 … T−1 for the paper's 1 … T, in float64 for accuracy.
        betas = torch.linspace(self.beta_start, self.beta_end, self.num_timesteps).double()
        self.betas = betas.to(self.device)  # (T,)
        self.alpha_bars = torch.cumprod(1 - betas, 0).to(self.device)  # (T,) ᾱ_t
        steps = torch.arange(self.num_timesteps, device=self.device)
        self.time_embeddings = sinusoidal_embedding(steps, self.time_embedding_dim)  # (T, e)

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "network_")
        return {"network": self.network_}

    def _predict_noise(
        self, x_t: torch.Tensor, t: torch.Tensor | int, network: nn.Module | None = None
    ) -> torch.Tensor:
        """ε_θ(x_t, t) for ``x_t`` (..., 2) and steps ``t``, (...) or one for all; (..., 2)."""
        embedding = self.time_embeddings[t].expand(*x_t.shape[:-1], -1)  # (..., e)
        return (network or self.network_)(torch.cat([x_t, embedding], dim=-1))

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[DDPM],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        progress: ProgressCallback | None,
        single: bool,
    ) -> None:
        network = networks["network"]
        optimizer = adam(network.parameters(), lr=self.lr, fused=single)
        average = (
            AveragedModel(network, multi_avg_fn=get_ema_multi_avg_fn(self.ema_decay))
            if self.ema_decay > 0
            else None
        )
        noise = Streams([derive_seed(seed, "noise") for seed in seeds], self.device, single)
        alpha_bars = self.alpha_bars.float()
        batches = stacked_batches(targets, self.batch_size, steps, seeds, self.device, single)
        for step, x_0 in enumerate(batches, start=1):  # x_0: ([M,] batch, 2)
            t = noise.randint(self.num_timesteps, self.batch_size)  # ([M,] batch)
            eps = noise.randn(self.batch_size, 2)
            alpha_bar = alpha_bars[t][..., None]  # ([M,] batch, 1)
            x_t = alpha_bar.sqrt() * x_0 + (1 - alpha_bar).sqrt() * eps
            error = (self._predict_noise(x_t, t, network) - eps) ** 2
            loss = model_means(error, single).sum()
            descend(optimizer, loss)
            if average is not None:
                average.update_parameters(network)
            report(progress, step, steps, loss, len(models))
        if average is not None:  # the averaged weights are the trained model
            with torch.no_grad():
                for mine, averaged in zip(
                    network.parameters(), average.module.parameters(), strict=True
                ):
                    mine.copy_(averaged)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "network_")
        rng = generator(derive_seed(seed, "sample"), self.device)

        def draw(count: int) -> torch.Tensor:
            if self.sampler == "ancestral":
                return self._ancestral(count, rng)
            return self._solve(
                count,
                rng,
                second_order=self.sampler != "ddim",
                stochastic=self.sampler == "dpm_solver_sde",
            )

        return sample_in_chunks(draw, num_samples, self.device)

    def _ancestral(self, count: int, rng: torch.Generator) -> torch.Tensor:
        """x_0 by the T ancestral steps from x_T ~ N(0, I₂), (count, 2)."""
        # Per-step coefficients as Python floats: cheap scalar multiplies in the loop.
        betas = self.betas.tolist()
        alpha_bars = self.alpha_bars.tolist()
        x = torch.randn(count, 2, generator=rng, device=self.device)
        for t in reversed(range(self.num_timesteps)):
            eps = self._predict_noise(x, t)
            x = (x - betas[t] / math.sqrt(1 - alpha_bars[t]) * eps) / math.sqrt(1 - betas[t])
            if t > 0:  # β̃ at the last step is 0: the mean is the sample
                variance = betas[t] * (1 - alpha_bars[t - 1]) / (1 - alpha_bars[t])
                x = x + math.sqrt(variance) * torch.randn(
                    x.shape, generator=rng, device=self.device
                )
        return x

    def _ode_timesteps(self, uniform_in: str) -> list[int]:
        """``sampling_steps`` distinct timesteps from T − 1 down to 0, evenly spaced in t
        (``"time"``, as DDIM has them) or, as near as integer steps allow, in λ = log(α/σ)
        (``"lambda"``, as DPM-Solver has them)."""
        last = self.num_timesteps - 1
        if uniform_in == "time":
            return np.linspace(last, 0, self.sampling_steps).round().astype(int).tolist()
        alpha_bars = self.alpha_bars.cpu().numpy()
        lambdas = 0.5 * np.log(alpha_bars / (1 - alpha_bars))  # decreasing in t
        wanted = np.linspace(lambdas[last], lambdas[0], self.sampling_steps)
        grid = np.abs(lambdas[None, :] - wanted[:, None]).argmin(axis=1)  # the nearest steps
        # λ changes fastest near t = 0, where several wanted values can share one integer
        # step: push the earlier ones up, then cap step i at T − 1 − i, so that the steps
        # are distinct and in range (they fit, as sampling_steps <= T)
        for i in reversed(range(len(grid) - 1)):
            grid[i] = max(grid[i], grid[i + 1] + 1)
        grid = np.minimum(grid, last - np.arange(len(grid)))
        return grid.tolist()

    def _solve(
        self, count: int, rng: torch.Generator, second_order: bool, stochastic: bool = False
    ) -> torch.Tensor:
        """x_0 from x_T ~ N(0, I₂) on ``sampling_steps`` timesteps, (count, 2): by solving the
        probability-flow ODE (evenly spaced steps for DDIM, evenly in λ for DPM-Solver++(2M)),
        or with ``stochastic`` the reverse-time SDE (evenly in λ).

        In the data-prediction form of Lu et al. (2022), with α = √ᾱ, σ = √(1 − ᾱ),
        λ = log(α/σ), x̂_0 = (x_t − σ_t ε_θ(x_t, t)) / α_t and η = 0 for the ODE, 1 for the SDE,
        a step from t to the next grid step t' is

            x_{t'} = (σ_{t'}/σ_t) e^{−ηh} · x_t + α_{t'} (1 − e^{−(1+η)h}) · D
                     + η σ_{t'} √(1 − e^{−2h}) · ξ,    h = λ_{t'} − λ_t,  ξ ~ N(0, I₂),

        with D = x̂_0 for DDIM (this is Song et al.'s η = 0 step, rewritten), and for the
        second-order solvers, from the second step on, D = (1 + 1/2r) x̂_0 − 1/2r · x̂_0(previous
        step), r = h(previous step)/h. The last step, to ᾱ = 1 (h = ∞), returns x̂_0.
        """
        second_order = second_order or stochastic
        grid = self._ode_timesteps(uniform_in="lambda" if second_order else "time")
        alpha_bars = self.alpha_bars[grid].tolist()
        alphas = [math.sqrt(a) for a in alpha_bars]
        sigmas = [math.sqrt(1 - a) for a in alpha_bars]
        eta = 1.0 if stochastic else 0.0
        x = torch.randn(count, 2, generator=rng, device=self.device)
        previous: tuple[torch.Tensor, float] | None = None  # (x̂_0, h) of the last step
        for i, t in enumerate(grid):
            x_0 = (x - sigmas[i] * self._predict_noise(x, t)) / alphas[i]
            if i + 1 == len(grid):
                break
            h = math.log(alphas[i + 1] / sigmas[i + 1]) - math.log(alphas[i] / sigmas[i])
            direction = x_0
            if second_order and previous is not None:
                half_inverse_r = h / previous[1] / 2
                direction = (1 + half_inverse_r) * x_0 - half_inverse_r * previous[0]
            decay = sigmas[i + 1] / sigmas[i] * math.exp(-eta * h)
            x = decay * x - alphas[i + 1] * math.expm1(-(1 + eta) * h) * direction
            if stochastic:
                noise = torch.randn(x.shape, generator=rng, device=self.device)
                x = x + sigmas[i + 1] * math.sqrt(-math.expm1(-2 * h)) * noise
            previous = (x_0, h)
        return x_0

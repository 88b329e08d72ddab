"""DDPM's samplers: free functions from x_T ~ N(0, I₂) to x_0, over a denoiser and a schedule.

The forward process of a discrete-time DDPM is x_t = α_t x_0 + σ_t ε, ε ~ N(0, I₂), for
t = 0 … T−1 (the paper's 1 … T), with α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), ᾱ_t = Π_{s≤t} (1 − β_s)
and half the log signal-to-noise ratio λ_t = log(α_t/σ_t), which falls as t grows. A denoiser
ε_θ(x_t, t) predicts the noise ε in x_t; x̂_0 = (x_t − σ_t ε_θ(x_t, t)) / α_t is then its
prediction of the data. Every sampler has one signature,

    sampler(denoiser, x_T, schedule, generator, *, steps) -> x_0,    x_T, x_0: (n, 2),

as k-diffusion's ``sample_euler(model, x, sigmas)`` has, and ``SAMPLERS`` names them: a new
sampler is one function here and one entry in ``SAMPLERS``, and the DDPM adapter's ``sampler``
hyperparameter selects it by that name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

# ε_θ(x_t, t): the predicted noise in x_t (n, 2) at timestep t in 0 … T−1, (n, 2).
Denoiser = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The variances β_t of the T noising steps and ᾱ_t = Π_{s≤t} (1 − β_s), for t = 0 … T−1."""

    betas: torch.Tensor  # (T,) float64: β_t
    alpha_bars: torch.Tensor  # (T,) float64: ᾱ_t, from 1 − β_0 down to near 0

    @classmethod
    def linear(
        cls, beta_start: float, beta_end: float, num_timesteps: int, device: str | torch.device
    ) -> NoiseSchedule:
        """Ho et al.'s schedule: β_t evenly spaced from ``beta_start`` to ``beta_end``."""
        # float64: in float32, 1 − ᾱ_0 = 1e-4 would keep only about 4 significant digits
        betas = torch.linspace(beta_start, beta_end, num_timesteps).double()
        return cls(betas.to(device), torch.cumprod(1 - betas, 0).to(device))

    @property
    def num_timesteps(self) -> int:
        return len(self.betas)


class Sampler(Protocol):
    """x_0 (n, 2) from x_T ``x`` (n, 2) by running the learned reverse process; randomness, if
    any, from ``generator``; ``steps`` network evaluations, for the samplers that take a number."""

    def __call__(
        self,
        denoiser: Denoiser,
        x: torch.Tensor,
        schedule: NoiseSchedule,
        generator: torch.Generator,
        *,
        steps: int,
    ) -> torch.Tensor: ...


def timesteps_even_in_time(schedule: NoiseSchedule, steps: int) -> list[int]:
    """``steps`` timesteps from T − 1 down to 0, evenly spaced in t (rounded), as DDIM has them."""
    check_steps(schedule, steps)
    last = schedule.num_timesteps - 1
    return np.linspace(last, 0, steps).round().astype(int).tolist()


def timesteps_even_in_log_snr(schedule: NoiseSchedule, steps: int) -> list[int]:
    """``steps`` distinct timesteps from T − 1 down to 0, as near evenly spaced in λ as integer
    steps allow, as DPM-Solver has them."""
    check_steps(schedule, steps)
    last = schedule.num_timesteps - 1
    alpha_bars = schedule.alpha_bars.cpu().numpy()
    lambdas = 0.5 * np.log(alpha_bars / (1 - alpha_bars))  # (T,), decreasing in t
    wanted = np.linspace(lambdas[last], lambdas[0], steps)
    grid = np.abs(lambdas[None, :] - wanted[:, None]).argmin(axis=1)  # the nearest steps
    # λ changes fastest near t = 0, where several wanted values can share one integer step:
    # push the earlier ones up, then cap step i at T − 1 − i, so that the steps are distinct
    # and in range (they fit, as steps <= T)
    for i in reversed(range(len(grid) - 1)):
        grid[i] = max(grid[i], grid[i + 1] + 1)
    grid = np.minimum(grid, last - np.arange(len(grid)))
    return grid.tolist()


def check_steps(schedule: NoiseSchedule, steps: int) -> None:
    """ValueError unless 1 <= ``steps`` <= T: a grid of that many distinct timesteps exists."""
    if not 1 <= steps <= schedule.num_timesteps:
        raise ValueError(f"steps must be in [1, T = {schedule.num_timesteps}], got {steps}")


def coefficients(
    schedule: NoiseSchedule, grid: list[int]
) -> tuple[list[float], list[float], list[float]]:
    """α_t, σ_t and λ_t at the timesteps ``grid``, as Python floats: cheap scalar multiplies
    in the samplers' loops."""
    alpha_bars = schedule.alpha_bars[grid].tolist()
    alphas = [math.sqrt(a) for a in alpha_bars]
    sigmas = [math.sqrt(1 - a) for a in alpha_bars]
    lambdas = [math.log(a / s) for a, s in zip(alphas, sigmas, strict=True)]
    return alphas, sigmas, lambdas


def second_order_direction(
    x_0: torch.Tensor, h: float, previous_x_0: torch.Tensor, previous_h: float
) -> torch.Tensor:
    """D = (1 + 1/2r) x̂_0 − 1/2r · x̂_0(previous step), r = h(previous step) / h: the
    multistep estimate of x̂_0 across the step of size ``h``, (n, 2)."""
    half_inverse_r = h / previous_h / 2
    return (1 + half_inverse_r) * x_0 - half_inverse_r * previous_x_0


@torch.no_grad()
def sample_ancestral(
    denoiser: Denoiser,
    x: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator,
    *,
    steps: int | None = None,
) -> torch.Tensor:
    """Ho et al.'s ancestral sampling: all T steps of the learned reverse chain,

        x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t)) / √(1 − β_t) + √β̃_t · ξ,  ξ ~ N(0, I₂),

    with β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) the posterior variance given x_0 (0 at the last
    step). ``x``: x_T (n, 2); returns x_0 (n, 2). ``steps`` is unused: the chain's variances
    are those of consecutive steps, so it always takes T.
    """
    betas = schedule.betas.tolist()
    alpha_bars = schedule.alpha_bars.tolist()
    for t in reversed(range(schedule.num_timesteps)):
        eps = denoiser(x, t)
        x = (x - betas[t] / math.sqrt(1 - alpha_bars[t]) * eps) / math.sqrt(1 - betas[t])
        if t > 0:  # β̃ at the last step is 0: the mean is the sample
            variance = betas[t] * (1 - alpha_bars[t - 1]) / (1 - alpha_bars[t])
            x = x + math.sqrt(variance) * torch.randn(x.shape, generator=generator, device=x.device)
    return x


@torch.no_grad()
def sample_ddim(
    denoiser: Denoiser,
    x: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator,
    *,
    steps: int,
) -> torch.Tensor:
    """Song et al.'s DDIM with η = 0: a first-order solver of the probability-flow ODE on
    ``steps`` timesteps evenly spaced in t. In the data-prediction form of Lu et al. (2022), a
    step from grid step t to the next, s, is

        x_s = (σ_s/σ_t) x_t + α_s (1 − e^{−h}) x̂_0,    h = λ_s − λ_t,

    Song et al.'s step rewritten; the last (from t = 0, to ᾱ = 1) returns x̂_0.
    ``x``: x_T (n, 2); returns x_0 (n, 2). ``generator`` is unused: the ODE is deterministic.
    """
    grid = timesteps_even_in_time(schedule, steps)
    alphas, sigmas, lambdas = coefficients(schedule, grid)
    for i, t in enumerate(grid):
        x_0 = (x - sigmas[i] * denoiser(x, t)) / alphas[i]
        if i + 1 == len(grid):
            break
        h = lambdas[i + 1] - lambdas[i]
        x = sigmas[i + 1] / sigmas[i] * x - alphas[i + 1] * math.expm1(-h) * x_0
    return x_0


@torch.no_grad()
def sample_dpmpp_2m(
    denoiser: Denoiser,
    x: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator,
    *,
    steps: int,
) -> torch.Tensor:
    """DPM-Solver++(2M) (Lu et al., 2022): a second-order multistep solver of DDIM's ODE on
    ``steps`` timesteps evenly spaced in λ, one network evaluation per step as DDIM has. A step
    from grid step t to the next, s, is DDIM's with x̂_0 replaced, from the second step on, by

        D = (1 + 1/2r) x̂_0 − 1/2r · x̂_0(previous step),    r = h(previous step) / h:

        x_s = (σ_s/σ_t) x_t + α_s (1 − e^{−h}) D,    h = λ_s − λ_t;

    the last (from t = 0) returns x̂_0. ``x``: x_T (n, 2); returns x_0 (n, 2). ``generator`` is
    unused: the ODE is deterministic.
    """
    grid = timesteps_even_in_log_snr(schedule, steps)
    alphas, sigmas, lambdas = coefficients(schedule, grid)
    previous: tuple[torch.Tensor, float] | None = None  # (x̂_0, h) of the previous step
    for i, t in enumerate(grid):
        x_0 = (x - sigmas[i] * denoiser(x, t)) / alphas[i]
        if i + 1 == len(grid):
            break
        h = lambdas[i + 1] - lambdas[i]
        direction = x_0 if previous is None else second_order_direction(x_0, h, *previous)
        x = sigmas[i + 1] / sigmas[i] * x - alphas[i + 1] * math.expm1(-h) * direction
        previous = (x_0, h)
    return x_0


@torch.no_grad()
def sample_dpmpp_2m_sde(
    denoiser: Denoiser,
    x: torch.Tensor,
    schedule: NoiseSchedule,
    generator: torch.Generator,
    *,
    steps: int,
) -> torch.Tensor:
    """SDE-DPM-Solver++(2M) (Lu et al., 2022; k-diffusion's ``sample_dpmpp_2m_sde`` with
    η = 1): the multistep solver of ``sample_dpmpp_2m`` for the reverse-time SDE instead of the
    ODE, stochastic as ancestral sampling is, on the same grid and at the same cost. A step from
    grid step t to the next, s, is

        x_s = (σ_s/σ_t) e^{−h} x_t + α_s (1 − e^{−2h}) D + σ_s √(1 − e^{−2h}) ξ,  ξ ~ N(0, I₂),

    with h = λ_s − λ_t and D as in ``sample_dpmpp_2m``; the last (from t = 0) returns x̂_0.
    ``x``: x_T (n, 2); returns x_0 (n, 2).
    """
    grid = timesteps_even_in_log_snr(schedule, steps)
    alphas, sigmas, lambdas = coefficients(schedule, grid)
    previous: tuple[torch.Tensor, float] | None = None  # (x̂_0, h) of the previous step
    for i, t in enumerate(grid):
        x_0 = (x - sigmas[i] * denoiser(x, t)) / alphas[i]
        if i + 1 == len(grid):
            break
        h = lambdas[i + 1] - lambdas[i]
        direction = x_0 if previous is None else second_order_direction(x_0, h, *previous)
        x = (
            sigmas[i + 1] / sigmas[i] * math.exp(-h) * x
            - alphas[i + 1] * math.expm1(-2 * h) * direction
        )
        noise = torch.randn(x.shape, generator=generator, device=x.device)
        x = x + sigmas[i + 1] * math.sqrt(-math.expm1(-2 * h)) * noise
        previous = (x_0, h)
    return x_0


# The samplers by the names the DDPM adapter's ``sampler`` hyperparameter takes.
SAMPLERS: dict[str, Sampler] = {
    "ancestral": sample_ancestral,  # T stochastic steps
    "ddim": sample_ddim,  # deterministic, first order
    "dpm_solver": sample_dpmpp_2m,  # deterministic, second order
    "dpm_solver_sde": sample_dpmpp_2m_sde,  # stochastic, second order
}


def get_sampler(name: str) -> Sampler:
    """The sampler called ``name`` in ``SAMPLERS``; a ValueError naming the known ones if none
    is."""
    try:
        return SAMPLERS[name]
    except KeyError:
        known = ", ".join(repr(known) for known in SAMPLERS)
        raise ValueError(f"unknown sampler {name!r}: the known samplers are {known}") from None

"""Flow matching (Lipman et al., 2023; Liu et al., 2023; Tong et al., 2024): learn the velocity
of a straight path from noise to data, then integrate it.

Training pairs a noise draw x₀ ~ N(0, I₂) with a data point x₁, takes a time t in [0, 1] and
x_t = (1 − t)·x₀ + t·x₁, and regresses an MLP v_θ(x_t, t) on the path's velocity x₁ − x₀ (the
conditional flow matching loss with σ = 0). How the pairs are formed is ``coupling``:

- ``"independent"``: as drawn (rectified flow, I-CFM);
- ``"ot"``: within each batch, the pairing of least total squared distance, by exact optimal
  transport (POT's ``emd``; OT-CFM), which straightens the learned paths so that few
  integration steps suffice.

The times are ``time_sampling``: ``"uniform"`` on [0, 1], or ``"logit_normal"``, the logistic
sigmoid of N(``time_location``, 1) (Esser et al., 2024, with t = 0 at the noise here), of which
a share ``time_uniform`` is drawn uniformly instead. A location above 0 trains the end of the
paths near the data more often, where the velocity field must resolve narrow structure (the
spiral's 0.1-wide arm); the uniform share keeps their start trained, which logit-normal times
alone almost never visit (the flow then spreads a Gaussian too wide). The default, location 1.5
with half the times uniform, at a learning rate of 4e-3, was chosen by the measurements in
``docs/presets.md`` (section "Flow matching").

Samples integrate dx/dt = v_θ(x, t) from t = 0 to 1 with ``sampler`` (``"euler"`` or
``"midpoint"``) in ``sampling_steps`` fixed steps; entries that differ only in these share one
trained network, as DDPM's samplers do. ``log_prob`` is the instantaneous change of variables,
log q(x₁) = log N(x₀; 0, I) − ∫₀¹ ∇·v_θ(x_t, t) dt, integrated backwards from x with the same
solver in ``likelihood_steps`` steps and the exact 2 × 2 divergence (two backward passes): exact
for the model that the solver defines, up to the discretisation of that integral.

The latent size is forced to 2: x₀ lives in the data space. The network and training follow
DDPM's adapter (standardised data, Fourier features of x, a sinusoidal embedding of t, warm-up
and cosine decay, weight averaging); ``torchcfm``'s 2-D examples use ``width=64``,
``activation="selu"``, ``input_frequencies=0``, ``standardize=False``, ``lr=1e-3``,
``warmup_steps=0``, ``final_lr=1``, ``ema_decay=0``, ``batch_size=256``,
``time_sampling="uniform"`` and a raw t input, and blur their paths with σ = 0.1 where this
family keeps σ = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from genbench.models.nn import (
    Standardizer,
    as_batch,
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

COUPLINGS = ("independent", "ot")
TIME_SAMPLINGS = ("uniform", "logit_normal")
SOLVERS = ("euler", "midpoint")
ACTIVATIONS: dict[str, type[nn.Module]] = {"silu": nn.SiLU, "selu": nn.SELU, "relu": nn.ReLU}
TIME_SCALE = 1000.0  # t ∈ [0, 1] is embedded as DDPM embeds its steps 0 … 999
LOG_2PI = math.log(2 * math.pi)

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x (n, 2), t (n,)) → (n, 2)


def ot_pairs(noise: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """``data`` reordered so that row i goes with ``noise`` row i in the pairing of least total
    squared distance (exact optimal transport between two equal-size batches: a permutation)."""
    import ot  # POT, imported when a flow trains with this coupling only

    cost = torch.cdist(noise, data).pow(2).double().cpu().numpy()
    weights = np.full(len(noise), 1 / len(noise))
    plan = ot.emd(weights, weights, cost)
    return data[torch.as_tensor(plan.argmax(axis=1), device=data.device)]


def integrate(
    velocity: Velocity, x: torch.Tensor, start: float, end: float, steps: int, solver: str
) -> torch.Tensor:
    """x carried from time ``start`` to ``end`` along dx/dt = velocity(x, t), fixed steps."""
    dt = (end - start) / steps
    for k in range(steps):
        t = torch.full(x.shape[:1], start + k * dt, device=x.device)
        if solver == "euler":
            x = x + dt * velocity(x, t)
        else:  # midpoint
            half = x + dt / 2 * velocity(x, t)
            x = x + dt * velocity(half, t + dt / 2)
    return x


@models.register("fm")
@dataclass(eq=False)
class FlowMatching(StackableModel):
    """x₁ by integrating a velocity field learned by conditional flow matching from N(0, I₂)."""

    name: ClassVar[str] = "fm"
    stacked_modules: ClassVar[tuple[str, ...]] = ("network",)
    # how samples and log_prob integrate the flow, not how it trains: entries that differ only
    # in these share one trained network
    sampling_params: ClassVar[tuple[str, ...]] = ("sampler", "sampling_steps", "likelihood_steps")
    fixed_latent_dim: ClassVar[int | None] = 2
    has_log_prob: ClassVar[bool] = True

    latent_dim: int = 2  # ignored: x₀ lives in the data space
    device: str = "cpu"  # torch device to train and sample on
    coupling: str = "independent"  # how noise and data are paired: "independent" or "ot"
    width: int = 128  # units of each hidden layer of v_θ
    depth: int = 3  # hidden layers of v_θ
    activation: str = "silu"  # "silu", "selu" (torchcfm's) or "relu"
    time_embedding_dim: int = 32  # size of the sinusoidal embedding of t fed to v_θ with x_t
    # v_θ also sees sin and cos of each coordinate of x_t at this many frequencies (0: x_t only)
    input_frequencies: int = 64
    input_scale: float = 25.0  # the highest of those frequencies, radians per unit of x_t
    standardize: bool = True  # learn the data standardised (mean 0, unit spread), not raw
    # the training times: "uniform" on [0, 1], or "logit_normal", sigmoid(time_location + n)
    # with n ~ N(0, 1), which trains the paths' middle (location 0) or, for a location above
    # 0, their end near the data more often than uniform times do; of these, a share
    # ``time_uniform`` is drawn uniformly instead (the default mixes half and half; 0 gives
    # Stable Diffusion 3's logit-normal law alone)
    time_sampling: str = "logit_normal"
    time_location: float = 1.5
    time_uniform: float = 0.5
    batch_size: int = 512  # target draws (and noise draws) per step
    lr: float = 4e-3  # peak Adam learning rate (DDPM's)
    warmup_steps: int = 100  # the learning rate ramps up over these, then decays (cosine)
    final_lr: float = 0.1  # the rate at the last step, as a fraction of ``lr``; 1: constant
    ema_decay: float = 0.999  # > 0: sample with an exponential moving average of the weights
    sampler: str = "midpoint"  # fixed-step ODE solver of the samples: "euler" or "midpoint"
    sampling_steps: int = 50  # its steps from t = 0 to 1 (midpoint: 2 network calls each)
    likelihood_steps: int = 100  # midpoint steps of log_prob's integral, from t = 1 to 0

    def __post_init__(self) -> None:
        check_schedule(self)
        for value, known, what in [
            (self.coupling, COUPLINGS, "coupling"),
            (self.time_sampling, TIME_SAMPLINGS, "time_sampling"),
            (self.sampler, SOLVERS, "sampler"),
            (self.activation, tuple(ACTIVATIONS), "activation"),
        ]:
            if value not in known:
                raise ValueError(f"{what} must be one of {', '.join(known)}, got {value!r}")
        if self.sampling_steps < 1 or self.likelihood_steps < 1:
            raise ValueError("sampling_steps and likelihood_steps must be at least 1")
        if not 0 <= self.time_uniform <= 1:
            raise ValueError(f"time_uniform must be in [0, 1], got {self.time_uniform}")
        if not math.isfinite(self.time_location):
            raise ValueError(f"time_location must be a finite number, got {self.time_location}")
        if self.time_embedding_dim < 2 or self.time_embedding_dim % 2:
            raise ValueError(f"time_embedding_dim must be even, got {self.time_embedding_dim}")

    def _build(self, seed: int = 0) -> None:
        in_features = 2 * (1 + 2 * self.input_frequencies) + self.time_embedding_dim
        layers = [self.width] * self.depth
        with seeded_init(derive_seed(seed, "init")):
            network = mlp(in_features, layers, 2, ACTIVATIONS[self.activation])
        self.network_ = network.to(self.device)
        self.standardizer_ = Standardizer().to(self.device)  # the identity until _prepare

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "network_")
        return {"network": self.network_, "standardizer": self.standardizer_}

    def _velocity(
        self, x: torch.Tensor, t: torch.Tensor, network: nn.Module | None = None
    ) -> torch.Tensor:
        """v_θ(x, t) for ``x`` (..., 2) and times ``t`` (...) in [0, 1]; (..., 2)."""
        embedding = sinusoidal_embedding(t.reshape(-1) * TIME_SCALE, self.time_embedding_dim)
        embedding = embedding.reshape(*t.shape, -1)
        features = fourier_features(x, self.input_frequencies, self.input_scale)
        return (network or self.network_)(torch.cat([features, embedding], dim=-1))

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[FlowMatching],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        noise = Streams([derive_seed(seed, "noise") for seed in seeds], self.device, single)
        network = networks["network"]

        def step_losses(step: int, x_1: torch.Tensor) -> torch.Tensor:  # x_1: ([M,] batch, 2)
            x_0 = noise.randn(self.batch_size, 2)
            if self.coupling == "ot":
                x_1 = torch.stack(
                    [
                        ot_pairs(a, b)
                        for a, b in zip(
                            x_0.view(-1, *x_0.shape[-2:]),
                            x_1.view(-1, *x_1.shape[-2:]),
                            strict=True,
                        )
                    ]
                ).view(x_1.shape)
            t = self._times(noise)  # ([M,] batch)
            x_t = (1 - t[..., None]) * x_0 + t[..., None] * x_1
            error = (self._velocity(x_t, t, network) - (x_1 - x_0)) ** 2
            return model_means(error, single)

        optimise(self, network, models, targets, seeds, steps, monitor, single, step_losses)

    def _times(self, noise: Streams) -> torch.Tensor:
        """A step's training times in [0, 1], ([M,] batch_size), drawn by ``time_sampling``."""
        if self.time_sampling == "uniform":
            return noise.rand(self.batch_size)
        t = torch.sigmoid(self.time_location + noise.randn(self.batch_size))
        if not self.time_uniform:
            return t
        uniform, chosen = noise.rand(self.batch_size), noise.rand(self.batch_size)
        return torch.where(chosen < self.time_uniform, uniform, t)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "network_")
        rng = generator(derive_seed(seed, "sample"), self.device)

        def draw(count: int) -> torch.Tensor:
            x_0 = torch.randn(count, 2, generator=rng, device=self.device)
            x_1 = integrate(self._velocity, x_0, 0.0, 1.0, self.sampling_steps, self.sampler)
            return self.standardizer_.inverse(x_1)

        return sample_in_chunks(draw, num_samples, self.device)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """log q(x) for ``x`` (n, 2), (n,) float64: the change of variables along the learned
        flow, integrated backwards from x by the midpoint rule in ``likelihood_steps`` steps."""
        check_fitted(self, "network_")
        points = as_batch(x, self.device)  # ValueError for anything but (n, 2)
        parts = [self._log_prob(chunk) for chunk in points.split(8192)]
        return torch.cat(parts).double().cpu().numpy() if parts else np.zeros(0)

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        def augmented(state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            """d/dt of (x, −log density) along the flow: (v, ∇·v), exact in 2-D."""
            with torch.enable_grad():
                y = state[:, :2].detach().requires_grad_(True)
                v = self._velocity(y, t)
                divergence = sum(
                    torch.autograd.grad(v[:, i].sum(), y, retain_graph=i == 0)[0][:, i]
                    for i in range(2)
                )
            return torch.cat([v.detach(), divergence.detach()[:, None]], dim=1)

        y_1 = self.standardizer_(x)
        start = torch.cat([y_1, torch.zeros_like(y_1[:, :1])], dim=1)  # (n, 3)
        end = integrate(augmented, start, 1.0, 0.0, self.likelihood_steps, "midpoint")
        y_0, integral = end[:, :2], end[:, 2]  # integral: ∫₁⁰ ∇·v dt = −∫₀¹ ∇·v dt
        log_noise = -0.5 * (y_0**2).sum(dim=1) - LOG_2PI
        return log_noise + integral + self.standardizer_.log_abs_det()

"""RealNVP (Dinh et al., 2017): a bijection of the plane with an exact log-density.

Each affine coupling layer keeps one coordinate and moves the other,

    z_b = x_b · exp(s(x_a)) + t(x_a),    log |det ∂z/∂x| = s(x_a),

with (a, b) = (0, 1) and (1, 0) in alternating layers, s and t from one MLP of x_a. The data
map x → z ends at the base N(0, I₂), so by the change of variables

    log q(x) = log N(f(x); 0, I₂) + Σ_layers s(x_a),

and sampling runs the layers backwards from z ~ N(0, I₂). The latent size is forced to 2.

The flow works on the data standardised to mean 0 and unit spread (``standardize``; a fixed
affine map whose log-determinant −2 log(scale) enters ``log_prob``), and each conditioner sees
sin and cos of its input coordinate at ``input_frequencies`` frequencies besides the coordinate
itself, so that a coupling can bend as sharply as the spiral's turns.

Training clips each step's gradient to a norm of ``max_grad_norm``. Without it, in the
convergence study's 30,000-step runs on the spiral, two seeds of three ended with much of their
mass between the arms, worse than after 10,000 steps (see results/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
    zero_last_,
)
from genbench.models.stack import Monitor, StackableModel, model_means, optimise
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

LOG_2PI = math.log(2 * math.pi)


@models.register("realnvp")
@dataclass(eq=False)
class RealNVP(StackableModel):
    """x = f⁻¹(z), z ~ N(0, I₂); f a stack of affine couplings trained by maximum likelihood."""

    name = "realnvp"
    stacked_modules = ("couplings",)
    has_log_prob = True
    fixed_latent_dim = 2

    latent_dim: int = 2  # ignored: a flow's latent space is the data space
    device: str = "cpu"  # torch device to train and sample on
    num_couplings: int = 8  # coupling layers, alternating which coordinate moves
    width: int = 64  # units of each hidden layer of a coupling's scale/shift MLP
    depth: int = 2  # hidden layers of each scale/shift MLP
    max_log_scale: float = 2.0  # s = max_log_scale · tanh(·): a layer scales by e^±2 at most
    # each conditioner sees sin and cos of its input at this many frequencies (0: the input only)
    input_frequencies: int = 0
    input_scale: float = 10.0  # the highest of those frequencies, radians per unit
    standardize: bool = True  # model the data standardised (mean 0, unit spread), not raw
    batch_size: int = 512  # target draws per step
    lr: float = 3e-3  # peak Adam learning rate
    warmup_steps: int = 100  # the learning rate ramps up over these, then decays (cosine)
    final_lr: float = 0.1  # the rate at the last step, as a fraction of ``lr``; 1: constant
    ema_decay: float = 0.999  # > 0: keep an exponential moving average of the weights
    # > 0: each step's gradient is scaled down to this norm at most (0: no clipping)
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        check_schedule(self)
        if self.max_grad_norm < 0:
            raise ValueError(
                f"max_grad_norm must be 0 (no clipping) or more, got {self.max_grad_norm}"
            )

    def _build(self, seed: int = 0) -> None:
        with seeded_init(derive_seed(seed, "init")):
            # Zero last layers: every coupling starts as the identity, so training starts
            # from the base density and no early step can blow up the scales.
            in_features = 1 + 2 * self.input_frequencies
            self.couplings_ = nn.ModuleList(
                zero_last_(mlp(in_features, [self.width] * self.depth, 2, nn.SiLU))
                for _ in range(self.num_couplings)
            ).to(self.device)
        self.standardizer_ = Standardizer().to(self.device)  # the identity until _prepare

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "couplings_")
        return {"couplings": self.couplings_, "standardizer": self.standardizer_}

    def _scale_shift(
        self, couplings: nn.Module, layer: int, x_a: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-scale s and shift t of coupling ``layer`` given the kept coordinate, (...,) each."""
        features = fourier_features(x_a[..., None], self.input_frequencies, self.input_scale)
        raw_scale, shift = couplings[layer](features).unbind(-1)
        return self.max_log_scale * torch.tanh(raw_scale / self.max_log_scale), shift

    def to_latent(
        self, x: torch.Tensor, couplings: nn.Module | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(x) and log |det ∂f/∂x| for ``x`` (..., 2); (..., 2) and (...,)."""
        couplings = couplings or self.couplings_
        columns = list(x.unbind(-1))
        log_det = torch.zeros(x.shape[:-1], device=x.device)
        for layer in range(self.num_couplings):
            a, b = layer % 2, 1 - layer % 2  # kept and moved coordinate
            log_scale, shift = self._scale_shift(couplings, layer, columns[a])
            columns[b] = columns[b] * torch.exp(log_scale) + shift
            log_det = log_det + log_scale
        return torch.stack(columns, -1), log_det

    def to_data(self, z: torch.Tensor) -> torch.Tensor:
        """x = f⁻¹(z) for ``z`` (n, 2), (n, 2): the layers undone in reverse order."""
        columns = list(z.unbind(-1))
        for layer in reversed(range(self.num_couplings)):
            a, b = layer % 2, 1 - layer % 2
            log_scale, shift = self._scale_shift(self.couplings_, layer, columns[a])
            columns[b] = (columns[b] - shift) * torch.exp(-log_scale)
        return torch.stack(columns, -1)

    def _log_prob(
        self,
        x: torch.Tensor,
        couplings: nn.Module | None = None,
        standardize: nn.Module | None = None,
    ) -> torch.Tensor:
        """log q(x) for ``x`` (..., 2) in the target's units, (...)."""
        standardize = standardize or self.standardizer_
        return self._standard_log_prob(standardize(x), couplings, standardize.log_abs_det())

    def _standard_log_prob(
        self, y: torch.Tensor, couplings: nn.Module | None, log_abs_det: torch.Tensor
    ) -> torch.Tensor:
        """log q at the points whose standardised coordinates are ``y`` (..., 2), (...), given
        the standardising map's ``log_abs_det``: log N(f(y); 0, I₂) + log |det|."""
        z, log_det = self.to_latent(y, couplings)
        return -0.5 * (z**2).sum(-1) - LOG_2PI + (log_det + log_abs_det)

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[RealNVP],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        couplings = networks["couplings"]
        log_abs_det = Standardizer.stacked([m.standardizer_ for m in models], single).log_abs_det()

        def step_losses(step: int, y: torch.Tensor) -> torch.Tensor:  # y: ([M,] batch, 2)
            # negative log-likelihood, nats per point, of the points in the target's units
            log_prob = self._standard_log_prob(y, couplings, log_abs_det)
            return model_means(-log_prob, single)

        optimise(
            self, couplings, models, targets, seeds, steps, monitor, single, step_losses,
            self.max_grad_norm,
        )  # fmt: skip

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "couplings_")
        rng = generator(derive_seed(seed, "sample"), self.device)
        return sample_in_chunks(
            lambda count: self.standardizer_.inverse(
                self.to_data(torch.randn(count, 2, generator=rng, device=self.device))
            ),
            num_samples,
            self.device,
        )

    @torch.inference_mode()
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """The exact log-density log q(x) at ``x`` (n, 2), (n,) float64."""
        check_fitted(self, "couplings_")
        return self._log_prob(as_batch(x, self.device)).double().cpu().numpy()

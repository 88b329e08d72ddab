"""RealNVP (Dinh et al., 2017): a bijection of the plane with an exact log-density.

Each affine coupling layer keeps one coordinate and moves the other,

    z_b = x_b · exp(s(x_a)) + t(x_a),    log |det ∂z/∂x| = s(x_a),

with (a, b) = (0, 1) and (1, 0) in alternating layers, s and t from one MLP of x_a. The data
map x → z ends at the base N(0, I₂), so by the change of variables

    log q(x) = log N(f(x); 0, I₂) + Σ_layers s(x_a),

and sampling runs the layers backwards from z ~ N(0, I₂). The latent size is forced to 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genbench.models.nn import (
    adam,
    as_batch,
    check_fitted,
    generator,
    mlp,
    sample_in_chunks,
    seeded_init,
    zero_last_,
)
from genbench.models.stack import Monitor, StackableModel, descend, model_means, stacked_batches
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
    batch_size: int = 256  # target draws per step
    lr: float = 1e-3  # Adam learning rate

    def _build(self, seed: int = 0) -> None:
        with seeded_init(derive_seed(seed, "init")):
            # Zero last layers: every coupling starts as the identity, so training starts
            # from the base density and no early step can blow up the scales.
            self.couplings_ = nn.ModuleList(
                zero_last_(mlp(1, [self.width] * self.depth, 2, nn.SiLU))
                for _ in range(self.num_couplings)
            ).to(self.device)

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "couplings_")
        return {"couplings": self.couplings_}

    def _scale_shift(
        self, couplings: nn.Module, layer: int, x_a: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-scale s and shift t of coupling ``layer`` given the kept coordinate, (...,) each."""
        raw_scale, shift = couplings[layer](x_a[..., None]).unbind(-1)
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

    def _log_prob(self, x: torch.Tensor, couplings: nn.Module | None = None) -> torch.Tensor:
        z, log_det = self.to_latent(x, couplings)
        return -0.5 * (z**2).sum(-1) - LOG_2PI + log_det  # log N(z; 0, I₂) + log |det|

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
        optimizer = adam(couplings.parameters(), lr=self.lr, fused=single)
        batches = stacked_batches(targets, self.batch_size, steps, seeds, self.device, single)
        for step, x in enumerate(batches, start=1):  # x: ([M,] batch, 2)
            # negative log-likelihood, nats per point
            losses = model_means(-self._log_prob(x, couplings), single)  # per model
            descend(optimizer, losses.sum())
            monitor.report(step, losses)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "couplings_")
        rng = generator(derive_seed(seed, "sample"), self.device)
        return sample_in_chunks(
            lambda count: self.to_data(torch.randn(count, 2, generator=rng, device=self.device)),
            num_samples,
            self.device,
        )

    @torch.inference_mode()
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """The exact log-density log q(x) at ``x`` (n, 2), (n,) float64."""
        check_fitted(self, "couplings_")
        return self._log_prob(as_batch(x, self.device)).double().cpu().numpy()

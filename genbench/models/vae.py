"""The variational autoencoder: a k-dim latent space with a KL-regularised encoder.

p(z) = N(0, I_k), p(x | z) = N(x; μ_θ(z), diag σ²_θ(z)), q(z | x) = N(z; μ_φ(x), diag σ²_φ(x)).
Training maximises the β-ELBO, E_q[log p(x | z)] − β·KL(q(z | x) ‖ p(z)), by the
reparameterisation trick. Samples come from the whole generative model p(z) p(x | z), decoder
noise included, so that ``sample`` and ``log_prob`` describe the same distribution.

The decoder predicts its variance per point and per dimension (heteroscedastic). A fixed small
variance makes reconstruction dominate: the encoder must store every point in z, the aggregate
posterior drifts away from N(0, I) and prior samples land off the data. A learned variance lets
the model trade reconstruction for KL, and one that depends on z lets a k < 2 latent draw a
curve and spread the missing dimension as local noise of the right width (the spiral's arm is
0.1 wide, the eight modes' 0.2). In short runs a single learned variance per dimension smeared
the spiral (W2 0.25–0.7 against 0.10–0.12 here). Its log is bounded below for stability.

``prior`` constrains the latent space the decoder reads: ``"uniform"`` (U[0, 1)^k) or
``"sphere"`` (uniform on the unit sphere S^(k−1)) instead of N(0, I_k). Each is the image of
N(0, I_k) under a fixed map g (the normal CDF per coordinate; u ↦ u / ‖u‖), so the model is
p(x) = ∫ p(x | g(u)) N(u; 0, I) du: the encoder, the KL term and the bound stay those of a
Gaussian u, and the decoder sees g(u), whose law is the constrained prior. The sphere needs
k ≥ 2: on S⁰ the map is sign(u), whose gradient is zero, so the encoder could not learn.

``conditional=True`` makes it a conditional VAE on the target's regions (see
``genbench.models.labels``): q(z | x, y) sees the one-hot label beside x, and p(x | z, y)
reads it through ``label_input`` (embed(y) ⊙ g(z), or [embed(y), g(z)]); samples draw y from
the regions' masses, and ``log_prob`` bounds log Σ_y p(y) p(x | y) by the log-sum of p(y)
times each label's bound. Train it with ``kl_warmup=0``: during a warm-up the code learns which
mode a point is in before the KL term bites, and the decoder then reads the mode from z, not
from y (on ``eight_gaussians``, latent 2, 1,500 steps: label fidelity 0.82 with the default
warm-up, 1.00 without).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.models.labels import (
    LABEL_INPUTS,
    LABEL_SLOTS,
    LabelInput,
    LabelPrior,
    batch_labels,
    label_stream,
    one_hot,
)
from genbench.models.nn import (
    Standardizer,
    as_batch,
    check_fitted,
    check_schedule,
    fourier_features,
    generator,
    mlp,
    on_sphere,
    sample_in_chunks,
    seeded_init,
)
from genbench.models.stack import (
    Monitor,
    StackableModel,
    Streams,
    model_means,
    optimise,
)
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

LOG_2PI = math.log(2 * math.pi)

# The fixed map g from N(0, I_k) to each prior the decoder can read (see the module's notes).
LATENT_MAPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "normal": lambda u: u,
    "uniform": lambda u: 0.5 * (1 + torch.erf(u / math.sqrt(2))),  # Φ(u): U[0, 1)
    "sphere": on_sphere,
}


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(log_var)) summed over the last axis."""
    return -0.5 * (LOG_2PI + log_var + (x - mean) ** 2 * torch.exp(-log_var)).sum(-1)


@models.register("vae")
@dataclass(eq=False)
class VAE(StackableModel):
    """x ~ N(μ_θ(z), σ²_θ(z)), z ~ N(0, I_k); trained on the β-ELBO.

    ``log_prob`` is the importance-weighted bound of Burda et al. (2016) with
    K = ``log_prob_samples`` draws from q(z | x); K = 1 gives the ELBO. It is a lower bound on
    log q(x) that tightens as K grows, and is deterministic (its draws use a fixed seed). It
    weighs the KL term by 1 whatever ``beta``: it bounds the model's density, not the loss.
    """

    name = "vae"
    stacked_modules = ("encoder", "decoder")
    has_log_prob = True
    log_prob_is_bound = True

    latent_dim: int = 2  # k, size of the latent space (swept like the GAN's)
    device: str = "cpu"  # torch device to train and sample on
    beta: float = 1.0  # weight of KL(q(z|x) ‖ N(0, I)); 1 gives the true ELBO
    prior: str = "normal"  # the decoder's latent law: "normal", "uniform" or "sphere" (above)
    # the KL weight ramps linearly from 0 to ``beta`` over this fraction of the steps: the
    # decoder learns to use z before the KL term pulls q(z|x) to the prior (on eight_gaussians
    # it halved the samples off the modes); 0: ``beta`` from the first step
    kl_warmup: float = 0.3
    width: int = 128  # units of each hidden layer, encoder and decoder alike
    depth: int = 3  # hidden layers of each network
    min_log_var: float = -9.0  # lower bound on the decoder's log σ² (σ ≥ 0.011): stability
    # the decoder sees sin and cos of each latent coordinate at this many frequencies, and the
    # encoder of each data coordinate (0: the coordinates only)
    input_frequencies: int = 0
    input_scale: float = 10.0  # the highest of those frequencies, radians per unit
    standardize: bool = True  # model the data standardised (mean 0, unit spread), not raw
    batch_size: int = 256  # target draws per step
    lr: float = 1e-3  # peak Adam learning rate
    # the learning rate ramps up over these steps, then decays (cosine); 0: no ramp, which keeps
    # the VAE out of posterior collapse (with a ramp, the KL term wins the first steps and the
    # decoder learns to ignore z: the model is a single Gaussian)
    warmup_steps: int = 0
    final_lr: float = 0.1  # the rate at the last step, as a fraction of ``lr``; 1: constant
    ema_decay: float = 0.999  # > 0: keep an exponential moving average of the weights
    log_prob_samples: int = 64  # K of the importance-weighted bound that log_prob returns
    # a conditional VAE: labels are the target's regions, the encoder sees y, the decoder reads
    # it through ``label_input`` ("product": embed(y) ⊙ z, "concat": [embed(y), z])
    conditional: bool = False
    label_input: str = "product"

    def __post_init__(self) -> None:
        check_schedule(self)
        if self.prior not in LATENT_MAPS:
            raise ValueError(f"prior must be one of {', '.join(LATENT_MAPS)}, got {self.prior!r}")
        if self.prior == "sphere" and self.latent_dim == 1:  # S⁰ = {±1}: sign(u), no gradient
            raise ValueError(
                "the sphere prior needs latent_dim >= 2 for the VAE (S⁰ is two points)"
            )
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be a positive number, got {self.beta}")
        if self.label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {LABEL_INPUTS}, got {self.label_input!r}")
        if not 0 <= self.kl_warmup <= 1:
            raise ValueError(
                f"kl_warmup is a fraction of the steps in [0, 1], got {self.kl_warmup}"
            )

    def _build(self, seed: int = 0) -> None:
        hidden = [self.width] * self.depth
        widen = 1 + 2 * self.input_frequencies  # features per input coordinate
        label_inputs = LABEL_SLOTS if self.conditional else 0  # the encoder sees the label
        with seeded_init(derive_seed(seed, "init")):
            self.encoder_ = mlp(2 * widen + label_inputs, hidden, 2 * self.latent_dim, nn.SiLU)
            self.encoder_ = self.encoder_.to(self.device)
            inputs = self.latent_dim  # the decoder's body reads z, or u if conditional
            if self.conditional:
                inputs = LabelInput.width(self.latent_dim, self.label_input)
            self.decoder_ = mlp(inputs * widen, hidden, 4, nn.SiLU).to(self.device)
            if self.conditional:  # the features of u (embed(y) and z), not of z
                features = partial(
                    fourier_features, count=self.input_frequencies, scale=self.input_scale
                )
                self.decoder_ = LabelInput(
                    self.latent_dim, self.decoder_, self.label_input, features
                )
                self.decoder_ = self.decoder_.to(self.device)
                self.labels_ = LabelPrior().to(self.device)
        self.standardizer_ = Standardizer().to(self.device)  # the identity until _prepare

    def _prepare(self, target: Target, seed: int) -> None:
        super()._prepare(target, seed)
        if self.conditional:
            self.labels_.fit(target)

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "encoder_")
        return {
            "encoder": self.encoder_,
            "decoder": self.decoder_,
            "standardizer": self.standardizer_,
            **({"labels": self.labels_} if self.conditional else {}),
        }

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return fourier_features(x, self.input_frequencies, self.input_scale)

    def _encode(
        self,
        x: torch.Tensor,
        encoder: nn.Module | None = None,
        labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x[, y]) for standardised ``x``, each (..., k);
        ``labels`` one-hot (..., ``LABEL_SLOTS``) for a conditional VAE."""
        inputs = self._features(x)
        if labels is not None:
            inputs = torch.cat([inputs, labels.expand(*inputs.shape[:-1], -1)], dim=-1)
        mean, log_var = (encoder or self.encoder_)(inputs).chunk(2, dim=-1)
        return mean, log_var

    def _decode(
        self,
        z: torch.Tensor,
        decoder: nn.Module | None = None,
        labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of p(x | g(z)[, y]), standardised, each (..., 2); g the
        prior's map, ``labels`` one-hot for a conditional VAE."""
        z = LATENT_MAPS[self.prior](z)
        network = decoder or self.decoder_
        if labels is not None:
            output = network(z, labels.expand(*z.shape[:-1], -1))
        else:
            output = network(self._features(z))
        mean, raw = output.chunk(2, dim=-1)
        return mean, self.min_log_var + F.softplus(raw - self.min_log_var)  # smooth max

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[VAE],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        encoder, decoder = networks["encoder"], networks["decoder"]
        noise = Streams([derive_seed(seed, "noise") for seed in seeds], self.device, single)
        warmup = self.kl_warmup * steps

        def step_losses(step: int, x: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
            # x: ([M,] batch, 2) standardised; raw: the same points in the targets' units
            labels = one_hot(batch_labels(targets, raw, single)) if self.conditional else None
            z_mean, z_log_var = self._encode(x, encoder, labels)  # ([M,] batch, k) each
            eps = noise.randn(self.batch_size, self.latent_dim)
            z = z_mean + torch.exp(0.5 * z_log_var) * eps
            reconstruction = gaussian_log_prob(x, *self._decode(z, decoder, labels))  # ([M,] B)
            kl = 0.5 * (z_mean**2 + torch.exp(z_log_var) - 1 - z_log_var).sum(-1)  # ([M,] batch)
            weight = self.beta * min(1.0, step / warmup) if warmup else self.beta
            return model_means(weight * kl - reconstruction, single)

        both = nn.ModuleList([encoder, decoder])
        optimise(self, both, models, targets, seeds, steps, monitor, single, step_losses, raw=True)

    def _draw(
        self,
        count: int,
        rng: torch.Generator,
        labels: Callable[[int], torch.Tensor | None],
    ) -> torch.Tensor:
        """``count`` samples of the whole generative model, decoder noise included, in the
        target's units; ``labels(count)``, called after the latent draws, gives their one-hot
        labels (None: unconditional)."""
        z = torch.randn(count, self.latent_dim, generator=rng, device=self.device)
        mean, log_var = self._decode(z, labels=labels(count))  # (count, 2) each
        eps = torch.randn(mean.shape, generator=rng, device=self.device)
        return self.standardizer_.inverse(mean + torch.exp(0.5 * log_var) * eps)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "decoder_")
        rng = generator(derive_seed(seed, "sample"), self.device)

        def from_masses(count: int) -> torch.Tensor | None:  # labels from the regions' masses
            return one_hot(self.labels_.sample(count, rng)) if self.conditional else None

        return sample_in_chunks(lambda n: self._draw(n, rng, from_masses), num_samples, self.device)

    @torch.inference_mode()
    def sample_given(self, labels: np.ndarray, seed: int) -> np.ndarray:
        """One sample for each label of ``labels`` (n,) (region indices of the target it was
        trained on), (n, 2); a conditional VAE only."""
        check_fitted(self, "decoder_")
        given = label_stream(self, labels)
        rng = generator(derive_seed(seed, "sample_given"), self.device)
        return sample_in_chunks(lambda n: self._draw(n, rng, given), len(labels), self.device)

    @torch.inference_mode()
    def rate_distortion(
        self, x: np.ndarray, seed: int = 0, labels: np.ndarray | None = None
    ) -> tuple[float, float]:
        """(rate, distortion) of the points ``x`` (n, 2), in nats per point; a conditional VAE
        needs their ``labels`` (n,) (``Target.label_of``).

        The rate is E_x KL(q(z | x) ‖ N(0, I)), the information the code carries about x; the
        distortion is −E_x E_{q(z | x)} log p(x | z) in the target's units, one draw of z per
        point (fixed by ``seed``). Their sum is the negative ELBO (β = 1): β trades one for the
        other (Alemi et al., 2018).
        """
        check_fitted(self, "encoder_")
        points = self.standardizer_(as_batch(x, self.device))  # (n, 2), standardised
        if self.conditional != (labels is not None):
            raise ValueError("labels are for a conditional VAE, and one needs them")
        if labels is not None:
            labels = one_hot(torch.as_tensor(np.asarray(labels, np.int64), device=self.device))
        rng = generator(derive_seed(seed, "rate_distortion"), self.device)
        z_mean, z_log_var = self._encode(points, labels=labels)  # (n, k) each
        eps = torch.randn(z_mean.shape, generator=rng, device=self.device)
        z = z_mean + torch.exp(0.5 * z_log_var) * eps
        kl = 0.5 * (z_mean**2 + torch.exp(z_log_var) - 1 - z_log_var).sum(-1)  # (n,)
        log_likelihood = (
            gaussian_log_prob(points, *self._decode(z, labels=labels))
            + self.standardizer_.log_abs_det()
        )
        return float(kl.double().mean()), float(-log_likelihood.double().mean())

    @torch.inference_mode()
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """log (1/K) Σ_k p(x, z_k) / q(z_k | x), z_k ~ q(z | x): a lower bound on log q(x), (n,).

        ``x`` is (n, 2); K = ``log_prob_samples``. A conditional VAE's is
        log Σ_y p(y) · bound(x | y) over its labels: a lower bound on log Σ_y p(y) q(x | y).
        """
        return self._lower_bound(x, importance_weighted=True)

    @torch.inference_mode()
    def elbo(self, x: np.ndarray) -> np.ndarray:
        """(1/K) Σ_k log p(x, z_k) / q(z_k | x), z_k ~ q(z | x): the ELBO at each point, (n,),
        averaged over the same K draws as ``log_prob``, whose bound it never exceeds (Jensen).

        The looser of the two lower bounds on log q(x), and for an unconditional VAE the one
        it is trained on (at β = 1). A conditional VAE's is log Σ_y p(y) · exp(ELBO(x | y)),
        a lower bound on log Σ_y p(y) q(x | y) (it trains on ELBO(x | y) at each point's label).
        """
        return self._lower_bound(x, importance_weighted=False)

    def _lower_bound(self, x: np.ndarray, importance_weighted: bool) -> np.ndarray:
        check_fitted(self, "encoder_")
        points = self.standardizer_(as_batch(x, self.device))  # (n, 2), standardised
        if not self.conditional:
            return self._bound(points, None, importance_weighted).double().cpu().numpy()
        masses = self.labels_.masses[: self.labels_.count]
        per_label = torch.stack(
            [
                self._bound(
                    points, one_hot(torch.tensor(label, device=self.device)), importance_weighted
                )
                + mass.log()
                for label, mass in enumerate(masses)
            ]
        )  # (labels, n)
        return torch.logsumexp(per_label, dim=0).double().cpu().numpy()

    def _bound(
        self, points: torch.Tensor, label: torch.Tensor | None, importance_weighted: bool
    ) -> torch.Tensor:
        """The importance-weighted bound (or the ELBO) at standardised ``points`` (n, 2), in
        the target's units, (n,); given the one-hot ``label`` for a conditional VAE."""
        rng = generator(derive_seed(0, "log_prob"), self.device)
        num_draws = self.log_prob_samples
        chunk = max(1, 2**20 // (num_draws * max(self.latent_dim, self.width)))
        bounds = [torch.zeros(0, device=self.device)]
        for start in range(0, len(points), chunk):
            x_chunk = points[start : start + chunk]  # (m, 2)
            z_mean, z_log_var = self._encode(x_chunk, labels=label)  # (m, k) each
            eps = torch.randn((num_draws, *z_mean.shape), generator=rng, device=self.device)
            z = z_mean + torch.exp(0.5 * z_log_var) * eps  # (K, m, k)
            log_weights = (
                gaussian_log_prob(x_chunk, *self._decode(z, labels=label))  # log p(x | z)
                + gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))  # log p(z)
                - gaussian_log_prob(z, z_mean, z_log_var)  # log q(z | x)
            )  # (K, m)
            if importance_weighted:
                bound = torch.logsumexp(log_weights, dim=0) - math.log(num_draws)
            else:
                bound = log_weights.mean(dim=0)
            bounds.append(bound + self.standardizer_.log_abs_det())  # in the target's units
        return torch.cat(bounds)

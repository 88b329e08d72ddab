"""The convolutional variational autoencoder for image targets.

q(z | x) = N(z; μ_φ(x), diag σ²_φ(x)): two strided convolutions take the h × w image to C maps
of (h/2) × (w/2), then 2C of (h/4) × (w/4), and a linear head reads μ and log σ² off them.
p(x | z) = N(x; μ_θ(z), diag σ²_θ(z)) over the h · w pixels in the targets' [-1, 1]: the
decoder mirrors the DCGAN generator (``genbench.models.dcgan``), a linear projection of z to 2C
maps of (h/4) × (w/4), then two transposed convolutions up to two channels of h × w, the mean
(squashed by tanh into [-1, 1]) and the log-variance of each pixel. p(z) = N(0, I_k), read by
the decoder through the prior's map g as in ``genbench.models.vae`` (``prior``). Training
maximises the β-ELBO, E_q[log p(x | z)] − β·KL(q(z | x) ‖ p(z)), by the reparameterisation
trick, with the KL weight warmed up as the 2-D VAE's.

The variance is the decoder's, per image and per pixel, bounded below by ``min_log_var``. A
digit's background is exactly −1 in nearly every image: a per-pixel variance lets the decoder
be sure of it and unsure along the strokes, so that samples drawn with their noise (below) have
a clean background and noise only where the training images vary. A single learned scale for
all pixels (Rybkin et al.'s σ-VAE) spreads the strokes' uncertainty over the whole image
instead, background included: on digits (latent 10, C = 32, 1,000 steps, seeds 0 and 1) its
samples scored KID 4.2 and 5.2 against 2.4 and 2.7 here, and its bound on the held-out images
was −41 nats per image against +30. The floor keeps the constant pixels from turning the
density into spikes: the 8 × 8 digits are counts 0..16, steps of 0.125 in [-1, 1], and a σ far
below a step would model the quantisation, not the digits.

Samples come from the whole generative model p(z) p(x | z), decoder noise included, as the 2-D
VAE's: they are then draws of the distribution that ``log_prob`` bounds, and the image metrics
score the model, not its mean decoder μ_θ(z), z ~ p(z), which is no draw of it. The honest
choice costs little here: with the per-pixel variance the noise stays off the background, and on
digits (1,500 steps, C = 64) the samples and the mean images scored KID 1.6 and 2.2 at latent
2, 1.8 and 1.6 at 10, 1.5 and 1.6 at 100. Each pixel is then clipped to [-1, 1], the targets'
range: this moves the mass the Gaussian puts outside onto the edges, so ``log_prob`` bounds the
unclipped model's density.

Group normalisation, not batch normalisation: each image is normalised by its own statistics,
so the networks compute the same function in training and in use, the ELBO they were trained
on is the one ``log_prob`` and ``rate_distortion`` evaluate, and ``sample_given`` for one label
at a time needs no running statistics (compare the DCGAN's notes on eval mode).

``conditional=True`` makes it a conditional VAE on the target's classes (``Target.label_of``;
see ``genbench.models.labels``): the encoder sees the label as a second input channel, a learned
h × w map per label (the DCGAN discriminator's), and the decoder reads it through
``label_input`` (embed(y) ⊙ g(z), or [embed(y), g(z)]); samples draw y from the classes' masses,
and ``log_prob`` bounds log Σ_y p(y) p(x | y). Its default reads the label beside z, unlike the
other families: read as embed(y) ⊙ z, the label only rescales the code, the encoder puts the
class in z and the decoder reads it from there (on digits, C = 32, 800 steps, seeds 0 and 1:
label fidelity 0.25 to 0.31 against 0.88 to 0.96 with [embed(y), z]). As for the 2-D VAE,
train it with ``kl_warmup=0`` (the same runs: 0.95 without the warm-up, 0.89 with it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.gan import LatentPrior
from genbench.models.images import (
    IMAGE_SAMPLE_CHUNK,
    check_image_shape,
    image_batches,
    take_image_shape,
)
from genbench.models.labels import (
    LABEL_INPUTS,
    LABEL_SLOTS,
    LabelInput,
    LabelPrior,
    label_stream,
    one_hot,
)
from genbench.models.nn import adam, check_fitted, generator, sample_in_chunks, seeded_init
from genbench.models.stack import Monitor, descend
from genbench.models.vae import LATENT_MAPS, gaussian_log_prob
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

# Groups of each group normalisation: 8, or fewer where the channels do not divide into 8.
NORM_GROUPS = 8


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(NORM_GROUPS, channels), channels)


class Encoder(nn.Module):
    """q(z | x[, y]): images (n, h · w) → mean and log-variance (n, k) each; with
    ``conditional``, the one-hot labels (n, ``LABEL_SLOTS``) enter as a second input channel,
    a learned h × w map per label."""

    def __init__(
        self, height: int, width: int, channels: int, latent_dim: int, conditional: bool
    ) -> None:
        super().__init__()
        self.shape = (height, width)
        self.body = nn.Sequential(
            nn.Conv2d(1 + conditional, channels, 4, stride=2, padding=1),  # (n, C, h/2, w/2)
            group_norm(channels),
            nn.SiLU(),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1),  # (n, 2C, h/4, w/4)
            group_norm(2 * channels),
            nn.SiLU(),
            nn.Flatten(),
            nn.Linear(2 * channels * (height // 4) * (width // 4), 2 * latent_dim),
        )
        self.label_map = nn.Linear(LABEL_SLOTS, height * width, bias=False) if conditional else None
        if self.label_map is not None:
            nn.init.normal_(self.label_map.weight)  # on the pixels' scale, as the DCGAN's D

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images = x.view(-1, 1, *self.shape)  # (n, 1, h, w)
        if self.label_map is not None:
            assert labels is not None
            images = torch.cat([images, self.label_map(labels).view(-1, 1, *self.shape)], dim=1)
        mean, log_var = self.body(images).chunk(2, dim=-1)
        return mean, log_var


def decoder_body(inputs: int, height: int, width: int, channels: int) -> nn.Sequential:
    """p(x | z) without its label input: u (n, ``inputs``) → (n, 2, h · w), each pixel's raw
    mean and raw log-variance (``ConvVAE._decode`` bounds them)."""
    low = (2 * channels, height // 4, width // 4)  # the projection's feature maps
    return nn.Sequential(
        nn.Linear(inputs, low[0] * low[1] * low[2]),
        nn.Unflatten(1, low),  # (n, 2C, h/4, w/4)
        group_norm(2 * channels),
        nn.SiLU(),
        nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1),
        group_norm(channels),  # (n, C, h/2, w/2)
        nn.SiLU(),
        nn.ConvTranspose2d(channels, 2, 4, stride=2, padding=1),  # (n, 2, h, w)
        nn.Flatten(2),  # (n, 2, h · w): images travel flattened, as targets give them
    )


@models.register("conv_vae")
@dataclass(eq=False)
class ConvVAE(GenerativeModel):
    """x ~ N(μ_θ(z), σ²_θ(z)) per pixel, z ~ N(0, I_k), with convolutional networks; trained on
    the β-ELBO, one Adam step per batch of ``batch_size`` training images.

    ``log_prob`` is the importance-weighted bound of Burda et al. (2016) with
    K = ``log_prob_samples`` draws from q(z | x), in nats per image (a density over the h · w
    pixels in [-1, 1]); K = 1 gives the ELBO. It weighs the KL term by 1 whatever ``beta``.
    """

    name = "conv_vae"
    kinds: ClassVar[tuple[str, ...]] = ("images",)
    interpolates: ClassVar[bool] = True
    has_log_prob = True
    log_prob_is_bound = True

    latent_dim: int = 10  # k, size of the latent space (swept 1, 2, 3, 10, 100)
    device: str = "cpu"  # torch device to train and sample on
    width: int = 64  # C: channels of the (h/2)-side layers; the (h/4)-side ones have 2C
    batch_size: int = 64  # training images per step
    lr: float = 1e-3  # Adam learning rate
    beta: float = 1.0  # weight of KL(q(z|x) ‖ N(0, I)); 1 gives the true ELBO
    # the KL weight ramps linearly from 0 to ``beta`` over this fraction of the steps, as the
    # 2-D VAE's: the decoder learns to use z before the KL term pulls q(z|x) to the prior;
    # 0: ``beta`` from the first step
    kl_warmup: float = 0.3
    prior: str = "normal"  # the decoder's latent law: "normal", "uniform" or "sphere" (vae.py)
    # lower bound on each pixel's log σ² (σ ≥ 0.05, below half the digits' step of 0.125; see
    # the module's notes), reached smoothly
    min_log_var: float = -6.0
    log_prob_samples: int = 64  # K of the importance-weighted bound that log_prob returns
    # a conditional VAE: labels are the target's classes, the encoder sees y, the decoder reads
    # it through ``label_input`` ("concat": [embed(y), z], or "product": embed(y) ⊙ z, which
    # on digits the decoder learned to ignore; see the module's notes)
    conditional: bool = False
    label_input: str = "concat"
    # (h, w) of the images it learns: 0 takes the target's at ``fit``, which sets them, so that
    # a saved model rebuilds its networks; a nonzero shape must match the target's
    image_height: int = 0
    image_width: int = 0

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.prior not in LATENT_MAPS:
            raise ValueError(f"prior must be one of {', '.join(LATENT_MAPS)}, got {self.prior!r}")
        if self.prior == "sphere" and self.latent_dim == 1:  # S⁰ = {±1}: sign(u), no gradient
            raise ValueError("the sphere prior needs latent_dim >= 2 (S⁰ is two points)")
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be a positive number, got {self.beta}")
        if not 0 <= self.kl_warmup <= 1:
            raise ValueError(
                f"kl_warmup is a fraction of the steps in [0, 1], got {self.kl_warmup}"
            )
        if self.label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {LABEL_INPUTS}, got {self.label_input!r}")
        if self.width < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.log_prob_samples < 1:
            raise ValueError(f"log_prob_samples must be >= 1, got {self.log_prob_samples}")
        if (self.image_height, self.image_width) != (0, 0):
            check_image_shape(self.image_height, self.image_width, self.name)

    def _build(self, seed: int = 0) -> None:
        height, width = self.image_height, self.image_width
        check_image_shape(height, width, self.name)
        with seeded_init(derive_seed(seed, "init")):
            self.encoder_ = Encoder(height, width, self.width, self.latent_dim, self.conditional)
            self.encoder_ = self.encoder_.to(self.device)
            inputs = self.latent_dim  # the decoder's body reads g(z), or u if conditional
            if self.conditional:
                inputs = LabelInput.width(self.latent_dim, self.label_input)
            body = decoder_body(inputs, height, width, self.width)
            self.decoder_ = (
                LabelInput(self.latent_dim, body, self.label_input) if self.conditional else body
            ).to(self.device)
        if self.conditional:
            self.labels_ = LabelPrior().to(self.device)

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "encoder_")
        return {
            "encoder": self.encoder_,
            "decoder": self.decoder_,
            **({"labels": self.labels_} if self.conditional else {}),
        }

    # ------------------------------------------------------------------ the two networks
    def _decode(
        self, z: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of p(x | g(z)[, y]), each (n, h · w), for ``z`` (n, k) and the
        one-hot ``labels`` (n, ``LABEL_SLOTS``) of a conditional VAE."""
        u = LATENT_MAPS[self.prior](z)
        output = self.decoder_(u) if labels is None else self.decoder_(u, labels)
        mean, raw = output.unbind(1)  # (n, h · w) each
        return torch.tanh(mean), self.min_log_var + F.softplus(raw - self.min_log_var)

    def _terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, rng: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """KL(q(z | x) ‖ p(z)) and log p(x | z) for one draw z ~ q(z | x), (n,) each, nats
        per image, for images ``x`` (n, h · w)."""
        z_mean, z_log_var = self.encoder_(x, labels)  # (n, k) each
        eps = torch.randn(z_mean.shape, generator=rng, device=self.device)
        z = z_mean + torch.exp(0.5 * z_log_var) * eps
        kl = 0.5 * (z_mean**2 + torch.exp(z_log_var) - 1 - z_log_var).sum(-1)
        return kl, gaussian_log_prob(x, *self._decode(z, labels))

    # ------------------------------------------------------------------ training
    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> ConvVAE:
        take_image_shape(self, target)
        self._build(seed)
        if self.conditional:
            self.labels_.fit(target)
        parameters = [*self.encoder_.parameters(), *self.decoder_.parameters()]
        optimizer = adam(parameters, lr=self.lr)
        noise = generator(derive_seed(seed, "noise"), self.device)
        warmup = self.kl_warmup * steps
        monitor = Monitor(steps, progress)
        batches = image_batches(
            target, self.batch_size, steps, seed, self.device, labelled=self.conditional
        )
        for step, (x, labels) in enumerate(batches, start=1):  # x: (batch, h · w)
            kl, reconstruction = self._terms(x, labels, noise)  # (batch,) each
            weight = self.beta * min(1.0, step / warmup) if warmup else self.beta
            loss = (weight * kl - reconstruction).mean()  # the negative β-ELBO, nats per image
            descend(optimizer, loss)
            # a NaN loss trains on, as in the other families: its samples come out NaN, and
            # the runner records the run as diverged
            monitor.report(step, loss.detach())
        return self

    # ------------------------------------------------------------------ sampling
    def _draw(
        self, count: int, rng: torch.Generator, labels: Callable[[int], torch.Tensor | None]
    ) -> torch.Tensor:
        """``count`` images (count, h · w) of the whole generative model, decoder noise
        included, clipped to [-1, 1]; ``labels(count)``, called after the latent draws, gives
        their one-hot labels (None: unconditional)."""
        z = torch.randn(count, self.latent_dim, generator=rng, device=self.device)
        mean, log_var = self._decode(z, labels(count))  # (count, h · w) each
        eps = torch.randn(mean.shape, generator=rng, device=self.device)
        return (mean + torch.exp(0.5 * log_var) * eps).clamp(-1.0, 1.0)

    def _in_chunks(self, draw: Callable[[int], torch.Tensor], num_samples: int) -> np.ndarray:
        """``draw(count)`` on chunks of at most ``IMAGE_SAMPLE_CHUNK`` images, as (n, h · w)
        float32."""
        pixels = self.image_height * self.image_width
        return sample_in_chunks(draw, num_samples, self.device, IMAGE_SAMPLE_CHUNK, pixels)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` images, (n, h · w) float32 in [-1, 1]; same seed, same images."""
        check_fitted(self, "decoder_")
        rng = generator(derive_seed(seed, "sample"), self.device)

        def from_masses(count: int) -> torch.Tensor | None:  # labels from the classes' masses
            return one_hot(self.labels_.sample(count, rng)) if self.conditional else None

        return self._in_chunks(lambda n: self._draw(n, rng, from_masses), num_samples)

    @torch.inference_mode()
    def sample_given(self, labels: np.ndarray, seed: int) -> np.ndarray:
        """One image for each label of ``labels`` (n,) (class indices of the target it was
        trained on), (n, h · w); a conditional VAE only."""
        check_fitted(self, "decoder_")
        given = label_stream(self, labels)
        rng = generator(derive_seed(seed, "sample_given"), self.device)
        return self._in_chunks(lambda n: self._draw(n, rng, given), len(labels))

    @torch.inference_mode()
    def interpolate(self, num_paths: int, num_steps: int, seed: int) -> np.ndarray:
        """The decoder's mean images μ_θ(z) along paths between two draws of p(z) (spherical,
        ``LatentPrior.paths``), (num_paths, num_steps, h · w); a conditional VAE keeps one
        label, drawn from the classes' masses, along each path. The means, not draws: the path
        shows the map z → x, which the pixel noise of each draw would blur."""
        check_fitted(self, "decoder_")
        rng = generator(derive_seed(seed, "interpolate"), self.device)
        z = LatentPrior(self.latent_dim).to(self.device).paths(num_paths, num_steps, rng)
        labels = one_hot(self.labels_.sample(num_paths, rng)) if self.conditional else None
        if labels is not None:
            labels = labels.repeat_interleave(num_steps, dim=0)  # (paths · steps, LABEL_SLOTS)
        mean, _ = self._decode(z.reshape(num_paths * num_steps, -1), labels)
        return mean.reshape(num_paths, num_steps, -1).float().cpu().numpy()

    # ------------------------------------------------------------------ the bound and its terms
    def _images(self, x: np.ndarray) -> torch.Tensor:
        """Images ``x`` (n, h · w) as a float32 tensor on the device; ValueError otherwise."""
        array = np.asarray(x, dtype=np.float32)
        pixels = self.image_height * self.image_width
        if array.ndim != 2 or array.shape[1] != pixels:
            raise ValueError(f"expected images of shape (n, {pixels}), got {array.shape}")
        return torch.as_tensor(array).to(self.device)

    def _labels(self, labels: np.ndarray | None) -> torch.Tensor | None:
        """The one-hot ``labels`` (n, ``LABEL_SLOTS``), which a conditional VAE needs."""
        if self.conditional != (labels is not None):
            raise ValueError("labels are for a conditional VAE, and one needs them")
        if labels is None:
            return None
        return one_hot(torch.as_tensor(np.asarray(labels, np.int64), device=self.device))

    @torch.inference_mode()
    def rate_distortion(
        self, x: np.ndarray, seed: int = 0, labels: np.ndarray | None = None
    ) -> tuple[float, float]:
        """(rate, distortion) of the images ``x`` (n, h · w), in nats per image; a conditional
        VAE needs their ``labels`` (n,) (``Target.label_of``).

        The rate is E_x KL(q(z | x) ‖ N(0, I)), the information the code carries about x; the
        distortion is −E_x E_{q(z | x)} log p(x | z), one draw of z per image (fixed by
        ``seed``). Their sum is the negative ELBO (β = 1): β trades one for the other (Alemi et
        al., 2018).
        """
        check_fitted(self, "encoder_")
        images, one_hots = self._images(x), self._labels(labels)
        rng = generator(derive_seed(seed, "rate_distortion"), self.device)
        rates, log_likelihoods = [], []
        for start in range(0, len(images), IMAGE_SAMPLE_CHUNK):
            part = slice(start, start + IMAGE_SAMPLE_CHUNK)
            kl, log_likelihood = self._terms(
                images[part], None if one_hots is None else one_hots[part], rng
            )
            rates.append(kl.double())
            log_likelihoods.append(log_likelihood.double())
        return float(torch.cat(rates).mean()), float(-torch.cat(log_likelihoods).mean())

    @torch.inference_mode()
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """log (1/K) Σ_k p(x, z_k) / q(z_k | x), z_k ~ q(z | x): a lower bound on log q(x), (n,)
        nats per image, for images ``x`` (n, h · w); K = ``log_prob_samples``. A conditional
        VAE's is log Σ_y p(y) · bound(x | y) over its labels: a lower bound on
        log Σ_y p(y) q(x | y)."""
        check_fitted(self, "encoder_")
        images = self._images(x)
        if not self.conditional:
            return self._bound(images).double().cpu().numpy()
        masses = self.labels_.masses[: self.labels_.count]
        per_label = torch.stack(
            [
                self._bound(images, one_hot(torch.tensor(label, device=self.device))) + mass.log()
                for label, mass in enumerate(masses)
            ]
        )  # (labels, n)
        return torch.logsumexp(per_label, dim=0).double().cpu().numpy()

    def _bound(self, images: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """The importance-weighted bound at ``images`` (n, h · w), (n,); given the one-hot
        ``label`` (``LABEL_SLOTS``,) for a conditional VAE."""
        rng = generator(derive_seed(0, "log_prob"), self.device)
        num_draws = self.log_prob_samples
        # the decoder sees at most IMAGE_SAMPLE_CHUNK images at a time
        chunk = max(1, IMAGE_SAMPLE_CHUNK // num_draws)
        bounds = [torch.zeros(0, device=self.device)]
        for start in range(0, len(images), chunk):
            x = images[start : start + chunk]  # (m, h · w)
            labels = None if label is None else label.expand(len(x), -1)
            z_mean, z_log_var = self.encoder_(x, labels)  # (m, k) each
            eps = torch.randn((num_draws, *z_mean.shape), generator=rng, device=self.device)
            z = z_mean + torch.exp(0.5 * z_log_var) * eps  # (K, m, k)
            repeated = None if labels is None else labels.repeat(num_draws, 1)
            mean, log_var = self._decode(z.flatten(0, 1), repeated)  # (K · m, h · w) each
            shape = (num_draws, len(x), -1)
            log_weights = (
                gaussian_log_prob(x, mean.view(shape), log_var.view(shape))  # log p(x | z)
                + gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))  # log p(z)
                - gaussian_log_prob(z, z_mean, z_log_var)  # log q(z | x)
            )  # (K, m)
            bounds.append(torch.logsumexp(log_weights, dim=0) - math.log(num_draws))
        return torch.cat(bounds)

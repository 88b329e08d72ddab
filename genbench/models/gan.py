"""The GAN of "Why do GANs need so much noise?" (2020): a map from a k-dim latent space to 2-D.

The generator G pushes a latent prior forward through an MLP; the discriminator D learns to
tell target draws from G's, and G learns to fool it (the non-saturating loss). The defaults are
the article's protocol exactly; a preset may shrink widths and steps but keeps the shape.

Options beyond the article (off by default) train the same networks the way later GANs are:
``standardize`` (the data at mean 0 and unit spread), ``r1`` (Mescheder et al.'s gradient
penalty on D at target draws, which stops D's gradients from sweeping G off whole modes),
``warmup_steps``/``final_lr`` (a cosine decay of both learning rates) and ``ema_decay`` (samples
from an exponential moving average of G's weights). The presets' ``gan_stable`` entry uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    WeightAverage,
    adam,
    check_fitted,
    check_schedule,
    generator,
    glorot_,
    mlp,
    on_sphere,
    sample_in_chunks,
    seeded_init,
    warmup_cosine,
)
from genbench.models.stack import (
    Monitor,
    StackableModel,
    Streams,
    descend,
    model_means,
    stacked_batches,
)
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

PRIORS = ("auto", "uniform", "normal", "sphere")


class LatentPrior(nn.Module):
    """The latent distribution p(z): U[0, 1)^k, N(0, I_k) or uniform on the unit sphere
    S^(k−1) (z = u / ‖u‖, u ~ N(0, I_k); for k = 1 the two points ±1). Uniform or normal is
    remembered as a saved buffer (the ``auto`` rule picks it per target); the sphere is a
    hyperparameter."""

    def __init__(self, latent_dim: int, uniform: bool = False, sphere: bool = False) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.sphere = sphere
        self.register_buffer("uniform", torch.tensor(uniform and not sphere))

    @property
    def kind(self) -> str:
        return "sphere" if self.sphere else "uniform" if bool(self.uniform) else "normal"

    def sample(self, num_samples: int, rng: torch.Generator) -> torch.Tensor:
        """Draws z, (num_samples, k), on the buffer's device."""
        draw = torch.rand if bool(self.uniform) else torch.randn
        shape = (num_samples, self.latent_dim)
        z = draw(shape, generator=rng, device=self.uniform.device)
        return on_sphere(z) if self.sphere else z

    def paths(self, num_paths: int, num_steps: int, rng: torch.Generator) -> torch.Tensor:
        """``num_paths`` paths of ``num_steps`` evenly spaced points between two draws of the
        prior, (num_paths, num_steps, k): straight for the uniform prior (its cube is convex),
        spherical (slerp, White 2016) for the normal prior and the sphere, whose straight
        midpoints would be atypically short codes (or leave the sphere). Latent size 1:
        straight."""
        start, end = self.sample(num_paths, rng), self.sample(num_paths, rng)
        t = torch.linspace(0, 1, num_steps, device=start.device)[None, :, None]
        start, end = start[:, None], end[:, None]  # (paths, 1, k)
        if bool(self.uniform) or self.latent_dim == 1:
            return (1 - t) * start + t * end
        cosine = (on_sphere(start) * on_sphere(end)).sum(-1, keepdim=True).clamp(-1, 1)
        angle = torch.arccos(cosine).clamp_min(1e-6)  # (paths, 1, 1)
        weights = (
            torch.sin((1 - t) * angle) / torch.sin(angle),
            torch.sin(t * angle) / torch.sin(angle),
        )
        return weights[0] * start + weights[1] * end


def bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each logit against its 0/1 label, unreduced."""
    return F.binary_cross_entropy_with_logits(logits, labels, reduction="none")


@models.register("gan")
@dataclass(eq=False)
class GAN(StackableModel):
    """x = G(z), z ~ p(z); G and D trained by the non-saturating GAN game.

    Each step: D takes one Adam step on BCE(D(x), 1) + BCE(D(G(z)), 0) over ``batch_size / 2``
    target draws and as many generated ones; then G takes one on BCE(D(G(z)), 1) over
    ``batch_size`` fresh latent draws. The loss ``progress`` reports is D's.

    ``conditional=True`` makes it a conditional GAN on the target's regions (see
    ``genbench.models.labels``): G reads y drawn from the regions' masses through
    ``label_input`` (embed(y) ⊙ z, or [embed(y), z]), and D sees the one-hot label beside each
    point, its region's for a target draw.
    """

    name = "gan"
    stacked_modules = ("generator", "discriminator")

    latent_dim: int = 2  # k, size of the latent space (the article sweeps 1, 2, 3, 10, 100)
    device: str = "cpu"  # torch device to train and sample on
    # "uniform" U[0,1)^k, "normal" N(0, I), "sphere" uniform on S^(k−1), "auto": uniform on
    # the gaussian target, normal elsewhere (the article's rule)
    prior: str = "auto"
    generator_width: int = 256  # units of each hidden ReLU layer of G
    generator_depth: int = 3  # hidden layers of G
    discriminator_width: int = 128  # units of each hidden LeakyReLU layer of D
    discriminator_depth: int = 5  # hidden layers of D
    leaky_slope: float = 0.01  # negative slope of D's LeakyReLU (Keras' is 0.3; the article's 0.01)
    batch_size: int = 512  # D sees half target, half generated; G's step uses this many z
    generator_lr: float = 2e-4  # Adam learning rate of G
    discriminator_lr: float = 1e-3  # Adam learning rate of D
    adam_beta1: float = 0.5  # Adam β₁ of both (lower than 0.9: less momentum in the game)
    adam_beta2: float = 0.999  # Adam β₂ of both
    # Beyond the article (its defaults leave the article's GAN exactly as it was):
    standardize: bool = False  # learn the data standardised (mean 0, unit spread), not raw
    r1: float = 0.0  # weight γ of D's R1 penalty (γ/2)·E‖∇D(x)‖² on target draws (Mescheder 2018)
    warmup_steps: int = 0  # both learning rates ramp up over these steps, then decay (cosine)
    final_lr: float = 1.0  # the rates at the last step, as a fraction of the first; 1: constant
    ema_decay: float = 0.0  # > 0: sample with an exponential moving average of G's weights
    # a conditional GAN: labels are the target's regions, G reads the label through
    # ``label_input`` ("product": embed(y) ⊙ z, "concat": [embed(y), z]), D sees it
    conditional: bool = False
    label_input: str = "product"

    def __post_init__(self) -> None:
        check_schedule(self)
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if self.label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {LABEL_INPUTS}, got {self.label_input!r}")
        if self.batch_size < 2 or self.batch_size % 2:
            raise ValueError(f"batch_size must be even and >= 2, got {self.batch_size}")

    def _build(self, seed: int = 0) -> None:
        label_inputs = LABEL_SLOTS if self.conditional else 0  # D sees the one-hot label too
        with seeded_init(derive_seed(seed, "init")):
            inputs = self.latent_dim  # G's body reads z, or u (embed(y) and z) if conditional
            if self.conditional:
                inputs = LabelInput.width(self.latent_dim, self.label_input)
            self.generator_ = glorot_(
                mlp(inputs, [self.generator_width] * self.generator_depth, 2, nn.ReLU)
            ).to(self.device)
            self.discriminator_ = glorot_(
                mlp(
                    2 + label_inputs,
                    [self.discriminator_width] * self.discriminator_depth,
                    1,
                    lambda: nn.LeakyReLU(self.leaky_slope),
                )
            ).to(self.device)
            if self.conditional:
                self.generator_ = LabelInput(self.latent_dim, self.generator_, self.label_input)
                self.generator_ = self.generator_.to(self.device)
                self.labels_ = LabelPrior().to(self.device)
        self.prior_ = LatentPrior(
            self.latent_dim, uniform=self.prior == "uniform", sphere=self.prior == "sphere"
        ).to(self.device)
        self.standardizer_ = Standardizer().to(self.device)  # the identity until _prepare

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "generator_")
        return {
            "generator": self.generator_,
            "discriminator": self.discriminator_,
            "prior": self.prior_,
            "standardizer": self.standardizer_,
            **({"labels": self.labels_} if self.conditional else {}),
        }

    def _prepare(self, target: Target, seed: int) -> None:
        super()._prepare(target, seed)
        if self.prior == "auto":  # the article's rule: uniform noise for the Gaussian only
            self.prior_.uniform.fill_(target.name == "gaussian")
        if self.conditional:
            self.labels_.fit(target)

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[GAN],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        G, D = networks["generator"], networks["discriminator"]
        betas = (self.adam_beta1, self.adam_beta2)
        optimizer_g = adam(G.parameters(), lr=self.generator_lr, betas=betas, fused=single)
        optimizer_d = adam(D.parameters(), lr=self.discriminator_lr, betas=betas, fused=single)
        schedules = [
            warmup_cosine(optimizer, steps, self.warmup_steps, self.final_lr)
            for optimizer in (optimizer_g, optimizer_d)
        ]
        average = WeightAverage(G, self.ema_decay)
        standardize = Standardizer.stacked([model.standardizer_ for model in models], single)
        noise = Streams([derive_seed(seed, "noise") for seed in seeds], self.device, single)

        def latents(count: int) -> torch.Tensor:  # (count, k) per model, from its own prior
            return noise.draw(lambda m, rng: models[m].prior_.sample(count, rng))

        def generate(count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
            """``count`` generated points per model, with their one-hot labels if conditional."""
            if not self.conditional:
                return G(latents(count)), None
            labels = one_hot(noise.draw(lambda m, rng: models[m].labels_.sample(count, rng)))
            return G(latents(count), labels), labels

        def critic(x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
            return D(x if labels is None else torch.cat([x, labels], dim=-1))

        half = self.batch_size // 2
        ones = torch.ones(self.batch_size, 1, device=self.device)
        labels = torch.cat([ones[:half], torch.zeros(half, 1, device=self.device)])  # real, fake
        batches = stacked_batches(targets, half, steps, seeds, self.device, single)
        for step, batch in enumerate(batches, start=1):  # batch: ([M,] batch/2, 2)
            real = standardize(batch)
            real_labels = (
                one_hot(batch_labels(targets, batch, single)) if self.conditional else None
            )
            with torch.no_grad():
                fake, fake_labels = generate(half)  # ([M,] batch/2, 2)
            if self.r1:
                real.requires_grad_(True)
            classes = None if real_labels is None else torch.cat([real_labels, fake_labels], -2)
            logits = critic(torch.cat([real, fake], dim=-2), classes)  # ([M,] batch, 1)
            losses_d = model_means(bce(logits, labels.expand_as(logits)), single)  # per model
            if self.r1:  # each model's D sees only its own points: one grad gives them all
                (gradient,) = torch.autograd.grad(
                    logits[..., :half, :].sum(), real, create_graph=True
                )
                penalty = model_means(gradient.pow(2).sum(-1), single)  # E‖∇D(x)‖² per model
                descend(optimizer_d, (losses_d + self.r1 / 2 * penalty).sum())
            else:
                descend(optimizer_d, losses_d.sum())

            D.requires_grad_(False)  # G's step needs gradients through D, not of D's weights
            logits = critic(*generate(self.batch_size))  # ([M,] batch, 1)
            loss_g = model_means(bce(logits, ones.expand_as(logits)), single).sum()
            descend(optimizer_g, loss_g)  # non-saturating: G maximises log D(G(z))
            D.requires_grad_(True)
            for schedule in schedules:
                schedule.step()
            average.update()

            monitor.report(step, losses_d)
        average.copy_to_network()  # the averaged generator is the trained model

    def _draw(
        self,
        count: int,
        rng: torch.Generator,
        labels: Callable[[int], torch.Tensor | None],
    ) -> torch.Tensor:
        """``count`` samples in the target's units; ``labels(count)``, called after the latent
        draws, gives their one-hot labels (None: unconditional)."""
        z = self.prior_.sample(count, rng)
        chosen = labels(count)
        x = self.generator_(z) if chosen is None else self.generator_(z, chosen)
        return self.standardizer_.inverse(x)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "generator_")
        rng = generator(derive_seed(seed, "sample"), self.device)

        def from_masses(count: int) -> torch.Tensor | None:  # labels from the regions' masses
            return one_hot(self.labels_.sample(count, rng)) if self.conditional else None

        return sample_in_chunks(lambda n: self._draw(n, rng, from_masses), num_samples, self.device)

    @torch.inference_mode()
    def sample_given(self, labels: np.ndarray, seed: int) -> np.ndarray:
        """One sample for each label of ``labels`` (n,) (region indices of the target it was
        trained on), (n, 2); a conditional GAN only."""
        check_fitted(self, "generator_")
        given = label_stream(self, labels)
        rng = generator(derive_seed(seed, "sample_given"), self.device)
        return sample_in_chunks(lambda n: self._draw(n, rng, given), len(labels), self.device)

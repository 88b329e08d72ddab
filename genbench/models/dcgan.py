"""The deep convolutional GAN (Radford, Metz and Chintala, 2016) for image targets.

G maps z ~ p(z) to an image: a linear projection of z to 2C feature maps of (h/4) × (w/4),
then two transposed ("fractionally strided") convolutions, each doubling the side, to one
channel of h × w squashed by tanh into the targets' [-1, 1]. D mirrors it: two strided
convolutions (no pooling) down to 2C maps of (h/4) × (w/4), then a linear read-out to one
logit. The paper's guidelines throughout: batch normalisation in both networks except D's input
layer and G's output; ReLU in G, LeakyReLU(0.2) in D; no hidden fully connected layers; weights
drawn from N(0, 0.02); Adam at 2e-4 with β₁ = 0.5; the non-saturating loss.

``conditional=True`` makes it a conditional DCGAN on the target's classes (``Target.label_of``;
see ``genbench.models.labels``): G reads y through ``label_input`` (embed(y) ⊙ z, or
[embed(y), z]) and D sees it as a second input channel, a learned h × w map per label.
"""

from __future__ import annotations

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
from genbench.models.nn import (
    adam,
    check_fitted,
    evaluating,
    generator,
    sample_in_chunks,
    seeded_init,
)
from genbench.models.stack import Monitor, descend
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

PRIORS = ("normal", "uniform", "sphere")


def dcgan_init_(module: nn.Module) -> nn.Module:
    """The paper's initialisation, in place: every (transposed) convolution and linear layer
    N(0, 0.02) with zero biases; batch norms' scales N(1, 0.02), shifts 0."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
    return module


def generator_body(inputs: int, height: int, width: int, channels: int) -> nn.Sequential:
    """G without its label input: u (n, ``inputs``) → images (n, height · width) in [-1, 1].

    Layers followed by a batch norm have no bias: the norm's shift takes its place.
    """
    low = (2 * channels, height // 4, width // 4)  # the projection's feature maps
    return nn.Sequential(
        nn.Linear(inputs, low[0] * low[1] * low[2], bias=False),
        nn.Unflatten(1, low),  # (n, 2C, h/4, w/4)
        nn.BatchNorm2d(2 * channels),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(channels),  # (n, C, h/2, w/2)
        nn.ReLU(),
        nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),  # (n, 1, h, w)
        nn.Tanh(),  # no batch norm on the output
        nn.Flatten(),  # (n, h · w): images travel flattened, as targets give them
    )


class Discriminator(nn.Module):
    """D: images (n, h · w) → logits (n, 1); with ``conditional``, the one-hot labels
    (n, ``LABEL_SLOTS``) enter as a second input channel, a learned h × w map per label."""

    def __init__(self, height: int, width: int, channels: int, conditional: bool) -> None:
        super().__init__()
        self.shape = (height, width)
        self.body = dcgan_init_(
            nn.Sequential(
                nn.Conv2d(1 + conditional, channels, 4, stride=2, padding=1),  # (n, C, h/2, w/2)
                nn.LeakyReLU(0.2),  # no batch norm on the input layer
                nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(2 * channels),  # (n, 2C, h/4, w/4)
                nn.LeakyReLU(0.2),
                nn.Flatten(),
                nn.Linear(2 * channels * (height // 4) * (width // 4), 1),
            )
        )
        self.label_map = nn.Linear(LABEL_SLOTS, height * width, bias=False) if conditional else None
        if self.label_map is not None:
            # N(0, 1) as an embedding's: each label's map is on the scale of the pixels, where
            # N(0, 0.02) would leave D blind to the label for most of a short run
            nn.init.normal_(self.label_map.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        images = x.view(-1, 1, *self.shape)  # (n, 1, h, w)
        if self.label_map is not None:
            assert labels is not None
            images = torch.cat([images, self.label_map(labels).view(-1, 1, *self.shape)], dim=1)
        return self.body(images)


@models.register("dcgan")
@dataclass(eq=False)
class DCGAN(GenerativeModel):
    """x = G(z), z ~ p(z), for images; G and D trained by the non-saturating GAN game.

    Each step, as in the paper's reference code: ``batch_size`` generated images G(z), then D
    takes one Adam step on BCE(D(x), 1) + BCE(D(G(z)), 0), real and generated images in
    separate batches (each batch norm sees one kind only); then G one on BCE(D(G(z)), 1), the
    same G(z) against the updated D. The loss ``progress`` reports is D's.

    A trained G samples in eval mode, from its batch norms' running statistics (see ``fit``).
    """

    name = "dcgan"
    kinds: ClassVar[tuple[str, ...]] = ("images",)
    interpolates: ClassVar[bool] = True

    latent_dim: int = 100  # k, size of the latent space (the paper's 100; swept 1, 2, 3, 10, 100)
    device: str = "cpu"  # torch device to train and sample on
    # "normal" N(0, I), "uniform" U[0,1)^k, "sphere" uniform on S^(k−1) (gan.py's priors; for
    # an unconditional G the paper's U[-1, 1]^k is the uniform one: G's projection feeds a
    # batch norm, which removes any shift and scale of z)
    prior: str = "normal"
    width: int = 64  # C: channels of the (h/2)-side layers; the (h/4)-side ones have 2C
    batch_size: int = 64  # real images per D step, and as many generated (the paper's: 128)
    lr: float = 2e-4  # Adam learning rate of both networks (the paper's)
    beta1: float = 0.5  # Adam β₁ of both (the paper's: 0.9 made training oscillate)
    # a conditional DCGAN: labels are the target's classes, G reads the label through
    # ``label_input`` ("product": embed(y) ⊙ z, "concat": [embed(y), z]), D sees it
    conditional: bool = False
    label_input: str = "product"
    # (h, w) of the images it learns: 0 takes the target's at ``fit``, which sets them, so that
    # a saved model rebuilds its networks; a nonzero shape must match the target's
    image_height: int = 0
    image_width: int = 0

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if self.label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {LABEL_INPUTS}, got {self.label_input!r}")
        if self.batch_size < 2:  # a batch norm needs two images to normalise
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")
        if self.width < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")
        if (self.image_height, self.image_width) != (0, 0):
            check_image_shape(self.image_height, self.image_width, self.name)

    def _build(self, seed: int = 0) -> None:
        height, width = self.image_height, self.image_width
        check_image_shape(height, width, self.name)
        with seeded_init(derive_seed(seed, "init")):
            inputs = self.latent_dim  # G's body reads z, or u (embed(y) and z) if conditional
            if self.conditional:
                inputs = LabelInput.width(self.latent_dim, self.label_input)
            body = dcgan_init_(generator_body(inputs, height, width, self.width))
            # embed(y) keeps LabelInput's N(0, 1): a label must move G's input from the start
            self.generator_ = (
                LabelInput(self.latent_dim, body, self.label_input) if self.conditional else body
            ).to(self.device)
            self.discriminator_ = Discriminator(height, width, self.width, self.conditional)
            self.discriminator_ = self.discriminator_.to(self.device)
        self.generator_.eval()  # a built G samples with its running statistics
        self.prior_ = LatentPrior(
            self.latent_dim, uniform=self.prior == "uniform", sphere=self.prior == "sphere"
        ).to(self.device)
        if self.conditional:
            self.labels_ = LabelPrior().to(self.device)

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "generator_")
        return {
            "generator": self.generator_,
            "discriminator": self.discriminator_,
            "prior": self.prior_,
            **({"labels": self.labels_} if self.conditional else {}),
        }

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> DCGAN:
        take_image_shape(self, target)
        self._build(seed)
        if self.conditional:
            self.labels_.fit(target)
        G, D = self.generator_, self.discriminator_
        optimizer_g = adam(G.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        optimizer_d = adam(D.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        noise = generator(derive_seed(seed, "noise"), self.device)
        from_masses = self._labels_from_masses(noise)
        monitor = Monitor(steps, progress)
        ones = torch.ones(self.batch_size, 1, device=self.device)
        zeros = torch.zeros(self.batch_size, 1, device=self.device)
        G.train()
        batches = image_batches(
            target, self.batch_size, steps, seed, self.device, labelled=self.conditional
        )
        for step, (real, real_labels) in enumerate(batches, start=1):  # real: (batch, h · w)
            fake, fake_labels = self._generate(self.batch_size, noise, from_masses)
            loss_real = F.binary_cross_entropy_with_logits(D(real, real_labels), ones)
            loss_fake = F.binary_cross_entropy_with_logits(D(fake.detach(), fake_labels), zeros)
            loss_d = loss_real + loss_fake
            descend(optimizer_d, loss_d)

            D.requires_grad_(False)  # G's step needs gradients through D, not of D's weights
            loss_g = F.binary_cross_entropy_with_logits(D(fake, fake_labels), ones)
            descend(optimizer_g, loss_g)  # non-saturating: G maximises log D(G(z))
            D.requires_grad_(True)
            # a NaN loss trains on, as in the other families: its samples come out NaN, and
            # the runner records the run as diverged
            monitor.report(step, loss_d.detach())
        # Samples are drawn in eval mode, from the batch norms' running statistics: in train
        # mode each image would be normalised by the statistics of the others drawn with it,
        # and ``sample_given`` for one label at a time (label fidelity draws 1,000 images of
        # label 0, then of label 1, ...) would have every feature that carries the label
        # normalised away. The running averages lag G's weights by ~10 steps, too little to
        # matter at this learning rate: recomputing them under the final weights ("precise
        # BN") changed no distance of samples to the planted target's prototypes by more than
        # 0.06 in 4 runs.
        G.eval()
        return self

    def _labels_from_masses(self, rng: torch.Generator) -> Callable[[int], torch.Tensor | None]:
        """Labels drawn from the classes' masses, one-hot (None: unconditional)."""

        def draw(count: int) -> torch.Tensor | None:
            return one_hot(self.labels_.sample(count, rng)) if self.conditional else None

        return draw

    def _generate(
        self,
        count: int,
        rng: torch.Generator,
        labels: Callable[[int], torch.Tensor | None],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``count`` images (count, h · w) and their one-hot labels; ``labels(count)``, called
        after the latent draws, gives the labels (None: unconditional)."""
        z = self.prior_.sample(count, rng)  # (count, k)
        chosen = labels(count)
        return (self.generator_(z) if chosen is None else self.generator_(z, chosen)), chosen

    def _in_chunks(self, draw: Callable[[int], torch.Tensor], num_samples: int) -> np.ndarray:
        """``draw(count)`` on chunks of at most ``IMAGE_SAMPLE_CHUNK`` images, as (n, h · w)
        float32, G in eval mode (a watcher may sample mid-training; G's mode is restored after)."""
        with evaluating(self.generator_):
            pixels = self.image_height * self.image_width
            return sample_in_chunks(draw, num_samples, self.device, IMAGE_SAMPLE_CHUNK, pixels)

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` images, (n, h · w) float32 in [-1, 1]; same seed, same images."""
        check_fitted(self, "generator_")
        rng = generator(derive_seed(seed, "sample"), self.device)
        from_masses = self._labels_from_masses(rng)
        return self._in_chunks(lambda n: self._generate(n, rng, from_masses)[0], num_samples)

    @torch.inference_mode()
    def interpolate(self, num_paths: int, num_steps: int, seed: int) -> np.ndarray:
        """Images along paths between two latent draws (``LatentPrior.paths``), (num_paths,
        num_steps, h · w); a conditional DCGAN keeps one label, drawn from the classes' masses,
        along each path."""
        check_fitted(self, "generator_")
        rng = generator(derive_seed(seed, "interpolate"), self.device)
        z = self.prior_.paths(num_paths, num_steps, rng)  # (paths, steps, k)
        labels = self._labels_from_masses(rng)(num_paths)
        with evaluating(self.generator_):
            flat = z.reshape(num_paths * num_steps, -1)
            if labels is None:
                images = self.generator_(flat)
            else:
                images = self.generator_(flat, labels.repeat_interleave(num_steps, dim=0))
        return images.reshape(num_paths, num_steps, -1).float().cpu().numpy()

    @torch.inference_mode()
    def sample_given(self, labels: np.ndarray, seed: int) -> np.ndarray:
        """One image for each label of ``labels`` (n,) (class indices of the target it was
        trained on), (n, h · w); a conditional DCGAN only."""
        check_fitted(self, "generator_")
        given = label_stream(self, labels)
        rng = generator(derive_seed(seed, "sample_given"), self.device)
        return self._in_chunks(lambda n: self._generate(n, rng, given)[0], len(labels))

"""The GAN of "PacGAN: the power of two samples in generative adversarial networks" (Lin,
Khetan, Fanti and Oh, 2018), as its 2-D mixture experiments train it.

G maps 2-D noise z ~ N(0, I) through 4 hidden layers of 400 units (Linear → BatchNorm → ReLU)
to a point; D is 3 maxout layers of 200 units with 5 pieces each, then a logit. With packing,
D never judges one point: it judges ``pack`` points at once, concatenated into one vector of
2·pack coordinates, all real or all generated. A generator that drops modes makes packs that
repeat themselves more often than real packs do, which a packed D sees and a plain one cannot:
PacGAN2 (``pack=2``) recovers the modes the plain GAN (``pack=1``) loses on the ring and grid.

The defaults are the paper's and its published code's: Adam at 1e-4 with β = (0.8, 0.999),
weights drawn from N(0, 0.02²), biases 0. Where the paper's code differs from what is trained
here: it fed D 100 packed vectors a step (100·pack samples; here ``batch_size`` counts samples,
so set ``batch_size = 100 · pack`` to match), stepped D and G together on one batch (here D
steps, then G), and trained on a fixed set of 100,000 draws (here fresh draws every step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.nn import (
    adam,
    check_fitted,
    evaluating,
    generator,
    progress_due,
    sample_in_chunks,
    seeded_init,
    target_batches,
)
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

NOISE_DIM = 2  # z ~ N(0, I₂), as in the paper
# BatchNorm's ε in the paper's code (Blocks' default; torch's is 1e-5)
BATCHNORM_EPS = 1e-4


class Maxout(nn.Module):
    """y_j = max_p (W_{j,p} x + b_{j,p}) over ``pieces`` affine maps: (..., in) → (..., out).

    One linear layer computes every piece, unit j's ``pieces`` outputs side by side (columns
    j·pieces … j·pieces + pieces − 1), as in Goodfellow et al. (2013) and Blocks' LinearMaxout.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        self.out_features = out_features
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pieces = self.linear(x).unflatten(-1, (self.out_features, self.pieces))  # (..., out, k)
        return pieces.amax(-1)


def packed(x: torch.Tensor, pack: int) -> torch.Tensor:
    """Consecutive groups of ``pack`` points as one vector each: (n, 2) → (n / pack, 2·pack).

    Row i is x[i·pack], x[i·pack + 1], …, x[i·pack + pack − 1], concatenated.

    >>> packed(torch.arange(8.0).view(4, 2), 2)
    tensor([[0., 1., 2., 3.],
            [4., 5., 6., 7.]])
    """
    if len(x) % pack:
        raise ValueError(f"cannot pack {len(x)} points in groups of {pack}")
    return x.reshape(len(x) // pack, x.shape[-1] * pack)


@models.register("pacgan")
@dataclass(eq=False)
class PacGAN(GenerativeModel):
    """x = G(z), z ~ N(0, I₂); D judges packs of ``pack`` points (PacGAN2: ``pack=2``).

    Each step takes ``batch_size`` fresh target draws and ``batch_size`` generated points, each
    packed into ``batch_size / pack`` vectors. D takes one Adam step on
    BCE(D(real packs), 1) + BCE(D(fake packs), 0); then G takes one on BCE(D(fake packs), 1)
    (the non-saturating loss), through the updated D and the same fakes. The loss ``progress``
    reports is D's. G's BatchNorm normalises by the batch in training and by its running
    statistics when sampling.
    """

    name = "pacgan"
    fixed_latent_dim = NOISE_DIM

    latent_dim: int = NOISE_DIM  # ignored: the noise is always 2-D, as in the paper
    device: str = "cpu"  # torch device to train and sample on
    pack: int = 1  # points D judges jointly: 1 is the plain GAN, 2 is PacGAN2
    generator_width: int = 400  # units of each hidden layer of G (Linear → BatchNorm → ReLU)
    generator_depth: int = 4  # hidden layers of G
    discriminator_width: int = 200  # units of each hidden maxout layer of D
    discriminator_depth: int = 3  # hidden maxout layers of D
    maxout_pieces: int = 5  # affine pieces each maxout unit takes the largest of
    batch_size: int = 100  # points per step, real and generated each (batch_size / pack packs)
    generator_lr: float = 1e-4  # Adam learning rate of G
    discriminator_lr: float = 1e-4  # Adam learning rate of D
    adam_beta1: float = 0.8  # Adam β₁ of both
    adam_beta2: float = 0.999  # Adam β₂ of both
    init_std: float = 0.02  # weights start as N(0, init_std²) draws, biases at 0
    batchnorm_momentum: float = 0.05  # weight of each batch in BatchNorm's running statistics

    def __post_init__(self) -> None:
        if isinstance(self.pack, bool) or not isinstance(self.pack, int) or self.pack < 1:
            raise ValueError(f"pack must be a positive integer, got {self.pack!r}")
        if self.batch_size < 2:  # BatchNorm normalises by the batch: one point has no spread
            raise ValueError(f"batch_size must be at least 2, got {self.batch_size}")
        if self.batch_size % self.pack:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})"
            )
        if self.maxout_pieces < 1:
            raise ValueError(f"maxout_pieces must be >= 1, got {self.maxout_pieces}")

    def _build(self, seed: int = 0) -> None:
        with seeded_init(derive_seed(seed, "init")):
            self.generator_ = self._generator().to(self.device)
            self.discriminator_ = self._discriminator().to(self.device)

    def _generator(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        fan_in = NOISE_DIM
        for _ in range(self.generator_depth):
            # no bias in the linear layer: BatchNorm's shift β is one
            layers += [
                nn.Linear(fan_in, self.generator_width, bias=False),
                nn.BatchNorm1d(
                    self.generator_width, eps=BATCHNORM_EPS, momentum=self.batchnorm_momentum
                ),
                nn.ReLU(),
            ]
            fan_in = self.generator_width
        layers.append(nn.Linear(fan_in, 2))
        return self._initialized(nn.Sequential(*layers))

    def _discriminator(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        fan_in = 2 * self.pack
        for _ in range(self.discriminator_depth):
            layers.append(Maxout(fan_in, self.discriminator_width, self.maxout_pieces))
            fan_in = self.discriminator_width
        layers.append(nn.Linear(fan_in, 1))
        return self._initialized(nn.Sequential(*layers))

    def _initialized(self, network: nn.Sequential) -> nn.Sequential:
        """Every linear weight from N(0, init_std²), every bias 0 (BatchNorm keeps γ=1, β=0)."""
        for layer in network.modules():
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, std=self.init_std)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
        return network

    def modules(self) -> dict[str, nn.Module]:
        check_fitted(self, "generator_")
        return {"generator": self.generator_, "discriminator": self.discriminator_}

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> PacGAN:
        self._build(seed)
        G, D = self.generator_, self.discriminator_
        betas = (self.adam_beta1, self.adam_beta2)
        optimizer_g = adam(G.parameters(), lr=self.generator_lr, betas=betas)
        optimizer_d = adam(D.parameters(), lr=self.discriminator_lr, betas=betas)
        noise = generator(derive_seed(seed, "noise"), self.device)
        packs = self.batch_size // self.pack
        labels = torch.cat([torch.ones(packs, 1), torch.zeros(packs, 1)]).to(self.device)
        G.train()
        batches = target_batches(target, self.batch_size, steps, seed, self.device)
        for step, real in enumerate(batches, start=1):  # real: (batch, 2)
            z = torch.randn((self.batch_size, NOISE_DIM), generator=noise, device=self.device)
            fake = G(z)  # (batch, 2), normalised by this batch's statistics
            logits = D(torch.cat([packed(real, self.pack), packed(fake.detach(), self.pack)]))
            loss_d = F.binary_cross_entropy_with_logits(logits, labels)  # (2 · packs, 1) → ()
            optimizer_d.zero_grad(set_to_none=True)
            loss_d.backward()
            optimizer_d.step()

            D.requires_grad_(False)  # G's step needs gradients through D, not of D's weights
            logits = D(packed(fake, self.pack))  # (packs, 1)
            loss_g = F.binary_cross_entropy_with_logits(logits, labels[:packs])  # non-saturating
            optimizer_g.zero_grad(set_to_none=True)
            loss_g.backward()
            optimizer_g.step()
            D.requires_grad_(True)

            if progress is not None and progress_due(step, steps):
                progress(step, loss_d.item())
        return self

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "generator_")
        rng = generator(derive_seed(seed, "sample"), self.device)
        with evaluating(self.generator_):

            def draw(count: int) -> torch.Tensor:
                z = torch.randn((count, NOISE_DIM), generator=rng, device=self.device)
                return self.generator_(z)

            return sample_in_chunks(draw, num_samples, self.device)

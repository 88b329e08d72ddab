"""Labels for conditional models: a target's regions as classes (the supervised constraint).

A conditional GAN or VAE (``conditional=True``) learns p(x | y) for y the region of x under
``Target.region_of``: the modes of ``eight_gaussians`` and ``ring8``, the 12 segments of the
spiral's arm, the 16 cells of ``gaussian``, the 25 of ``grid25``. Its generator (the VAE's
decoder) reads the label through an embedding, times the noise (embed(y) ⊙ z) or beside it
([embed(y), z]; see :class:`LabelInput`); the discriminator (the VAE's encoder) sees the
one-hot label beside x. ``sample`` draws the labels from their masses under the target
(``region_masses``), so a conditional model's samples are scored like any other's and rank
against the unconditional models; ``sample_given`` draws for chosen labels, which the
``label_fidelity`` metric reads.

Every target's labels are one-hot vectors of ``LABEL_SLOTS`` entries, so that the models of
all targets have one shape and train in one stack: a target's K regions take the first K
slots, a point in no region (``region_of`` = −1: none of the built-in targets' draws) the slot
K (``Target.label_of``), and the rest stay unused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.targets.base import Target

LABEL_SLOTS = 32  # one-hot size: room for every built-in target's regions and a "none" slot


def num_labels(target: Target) -> int:
    """K, the number of ``target``'s regions; ValueError when the one-hot slots cannot hold
    them and the "no region" slot."""
    count = len(target.region_masses)
    if count + 1 > LABEL_SLOTS:
        raise ValueError(
            f"a conditional model takes at most {LABEL_SLOTS - 1} labels; target "
            f"{target.name!r} has {count} regions"
        )
    return count


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """Labels (...,) as float one-hot vectors (..., ``LABEL_SLOTS``)."""
    return F.one_hot(labels, LABEL_SLOTS).float()


def batch_labels(targets: Sequence[Target], batch: torch.Tensor, single: bool) -> torch.Tensor:
    """The labels of a training batch, ([M,] B) long on the batch's device: each model's points
    (in its target's units) labelled by its own target."""
    parts = batch[None] if single else batch
    labels = [
        torch.as_tensor(target.label_of(points.detach().cpu().numpy()))
        for target, points in zip(targets, parts, strict=True)
    ]
    stacked = torch.stack(labels).to(batch.device)
    return stacked[0] if single else stacked


def label_stream(model: Any, labels: np.ndarray) -> Callable[[int], torch.Tensor]:
    """For a conditional ``model``'s ``sample_given``: the one-hot ``labels`` (n,), ``count``
    at a time in order; ValueError for an unconditional model or an index outside the regions
    of the target it was trained on."""
    if not model.conditional:
        name = type(model).__name__
        raise ValueError(f"sample_given needs a conditional {name} (conditional=True)")
    count = model.labels_.count
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=model.device)
    if len(labels) and not (int(labels.min()) >= 0 and int(labels.max()) < count):
        raise ValueError(f"labels must be region indices in [0, {count})")
    position = 0

    def next_labels(size: int) -> torch.Tensor:
        nonlocal position
        chosen = one_hot(labels[position : position + size])
        position += size
        return chosen

    return next_labels


class LabelPrior(nn.Module):
    """p(y): the masses of the target's regions (``masses``, a buffer saved with the model),
    zero on the unused slots."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("masses", torch.zeros(LABEL_SLOTS))

    def fit(self, target: Target) -> LabelPrior:
        """Take ``target``'s region masses; in place."""
        count = num_labels(target)
        masses = torch.as_tensor(np.asarray(target.region_masses, dtype=np.float64))
        self.masses.zero_()
        self.masses[:count] = (masses / masses.sum()).float()
        return self

    @property
    def count(self) -> int:
        """K: the labels with mass."""
        return int((self.masses > 0).sum())

    def sample(self, num_samples: int, rng: torch.Generator) -> torch.Tensor:
        """Labels (num_samples,) long, drawn from the masses."""
        return torch.multinomial(self.masses, num_samples, replacement=True, generator=rng)


LABEL_INPUTS = ("product", "concat")  # how a generator reads its label (see LabelInput)


class LabelInput(nn.Module):
    """A generator that reads its label: ``body(features(u))`` for u = embed(y) ⊙ z
    (``"product"``, the input of ACGAN's reference implementations) or u = [embed(y), z]
    (``"concat"``, Mirza and Osindero's). embed is a linear map of the one-hot label to k
    values, initialised N(0, 1) as ``nn.Embedding`` is.

    With a prior symmetric about 0 (the normal, the sphere), ``"product"`` passes the label in
    the scale of each coordinate only: embed(y) ⊙ z has the law N(0, diag embed(y)²), so every
    label's inputs crowd the same neighbourhood of 0 and the generator cannot keep them apart
    there; ``"concat"`` gives each label its own input region.
    """

    def __init__(
        self,
        latent_dim: int,
        body: nn.Module,
        mode: str = "product",
        features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        if mode not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {LABEL_INPUTS}, got {mode!r}")
        self.embed = nn.Linear(LABEL_SLOTS, latent_dim)
        nn.init.normal_(self.embed.weight)
        nn.init.zeros_(self.embed.bias)
        self.body = body
        self.mode = mode
        self.features = features

    @staticmethod
    def width(latent_dim: int, mode: str) -> int:
        """The number of coordinates of u: what the body reads (before its features)."""
        return 2 * latent_dim if mode == "concat" else latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``z`` (..., k) and one-hot ``labels`` (..., ``LABEL_SLOTS``) → the body's output."""
        embedded = self.embed(labels)
        u = torch.cat([embedded, z], dim=-1) if self.mode == "concat" else embedded * z
        return self.body(self.features(u) if self.features is not None else u)

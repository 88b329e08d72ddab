"""What the image families share: the image shape they learn, checked and taken from a target,
and their stream of training images.

Each image family (``dcgan``, ``conv_vae``, ``ddpm_unet``, ``fm_unet``) halves or doubles the
sides of its images twice, and stores the shape it was fitted to as its fields
``image_height`` and ``image_width`` (0 until then), so that ``save``/``load`` rebuild its
networks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from genbench.models.labels import one_hot
from genbench.seeding import derive_seed
from genbench.targets.base import Target

# Each chunk of training draws holds about this many pixels (8 MB as float64), whatever the
# image size; the draws do not depend on it.
DATA_CHUNK_PIXELS = 2**20
# ``sample`` runs a generator on at most this many images at a time: its activations stay in
# tens of MB.
IMAGE_SAMPLE_CHUNK = 4_096


def check_image_shape(height: int, width: int, who: str) -> None:
    """ValueError unless both sides are positive multiples of 4 (the networks halve or double
    them twice); ``who`` names the family in the message."""
    if height < 4 or width < 4 or height % 4 or width % 4:
        raise ValueError(f"{who} needs image sides divisible by 4, got {height}×{width}")


def take_image_shape(model: Any, target: Target) -> None:
    """Check that ``target`` holds images ``model`` can learn, and set its ``image_height`` and
    ``image_width`` to theirs: ValueError for a 2-D target, a shape it cannot take, or one other
    than the shape it was built for."""
    population = target.population  # a finite training set answers with its target
    if population.kind != "images":
        kind = "2-D" if population.kind == "points" else population.kind
        raise ValueError(f"{model.name} learns image targets; {target.name} is a {kind} target")
    assert population.image_shape is not None
    height, width = population.image_shape
    check_image_shape(height, width, model.name)
    if (model.image_height, model.image_width) not in ((0, 0), (height, width)):
        raise ValueError(
            f"this {model.name} is built for {model.image_height}×{model.image_width} images; "
            f"{target.name}'s are {height}×{width}"
        )
    model.image_height, model.image_width = height, width


def image_batches(
    target: Target, batch_size: int, steps: int, seed: int, device: str, labelled: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """``steps`` batches of target draws, (batch_size, h · w) float32 on ``device``, each with
    its one-hot labels (``target.label_of``; None unless ``labelled``).

    Draws come in chunks seeded by ``derive_seed(seed, "data", chunk)``, so the stream is
    reproducible. Labels are read off the float64 draws, before any rounding.
    """
    steps_per_chunk = max(1, DATA_CHUNK_PIXELS // target.dim // batch_size)
    for chunk, start in enumerate(range(0, steps, steps_per_chunk)):
        count = min(steps_per_chunk, steps - start)
        images = target.sample(count * batch_size, derive_seed(seed, "data", chunk))
        x = torch.as_tensor(images, dtype=torch.float32).to(device).view(count, batch_size, -1)
        if not labelled:
            yield from ((batch, None) for batch in x)
            continue
        labels = one_hot(torch.as_tensor(target.label_of(images)).to(device))
        yield from zip(x, labels.view(count, batch_size, -1), strict=True)

"""What the image families share: the image shape they learn, checked and taken from a target.

Each image family (``dcgan``, ``conv_vae``, ``ddpm_unet``, ``fm_unet``) halves or doubles the
sides of its images twice, and stores the shape it was fitted to as its fields
``image_height`` and ``image_width`` (0 until then), so that ``save``/``load`` rebuild its
networks.
"""

from __future__ import annotations

from typing import Any

from genbench.targets.base import Target


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

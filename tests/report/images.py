"""Reading figures back as pixels, for tests that check what a figure shows."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image


def grey(data: bytes) -> np.ndarray:
    """A PNG as grey levels, (height, width)."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)


def png(figure: Figure) -> bytes:
    """``figure`` as a PNG at its own dpi."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def panel_pixels(image: np.ndarray, axes: Axes) -> np.ndarray:
    """The pixels inside ``axes`` (its frame left out) in ``image``, the PNG of its figure."""
    box = axes.get_window_extent()
    height = image.shape[0]
    return image[
        int(height - box.y1) + 2 : int(height - box.y0) - 2,
        int(box.x0) + 2 : int(box.x1) - 2,
    ]

"""Latent interpolations of image models: what the map z → x draws between two codes."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from genbench.plots.style import new_figure, text_inches

CELL_INCHES = 0.32  # an image's side in the figure


def path_mosaic(paths: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """``paths`` (paths, steps, h·w) as one picture: a row per path, a column per step, a
    pixel apart (NaN between them), values clipped to [−1, 1]."""
    height, width = image_shape
    rows, columns = paths.shape[:2]
    mosaic = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for row in range(rows):
        for column in range(columns):
            top, left = row * (height + 1), column * (width + 1)
            image = np.asarray(paths[row, column], dtype=float).reshape(height, width)
            mosaic[top : top + height, left : left + width] = image
    return np.clip(mosaic, -1, 1)


def interpolation_grid(
    target_name: str, image_shape: tuple[int, int], runs: Mapping[str, np.ndarray]
) -> Figure:
    """One panel per run (``runs``: its caption → its paths (paths, steps, h·w)), side by
    side: each row a straight (uniform prior) or spherical path between two latent draws,
    from its left end to its right. Each panel's axes is labelled ``paths:CAPTION``."""
    if not runs:
        raise ValueError("no interpolations to draw")
    first = next(iter(runs.values()))
    rows, columns = first.shape[:2]
    panel_width, panel_height = columns * CELL_INCHES, rows * CELL_INCHES
    title = f"{target_name}: images along paths between two latent draws (one per row)"
    panels = 0.3 + len(runs) * (panel_width + 0.3)
    width = max(panels, text_inches(title, 10) + 0.4)
    figure = new_figure(width, panel_height + 1.05)
    cmap = matplotlib.colormaps["Greys"].with_extremes(bad="#FFFFFF")
    figure.suptitle(title, fontsize=10, y=1 - 0.12 / figure.get_figheight())
    margin = (width - panels) / 2  # the panels centred under a wider title
    for index, (caption, paths) in enumerate(runs.items()):
        left = (margin + 0.3 + index * (panel_width + 0.3)) / figure.get_figwidth()
        axes = figure.add_axes(
            (
                left,
                0.2 / figure.get_figheight(),
                panel_width / figure.get_figwidth(),
                panel_height / figure.get_figheight(),
            )
        )
        axes.set_label(f"paths:{caption}")
        axes.imshow(path_mosaic(paths, image_shape), cmap=cmap, vmin=-1, vmax=1,
                    interpolation="nearest")  # fmt: skip
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(caption, fontsize=7.5, pad=3)
        for spine in axes.spines.values():
            spine.set_color("#BBBBBB")
    return figure

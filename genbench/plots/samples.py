"""The sample grid: a target's samples by model (rows) and latent dimension (columns)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from genbench.metrics import registered
from genbench.models import is_reference, reference_models
from genbench.plots.panels import (
    IMAGE_TILES,
    blank_panel,
    corner_text,
    density_image,
    draw_images,
    draw_samples,
    draw_target,
    metrics_text,
)
from genbench.plots.style import model_colours, new_figure, text_inches, wrap_name
from genbench.targets.base import Target

PANEL_INCHES = 1.75  # side of one sample panel


def sample_grid(
    target: Target,
    board: pd.DataFrame,
    samples: Mapping[tuple[str, int], np.ndarray | None],
    *,
    models: Sequence[str],
    latent_dims: Sequence[int],
    subtitle: str = "",
) -> Figure:
    """Generated samples over the target: one row per model, one column per latent dimension.

    The first row holds the oracle (the target's own sampler) and a key to the figure.

    Parameters
    ----------
    target : the target, for its density and fixed plot range.
    board : this target's leaderboard rows (``model``, ``latent_dim``, ``<metric>_mean``, …).
    samples : (model, latent_dim) → an (n, 2) sample array to draw, or None when the entry has
        no usable samples (every seed failed); the oracle's key is (``"oracle"``, 0).
    models : the model rows, in order (the oracle is added on top).
    latent_dims : the latent dimension columns, in order.
    subtitle : a line under the title (which seed is shown, say).

    Every axes gets a label that says what it shows, ``samples:MODEL:K``, ``failed:MODEL:K`` or
    ``n/a:MODEL:K``, and ``key`` for the explanation panel, so that tests and callers can find
    panels without reading pixels.
    """
    models = [m for m in models if not is_reference(m)]
    columns = max(1, len(latent_dims))
    rows = 1 + len(models)
    spacer = 0.1  # room between the oracle row and the column titles, in panel heights
    title = f"{target.name}: samples by model and latent dimension"
    # a grid of one or two columns is narrower than its title and subtitle: widen it to them
    width = max(
        0.9 + columns * PANEL_INCHES,
        text_inches(title, 11) + 0.3,
        text_inches(subtitle, 7.5) + 0.3,
    )
    figure = new_figure(width, 0.75 + (rows + spacer) * PANEL_INCHES)
    grid = figure.add_gridspec(
        rows + 1,
        columns,
        height_ratios=[1, spacer] + [1] * (rows - 1),
        left=0.85 / figure.get_figwidth(),
        right=1 - 0.05 / figure.get_figwidth(),
        bottom=0.08 / figure.get_figheight(),
        top=1 - 0.7 / figure.get_figheight(),
        wspace=0.06,
        hspace=0.06,
    )
    colours = model_colours(models)
    images = target.kind == "images"
    density = None if images else density_image(target)
    entries = {(row.model, int(row.latent_dim)): row._asdict() for row in board.itertuples()}

    def panel(row: int, column: int, model: str, latent_dim: int) -> None:
        axes = figure.add_subplot(grid[row + 1 if row else 0, column])  # skip the spacer row
        entry = entries.get((model, latent_dim))
        points = samples.get((model, latent_dim))
        if entry is None:
            axes.set_label(f"n/a:{model}:{latent_dim}")
            blank_panel(axes, "n/a")
        elif points is None:
            axes.set_label(f"failed:{model}:{latent_dim}")
            failed = int(entry.get("failed", 0) or 0)
            blank_panel(
                axes, f"failed\n({failed} of {int(entry.get('seeds', 0))} seeds)", "#D55E00"
            )
        else:
            axes.set_label(f"samples:{model}:{latent_dim}")
            if images:
                draw_images(axes, points, target.image_shape)
            else:
                draw_target(axes, target, density)
                draw_samples(axes, points, colours[model])
            corner_text(axes, metrics_text(entry, target.kind))
        if row == 1:  # column titles over the first model row
            axes.set_title(f"latent dim {latent_dim}", fontsize=9, pad=3)
        if column == 0:
            label = model
            if text_inches(label, 10, "bold") > 0.9 * PANEL_INCHES:  # would reach the next row
                label = wrap_name(label, 12)
            axes.set_ylabel(label, fontsize=10, color=colours[model], fontweight="bold")

    # first row: the oracle, then a key to the figure
    floors = board[board["model"].map(is_reference)]
    floor = (
        (str(floors["model"].iloc[0]), int(floors["latent_dim"].iloc[0])) if len(floors) else None
    )
    panel(0, 0, *(floor or (next(iter(reference_models()), "reference"), 0)))  # n/a if absent
    figure.axes[-1].set_title("target's own sampler", fontsize=9, pad=3)
    if columns > 1:
        corner = ", ".join(m.short_label for m in registered(target.kind) if m.headline)
        corner = textwrap.fill(
            f"corner: {corner}; means over seeds", 34 if images else 40, subsequent_indent="    "
        )
        key = figure.add_subplot(grid[0, 1:])
        key.set_label("key")
        key.axis("off")
        key.text(
            0.02,
            0.5,
            (
                f"each panel: the first {IMAGE_TILES * IMAGE_TILES} samples\n"
                "    of the seed shown\n"
                "oracle: training images, scored\n    against the held-out ones\n"
                f"{corner}\n"
                "n/a: latent dim not in the sweep"
                if images
                else "grey: the exact target density\n"
                "dots: generated samples (first 2,000)\n"
                f"{corner}\n"
                f"axes: [−{target.plot_range:g}, {target.plot_range:g}]², equal aspect\n"
                "n/a: latent dim not in the sweep (flows\n"
                "    and diffusion are fixed at 2)"
            ),
            transform=key.transAxes,
            ha="left",
            va="center",
            fontsize=7.5,
            color="#444444",
            linespacing=1.35,
        )
    for row, model in enumerate(models, start=1):
        for column, latent_dim in enumerate(latent_dims):
            panel(row, column, model, latent_dim)

    figure.suptitle(title, fontsize=11, y=0.995)
    if subtitle:
        figure.text(
            0.5,
            1 - 0.34 / figure.get_figheight(),
            subtitle,
            ha="center",
            va="top",
            fontsize=7.5,
            color="#555555",
        )
    return figure

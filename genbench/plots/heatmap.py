"""The leaderboard heatmap: targets × leaderboard entries, coloured by rank within the target."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from genbench.models import is_reference
from genbench.plots.style import axis_label, new_figure, text_inches, wrap_name

CELL_INCHES = 0.74  # the narrowest column: room for a cell's rank and value
LABEL_GAP_INCHES = 0.12  # the least space between two columns' labels
ENTRY_FONT_SIZE = 7.5  # points, the entries' labels over the columns
TARGET_FONT_SIZE = 8.5  # points, the targets' labels beside the rows
# A model's name is wrapped after its "_" and "-" into lines of about this many characters, so
# that long plug-in and sampler names (ddpm_dpm_solver_sde) widen their column only a little.
ENTRY_LABEL_CHARS = 10


def leaderboard_heatmap(
    board: pd.DataFrame,
    *,
    targets: Sequence[str],
    entries: Sequence[tuple[str, int]],
    rank_metric: str = "w2",
) -> Figure:
    """Targets × leaderboard entries, coloured by rank within the target (1 = best).

    Each cell states the rank and the mean of ``rank_metric``. Ranks are normalised per target,
    (rank − 1) / (entries − 1), so that the colour scale means the same on every row. The image
    axes is labelled ``heatmap``; its data is the (targets, entries) array of normalised ranks.
    """
    ranks = np.full((len(targets), len(entries)), np.nan)
    cells: dict[tuple[int, int], tuple[int, float]] = {}
    for i, target in enumerate(targets):
        part = board[board["target"] == target]
        worst = max(1, len(part) - 1)
        for row in part.itertuples():
            key = (row.model, int(row.latent_dim))
            if key not in entries:
                continue
            j = entries.index(key)
            ranks[i, j] = (int(row.rank) - 1) / worst
            cells[i, j] = (int(row.rank), float(getattr(row, f"{rank_metric}_mean")))

    # The figure is sized from its labels, so that none overlaps or is cut off: every column as
    # wide as the widest entry's label, room beside them for the targets' labels and the colour
    # bar, and more height where the entries' labels have more than two lines.
    labels = [entry_label(model, latent_dim) for model, latent_dim in entries]
    widest = max((text_inches(label, ENTRY_FONT_SIZE) for label in labels), default=0.0)
    column = max(CELL_INCHES, widest + LABEL_GAP_INCHES)
    beside = 1.0 + text_inches("\n".join(targets), TARGET_FONT_SIZE)
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    figure = new_figure(
        beside + column * len(entries), 1.3 + 0.62 * len(targets) + 0.13 * max(0, lines - 2)
    )
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    axes.set_label("heatmap")
    # perceptually uniform and CVD-safe; reversed so that the best rank is the brightest
    image = axes.imshow(
        np.ma.masked_invalid(ranks), cmap="viridis_r", vmin=0, vmax=1, aspect="auto"
    )
    axes.set_facecolor("#F2F2F2")
    for (i, j), (rank, value) in cells.items():
        colour = "white" if ranks[i, j] > 0.55 else "black"
        axes.text(
            j,
            i - 0.1,
            str(rank),
            ha="center",
            va="center",
            fontsize=9.5,
            color=colour,
            fontweight="bold",
        )
        shown = f"{value:.3g}" if np.isfinite(value) else "failed"
        axes.text(j, i + 0.22, shown, ha="center", va="center", fontsize=6.5, color=colour)
    for i in range(len(targets)):
        for j in range(len(entries)):
            if (i, j) not in cells:
                axes.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="#999999")
    axes.set_xticks(range(len(entries)))
    axes.set_xticklabels(labels, fontsize=ENTRY_FONT_SIZE)
    axes.set_yticks(range(len(targets)))
    axes.set_yticklabels(targets, fontsize=TARGET_FONT_SIZE)
    axes.tick_params(length=0)
    axes.xaxis.tick_top()
    for spine in axes.spines.values():
        spine.set_visible(False)
    caption = (
        f"bold: rank within the target by {axis_label(rank_metric)}, shared "
        f"while 95 % intervals overlap; below it: the mean {rank_metric}"
    )
    width = int(figure.get_figwidth() * 15)  # characters that fit on one line, about
    axes.set_xlabel(textwrap.fill(caption, width), fontsize=7.5, color="#555555")
    colourbar = figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01, ticks=[0, 1])
    colourbar.ax.set_yticklabels(["best", "worst"], fontsize=7.5)
    colourbar.outline.set_visible(False)
    return figure


def entry_label(model: str, latent_dim: int) -> str:
    """A leaderboard entry's column label: ``oracle``, or the model's name wrapped after its
    "_" and "-" into lines of about ``ENTRY_LABEL_CHARS`` over ``z=K``
    (``ddpm_dpm_solver_sde`` at 2 → ``ddpm_dpm_`` / ``solver_sde`` / ``z=2``)."""
    if is_reference(model):
        return model
    return f"{wrap_name(model, ENTRY_LABEL_CHARS)}\nz={latent_dim}"

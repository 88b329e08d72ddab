"""The rate–distortion figure of a β-VAE sweep: what the KL weight β buys and what it costs.

One column per target. Above, each VAE entry's distortion against its rate (seed means, 95 %
intervals as error bars), one line per latent size (and per entry and step count, where there
are several) through its β values in order, each point labelled with its β: the trade-off
that β moves along. Below, the ranking metric (sample
quality) against β for the same lines, the oracle as a dashed level: which point of the
trade-off samples best.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from genbench.models import is_reference
from genbench.plots.curves import legend_below
from genbench.plots.style import MARKERS, ORACLE_COLOUR, PALETTE, new_figure
from genbench.registry import metrics

DEFAULT_BETA = 1.0  # the VAE's β where an entry does not set one: the plain ELBO


def vae_rows(board: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``board`` with a finite rate and distortion (the VAE's), with a numeric
    ``beta`` column (``DEFAULT_BETA`` where the entry did not set one)."""
    if not {"rate_mean", "distortion_mean"} <= set(board.columns):
        return board.iloc[0:0]
    rows = board[np.isfinite(board["rate_mean"].astype(float))]
    rows = rows[np.isfinite(rows["distortion_mean"].astype(float))]
    beta = pd.to_numeric(rows["beta"], errors="coerce") if "beta" in rows else np.nan
    return rows.assign(beta=pd.Series(beta, index=rows.index, dtype=float).fillna(DEFAULT_BETA))


def has_tradeoff(board: pd.DataFrame) -> bool:
    """Whether ``board`` has a rate–distortion trade-off to draw: VAE rows at two βs or more."""
    rows = vae_rows(board)
    return bool(len(rows)) and rows["beta"].nunique() > 1


def lines_of(rows: pd.DataFrame) -> pd.Series:
    """The line each row belongs to: its entry without the β sweep's suffix (``vae_sphere``
    for ``vae_sphere_beta4``), latent size and, where there are several, step count; named
    by what tells the lines apart (``latent 2``, or ``vae_sphere, latent 2``)."""
    entry = rows["model"].str.replace(r"_beta[^_]*$", "", regex=True)
    several_entries = entry.nunique() > 1
    several_steps = "steps" in rows and rows["steps"].nunique() > 1
    names = []
    for family, (_, row) in zip(entry, rows.iterrows(), strict=True):
        parts = [family] if several_entries else []
        parts.append(f"latent {int(row['latent_dim'])}")
        if several_steps:
            parts.append(f"{int(row['steps']):,} steps")
        names.append(", ".join(parts))
    return pd.Series(names, index=rows.index)


def rate_distortion(
    board: pd.DataFrame, *, targets: Sequence[str], rank_metric: str, title: str
) -> Figure:
    """Distortion against rate (above) and ``rank_metric`` against β (below), per target; one
    line per VAE entry (less its β), latent size and step count through its βs (axes labelled
    ``rd:TARGET`` and ``quality:TARGET``)."""
    rows = vae_rows(board)
    rows = rows.assign(line=lines_of(rows))
    order = list(dict.fromkeys(rows.sort_values(["latent_dim"], kind="stable")["line"]))
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
    markers = {name: MARKERS[i % len(MARKERS)] for i, name in enumerate(order)}
    quality = metrics.get(rank_metric)
    figure = new_figure(max(4.2 * len(targets), 6.0), 7.4)
    grid = figure.add_gridspec(
        2, len(targets), left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.3, hspace=0.35
    )
    figure.suptitle(title, fontsize=11)
    for column, target in enumerate(targets):
        part = rows[rows["target"] == target]
        above = figure.add_subplot(grid[0, column], label=f"rd:{target}")
        below = figure.add_subplot(grid[1, column], label=f"quality:{target}")
        for name in order:
            line = part[part["line"] == name].sort_values("beta")
            if line.empty:
                continue
            colour = colours[name]
            style = {"color": colour, "marker": markers[name], "markersize": 5, "linewidth": 1.2}
            above.errorbar(
                line["rate_mean"],
                line["distortion_mean"],
                xerr=interval(line, "rate"),
                yerr=interval(line, "distortion"),
                capsize=2,
                **style,
            )
            for _, row in line.iterrows():
                above.annotate(
                    f"β={row['beta']:g}",
                    (row["rate_mean"], row["distortion_mean"]),
                    textcoords="offset points",
                    xytext=(4, 3),
                    fontsize=7,
                    color=colour,
                )
            below.errorbar(
                line["beta"], line[f"{rank_metric}_mean"], yerr=interval(line, rank_metric),
                capsize=2, **style,
            )  # fmt: skip
        floor = board[(board["target"] == target) & board["model"].map(is_reference)]
        if len(floor):
            below.axhline(
                float(floor[f"{rank_metric}_mean"].iloc[0]),
                color=ORACLE_COLOUR,
                linestyle="--",
                linewidth=1,
            )
        above.set_title(target, fontsize=10)
        above.set_xlabel(metrics.get("rate").axis_label, fontsize=8)
        above.set_ylabel(metrics.get("distortion").axis_label, fontsize=8)
        below.set_xscale("log")
        below.set_xlabel("β (KL weight)", fontsize=8)
        below.set_ylabel(quality.axis_label, fontsize=8)
        if quality.scale == "log":
            below.set_yscale("log")
        for axes in (above, below):
            axes.tick_params(labelsize=7)
            axes.grid(alpha=0.3, linewidth=0.5)
    handles = [
        Line2D([], [], color=colours[name], marker=markers[name], markersize=5, label=name)
        for name in order
    ]
    if board["model"].map(is_reference).any():
        handles.append(Line2D([], [], color=ORACLE_COLOUR, linestyle="--", label="oracle (floor)"))
    legend_below(figure, grid, handles)
    return figure


def interval(rows: pd.DataFrame, name: str) -> np.ndarray:
    """(2, n) distances from each mean down to its interval's low end and up to its high end,
    for ``errorbar``; zero where an end is missing."""
    mean = rows[f"{name}_mean"].to_numpy(dtype=float)
    low = mean - rows[f"{name}_ci_low"].to_numpy(dtype=float)
    high = rows[f"{name}_ci_high"].to_numpy(dtype=float) - mean
    return np.nan_to_num(np.clip(np.vstack([low, high]), 0, None))

"""Terminal tables: the leaderboard after a run, and the outcome of a comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from genbench.compare import Comparison
from genbench.metrics import ranking_metric, registered
from genbench.models import is_reference
from genbench.registry import metrics


def with_interval(row: pd.Series, name: str) -> str:
    """``mean [low, high]``: intervals on the log scale are not symmetric about the mean."""
    mean, low, high = row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    if not np.isfinite(mean):
        return "—"
    if not (np.isfinite(low) and np.isfinite(high)) or high == low:
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.2g}, {high:.2g}]"


def print_leaderboard(board: pd.DataFrame, console: Console | None = None) -> None:
    """Per target, the leaderboard ``board`` by rank: the ranking metric with its interval, the
    other headline metrics' means under their short labels, and the training time.

    Only headline metrics are shown, to fit 80 columns; leaderboard.csv has every metric with
    its interval. A headline metric that ``board`` has no column for is left out."""
    console = console or Console()
    rank_name = ranking_metric().name
    shown = [
        m
        for m in registered()
        if m.headline and m.name != rank_name and f"{m.name}_mean" in board.columns
    ]
    for target, part in board.groupby("target", sort=False):
        table = Table(
            title=f"{target}: ranked by {rank_name} (mean [95% CI] over seeds)",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            padding=(0, 0),
            collapse_padding=True,
        )
        swept = part[~part["model"].map(is_reference)]
        # a convergence study trains entries for several step counts: show them
        with_steps = "steps" in part.columns and bool(
            (swept.groupby(["model", "latent_dim"])["steps"].nunique() > 1).any()
        )
        headers = ["#", "model", "z", *(["steps"] if with_steps else []), rank_name]
        for header in [*headers, *(m.short_label for m in shown), "train s"]:
            # on a narrow terminal the model names and intervals are cut short (…), never the
            # rank and latent size
            table.add_column(
                header,
                justify="left" if header == "model" else "right",
                no_wrap=True,
                min_width=3 if header in ("#", "z") else None,
            )
        for _, row in part.iterrows():
            oracle = is_reference(row["model"])
            table.add_row(
                str(row["rank"]),
                row["model"],
                "—" if oracle else str(row["latent_dim"]),
                *([("—" if oracle else f"{row['steps']:,}")] if with_steps else []),
                with_interval(row, rank_name),
                *(f"{row[f'{m.name}_mean']:.3g}" for m in shown),
                "—" if oracle else f"{row['train_seconds']:.1f}",
                style="dim" if oracle else ("red" if row["failed"] else None),
            )
        console.print(table)


def print_comparison(result: Comparison, show_all: bool = False) -> None:
    console = Console()
    changes = result.changes
    shown = changes if show_all else changes[changes["significant"]]
    if shown.empty:
        console.print("No significant change.")
    else:
        table = Table(
            title="Changes"
            if show_all
            else "Significant changes (Welch t-test, Holm-adjusted p < 0.05)"
        )
        for column in ["target", "model", "latent", "metric", "old", "new", "change", "", "p"]:
            table.add_column(column)
        for _, row in shown.sort_values(["direction", "p_adjusted"]).iterrows():
            colour = {"better": "green", "worse": "red"}.get(row["direction"], "")
            table.add_row(
                row["target"],
                row["model"],
                str(row["latent_dim"]),
                row["metric"],
                f"{row['old']:.4g}",
                f"{row['new']:.4g}",
                f"{row['change']:+.3g}",
                f"[{colour}]{row['direction']}[/]" if colour else row["direction"],
                f"{row['p_adjusted']:.3g}" if np.isfinite(row["p_adjusted"]) else "n/a",
            )
        console.print(table)
    significant = changes[changes["significant"]]
    better = int((significant["direction"] == "better").sum())
    worse = int((significant["direction"] == "worse").sum())
    print(
        f"{len(changes)} comparisons: {better} significantly better, {worse} significantly "
        f"worse, {len(changes) - better - worse} unchanged or not significant"
    )
    for label, entries in [
        ("only in the old", result.only_old),
        ("only in the new", result.only_new),
    ]:
        for _, row in entries.iterrows():
            print(f"{label} leaderboard: {row['target']} {row['model']} z={row['latent_dim']}")


def print_scores(
    title: str, values: dict[str, float], floor: dict[str, float], console: Console | None = None
) -> None:
    """A sample set's score by metric, beside the oracle's floor and the ideal value."""
    table = Table(title=title)
    for column in ["metric", "value", "oracle floor", "ideal", "meaning"]:
        table.add_column(column, justify="right" if column in {"value", "oracle floor"} else "left")
    for name, value in values.items():
        metric = metrics.get(name)
        table.add_row(
            name, f"{value:.4g}", f"{floor[name]:.4g}", f"{metric.ideal:g}", metric.description
        )
    (console or Console()).print(table)
    print("The oracle floor is the target's own sampler scored the same way: no model beats it.")

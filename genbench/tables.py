"""Terminal tables: the leaderboard after a run, and the outcome of a comparison."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from genbench.compare import Comparison
from genbench.metrics import ranking_metric, registered
from genbench.models import is_reference
from genbench.registry import metrics
from genbench.results import target_kind


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
    for target, part in board.groupby("target", sort=False):
        kind = target_kind(target)  # each kind of target has its ranking and headline metrics
        rank_name = ranking_metric(kind).name
        shown = [
            m
            for m in registered(kind)
            if m.headline and m.name != rank_name and f"{m.name}_mean" in board.columns
        ]
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


def print_comparison(result: Comparison, show_all: bool = False, fmt: str = "text") -> None:
    """The outcome of a comparison: regressions first, each with its old and new values, the
    change, the test and its p- and q-values; then improvements (and with ``show_all`` every
    other change). ``fmt``: "text" (the terminal), "json" (one object) or "markdown"."""
    changes = result.changes
    order = {"worse": 0, "better": 1}
    shown = changes if show_all else changes[changes["significant"]]
    shown = shown.assign(
        _order=shown["significant"].map({True: 0, False: 2})
        + shown["direction"].map(order).fillna(1)
    ).sort_values(["_order", "q_value", "p_value"], na_position="last", kind="stable")
    rows = [_comparison_row(row) for _, row in shown.iterrows()]
    better, worse = len(result.improvements), len(result.regressions)
    summary = (
        f"{len(changes)} comparisons: {worse} significantly worse, {better} significantly "
        f"better, {len(changes) - better - worse} unchanged or not significant"
    )
    only = [
        (label, {k: _plain(v) for k, v in row.items()})
        for label, entries in [("old", result.only_old), ("new", result.only_new)]
        for _, row in entries.iterrows()
    ]
    if fmt == "json":
        print(
            json.dumps(
                {
                    "test": result.test,
                    "regressions": [
                        r for r in rows if r["significant"] and r["direction"] == "worse"
                    ],
                    "improvements": [
                        r for r in rows if r["significant"] and r["direction"] == "better"
                    ],
                    **({"changes": rows} if show_all else {}),
                    "comparisons": len(changes),
                    "only_old": [row for label, row in only if label == "old"],
                    "only_new": [row for label, row in only if label == "new"],
                    "warnings": result.warnings,
                },
                indent=1,
                allow_nan=False,
                default=str,
            )
        )
        return
    columns = [
        "target",
        "model",
        "z",
        "steps",
        "metric",
        "old",
        "new",
        "change",
        "",
        "test",
        "p",
        "q",
    ]
    cells = [
        [
            r["target"],
            r["model"],
            str(r["latent_dim"]),
            str(r.get("steps", "")),
            r["metric"],
            _number(r["old"]),
            _number(r["new"]),
            _change_text(r),
            r["direction"],
            r["test"] or "—",
            _number(r["p_value"], ".2g"),
            _number(r["q_value"], ".2g"),
        ]
        for r in rows
    ]
    title = "Changes" if show_all else "Significant changes, regressions first"
    if fmt == "markdown":
        print(f"**{summary}**\n")
        print(f"Test: {result.test}.\n")
        if cells:
            print(f"{title}:\n")
            print("| " + " | ".join(c or "direction" for c in columns) + " |")
            print("|" + "---|" * len(columns))
            for line in cells:
                print("| " + " | ".join(line) + " |")
            print()
        for label, row in only:
            where = f"{row['target']} {row['model']} z={row['latent_dim']}"
            print(f"- only in the {label} results: {where}")
        return
    console = Console()
    if not console.is_terminal:  # a CI log: no terminal to fit, keep every column whole
        console = Console(width=160)
    if not cells:
        console.print("No significant change.")
    else:
        table = Table(title=title, box=box.SIMPLE_HEAD)
        for column in columns:
            table.add_column(
                column,
                justify="left" if column in ("target", "model", "metric", "", "test") else "right",
            )
        for line in cells:
            colour = {"better": "green", "worse": "red"}.get(line[8], "")
            line[8] = f"[{colour}]{line[8]}[/]" if colour else line[8]
            line[9] = line[9].split()[0]  # "paired", "Student": the footer names the test
            table.add_row(*line)
        console.print(table)
    print(f"Test: {result.test}.")
    print(summary)
    for label, row in only:
        print(f"only in the {label} results: {row['target']} {row['model']} z={row['latent_dim']}")


def _plain(value: object) -> object:
    """A JSON-ready value: numpy scalars as Python numbers, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _comparison_row(row: pd.Series) -> dict:
    keep = [
        "target",
        "model",
        "latent_dim",
        "steps",
        "metric",
        "old",
        "new",
        "change",
        "direction",
        "effect",
        "threshold",
        "test",
        "seeds",
        "p_value",
        "q_value",
        "significant",
    ]
    return {k: _plain(row[k]) for k in keep if k in row.index}


def _number(value: object, spec: str = ".4g") -> str:
    return "n/a" if value is None else f"{value:{spec}}"


def _change_text(row: dict) -> str:
    """The change as a ratio for a log-scale metric (×1.8), else as a difference (+0.05)."""
    old, new = row["old"], row["new"]
    if old is None or new is None:
        return "n/a"
    if (
        row["metric"] in metrics.available()
        and metrics.get(row["metric"]).scale == "log"
        and old > 0
    ):
        return f"×{new / old:.3g}"
    return f"{new - old:+.3g}"


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
            name,
            f"{value:.4g}",
            f"{floor[name]:.4g}",
            "—" if metric.ideal is None else f"{metric.ideal:g}",
            metric.description,
        )
    (console or Console()).print(table)
    print("The oracle floor is the target's own sampler scored the same way: no model beats it.")

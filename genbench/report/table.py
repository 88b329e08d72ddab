"""The leaderboard as the report's tables show it: which metric columns, which rows in which
order, how numbers are written, and the runs that failed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from genbench.metrics.base import display_order
from genbench.registry import metrics
from genbench.report.folder import Results
from genbench.results import RUN_ID


def table_columns(results: Results) -> list[str]:
    """The metric columns of the tables: the ranking metric, the headline metrics, the rest,
    each in registry order."""
    headline = [m for m in results.metric_names if metrics.get(m).headline]
    return display_order([results.rank_metric, *headline, *results.metric_names])


def leaderboard_rows(results: Results) -> list[dict[str, Any]]:
    """The leaderboard rows in report order: by target, then rank."""
    order = {name: index for index, name in enumerate(results.targets)}
    board = results.board.assign(_order=results.board["target"].map(order))
    board = board.sort_values(["_order"], kind="stable")
    board = pd.concat(
        [by_rank(part, results.rank_metric) for _, part in board.groupby("_order", sort=True)]
    )
    return board.drop(columns="_order").to_dict("records")


def by_rank(part: pd.DataFrame, name: str) -> pd.DataFrame:
    """``part`` by rank, then by the distance of the rank metric's mean to its ideal value."""
    ideal = metrics.get(name).ideal
    distance = (part[f"{name}_mean"] - ideal).abs()
    return (
        part.assign(_distance=distance)
        .sort_values(["rank", "_distance"], kind="stable")
        .drop(columns="_distance")
    )


def failures(results: Results) -> pd.DataFrame:
    """The runs that failed or diverged, with their error messages."""
    runs = results.runs
    bad = runs[runs["status"] != "ok"]
    columns = [*RUN_ID, "status", *(["error"] if "error" in runs.columns else [])]
    return bad[columns].fillna("")


def number(value: Any) -> str:
    """A metric value for a table: 3 significant digits, or an empty string."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.3g}" if np.isfinite(value) else ""

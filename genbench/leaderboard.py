"""Aggregate runs over seeds: mean, standard deviation and a 95 % confidence interval per metric,
and a rank per target in which entries whose intervals overlap share a rank.

Metrics declared with a log scale (positive, with a long tail over seeds: KL divergences,
Wasserstein distances) get log-scale intervals, the others Student-t ones (see
``confidence_interval``). The ``rank`` column ranks by the metric declared with ``ranks=True``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from genbench.metrics import ranking_metric
from genbench.models import is_reference
from genbench.registry import metrics
from genbench.results import ENTRY, SWEPT_PARAMS, target_kind

CONFIDENCE = 0.95
# The name of the metric that ranks, for code that reads it as a constant; the choice is the
# metric's own metadata (``ranks=True``, see ``genbench.metrics.kl``).
RANK_METRIC = ranking_metric().name
STATISTICS = ["mean", "std", "ci_low", "ci_high"]


def confidence_interval(
    values: np.ndarray, log_scale: bool = False
) -> tuple[float, float, float, float]:
    """Mean, sample std and a 95 % interval for the mean of ``values``; NaN bounds with one value.

    The interval is Student's t, or with ``log_scale`` (for positive metrics with a long right
    tail) Cox's interval for the mean of a log-normal: on y = log x, exp(ȳ + s²/2 ± t·√(s²/n +
    s⁴/(2(n − 1)))). A t-interval on three seeds of 107, 191 and 400 nats reaches down to
    −143; Cox's stays positive and covers the mean of skewed values far better (Olsson 2005,
    "Confidence intervals for the mean of a log-normal distribution"). Values that are not all
    positive fall back to Student's t.
    """
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return (np.nan,) * 4
    mean = float(values.mean())
    if n == 1:
        return mean, np.nan, np.nan, np.nan
    std = float(values.std(ddof=1))
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1))
    if log_scale and (values > 0).all():
        logs = np.log(values)
        centre, variance = logs.mean(), logs.var(ddof=1)
        half = t * np.sqrt(variance / n + variance**2 / (2 * (n - 1)))
        return (
            mean,
            std,
            float(np.exp(centre + variance / 2 - half)),
            float(np.exp(centre + variance / 2 + half)),
        )
    half = t * std / np.sqrt(n)
    return mean, std, mean - half, mean + half


def leaderboard(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (target, model, latent_dim, steps): per metric ``<m>_mean``, ``_std``,
    ``_ci_low``, ``_ci_high`` and ``_rank``; ``rank`` is the rank by the metric declared with
    ``ranks=True`` for the kind of the row's target (``kl_forward`` for the 2-D targets).

    ``runs`` has a column per metric it was scored with (runs.csv), and each gets its columns
    here."""
    names = [name for name in metrics.available() if name in runs.columns]
    rows = []
    for (target, model, latent_dim, steps), group in runs.groupby(ENTRY, sort=False):
        ok = group[group["status"] == "ok"]
        row = {
            "target": target,
            "model": model,
            "latent_dim": latent_dim,
            "steps": steps,
            **{
                name: group[name].fillna("").iloc[0]
                for name in (*SWEPT_PARAMS, "train_points")
                if name in group
            },
            "seeds": len(group),
            "failed": int((group["status"] != "ok").sum()),
            **({"num_samples": group["num_samples"].iloc[0]} if "num_samples" in group else {}),
        }
        for name in names:
            mean, std, low, high = confidence_interval(
                ok[name].to_numpy(dtype=float), log_scale=metrics.get(name).scale == "log"
            )
            row |= {
                f"{name}_mean": mean,
                f"{name}_std": std,
                f"{name}_ci_low": low,
                f"{name}_ci_high": high,
            }
        row["train_seconds"] = float(ok["train_seconds"].mean()) if len(ok) else np.nan
        row["samples_per_second"] = float(ok["samples_per_second"].mean()) if len(ok) else np.nan
        row["target_fingerprint"] = group["target_fingerprint"].iloc[0]
        row["preset"] = group["preset"].iloc[0] if "preset" in group else ""
        rows.append(row)
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    ranks = {  # built apart and joined once: a column per metric added one by one fragments
        f"{name}_rank": pd.concat(
            [shared_ranks(part, name) for _, part in board.groupby("target", sort=False)]
        )
        for name in names
        if not metrics.get(name).diagnostic  # no ideal, no order
    }
    board = pd.concat([board, pd.DataFrame(ranks, index=board.index)], axis=1)
    ranking = board["target"].map(lambda target: ranking_metric(target_kind(target)).name)
    board["rank"] = rank_by(board, ranking, "rank").astype("Int64")  # 1, not 1.0
    board["not_oracle"] = ~board["model"].map(is_reference)  # within a shared rank, the floor first
    board["by"] = rank_by(board, ranking, "mean")
    board = board.sort_values(["target", "rank", "not_oracle", "by"], kind="stable")
    return board.drop(columns=["not_oracle", "by"]).reset_index(drop=True)


def rank_by(board: pd.DataFrame, ranking: pd.Series, statistic: str) -> pd.Series:
    """Each row's ``<metric>_<statistic>`` for the metric named in ``ranking`` on its row."""
    values = pd.Series(np.nan, index=board.index)
    for name in ranking.unique():
        rows = ranking == name
        if f"{name}_{statistic}" in board:
            values[rows] = board.loc[rows, f"{name}_{statistic}"]
    return values


def shared_ranks(part: pd.DataFrame, name: str) -> pd.Series:
    """Competition ranks (1, 1, 3, …) of ``part`` by metric ``name``, best first.

    Entries are ordered by distance of their mean to the metric's ideal value. The first entry
    of a group sets its rank; each following entry shares that rank while its interval overlaps
    the group leader's, else it starts a new group at its own position. Entries without a value
    (every seed failed) rank last; where no entry has one (a metric of other targets), none is
    ranked (``<NA>``).
    """
    ideal = metrics.get(name).ideal
    distance = (part[f"{name}_mean"] - ideal).abs()
    if not np.isfinite(distance).any():
        return pd.Series(pd.NA, index=part.index, dtype="Int64")
    order = distance.sort_values(kind="stable", na_position="last").index
    ranks = pd.Series(np.nan, index=part.index)
    leader = None
    for position, index in enumerate(order, start=1):
        if not np.isfinite(distance[index]):
            ranks[index] = len(order)
            continue
        if leader is not None and intervals_overlap(part.loc[leader], part.loc[index], name):
            ranks[index] = ranks[leader]
        else:
            leader = index
            ranks[index] = position
    return ranks.astype("Int64")


def intervals_overlap(a: pd.Series, b: pd.Series, name: str) -> bool:
    """Whether the confidence intervals of two rows overlap (a single seed has a point interval)."""
    low_a, high_a = _bounds(a, name)
    low_b, high_b = _bounds(b, name)
    return low_a <= high_b and low_b <= high_a


def _bounds(row: pd.Series, name: str) -> tuple[float, float]:
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return row[f"{name}_mean"], row[f"{name}_mean"]
    return low, high

"""Compare two leaderboards: what got better or worse, and whether the change is significant.

Each (entry, metric) is tested with Welch's t-test on the two entries' seed statistics (mean,
standard deviation and number of successful seeds, all in the leaderboard). A leaderboard holds
hundreds of such tests, so the p-values are adjusted with Holm's step-down method, and a change
is significant when its adjusted p < ``ALPHA``: the chance of calling anything significant
between two leaderboards of the same code stays below 5 %. Better or worse is judged by each
metric's distance to its ideal value (``Metric.improvement``). An entry with more failed seeds
than before, or with no successful seed where it had some, is a regression in itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from genbench import results
from genbench.registry import metrics
from genbench.results import ENTRY, entry_columns

ALPHA = 0.05  # significance level of the two-sided Welch test


class CompareError(results.ResultsError):
    """Leaderboards that cannot be compared; the message is one line for the user."""


@dataclass(frozen=True)
class Comparison:
    changes: pd.DataFrame  # one row per (target, model, latent_dim, metric) in both files
    only_old: pd.DataFrame  # entries (their ENTRY columns) only in the old leaderboard
    only_new: pd.DataFrame  # entries only in the new one
    warnings: list[str]

    @property
    def regressions(self) -> pd.DataFrame:
        return self.changes[self.changes["significant"] & (self.changes["direction"] == "worse")]


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    """A leaderboard CSV, or CompareError saying why it is not one."""
    try:
        return results.read_leaderboard(path)
    except results.ResultsError as error:
        raise CompareError(str(error)) from None


def compare(old: pd.DataFrame, new: pd.DataFrame) -> Comparison:
    names = [
        n
        for n in metrics.available()
        if all(f"{n}_{s}" in b.columns for b in (old, new) for s in ("mean", "std"))
    ]
    if not names:
        raise CompareError("the two leaderboards have no metric in common")
    # an entry is (target, model, latent_dim, steps); without steps where either file has none
    keys = [c for c in entry_columns(old) if c in entry_columns(new)]
    merged = old.merge(new, on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    if both.empty:
        raise CompareError(f"the two leaderboards have no ({', '.join(keys)}) in common")
    rows = []
    for _, entry in both.iterrows():
        rows.extend(_change(entry, name) for name in names)
        rows.append(_failures(entry))
    changes = pd.DataFrame(rows)
    changes["p_adjusted"] = holm(changes["p_value"].to_numpy(dtype=float))
    tested = np.isfinite(changes["p_adjusted"]) & (changes["p_adjusted"] < ALPHA)
    changes["significant"] = changes["significant"] | (tested & (changes["direction"] != "same"))
    return Comparison(
        changes=changes,
        only_old=merged.loc[merged["_merge"] == "left_only", keys].reset_index(drop=True),
        only_new=merged.loc[merged["_merge"] == "right_only", keys].reset_index(drop=True),
        warnings=_warnings(old, new),
    )


def _change(entry: pd.Series, name: str) -> dict:
    metric = metrics.get(name)
    old_mean, new_mean = entry[f"{name}_mean_old"], entry[f"{name}_mean_new"]
    n_old = entry["seeds_old"] - entry["failed_old"]
    n_new = entry["seeds_new"] - entry["failed_new"]
    p_value = np.nan
    if np.isfinite([old_mean, new_mean]).all() and min(n_old, n_new) >= 2:
        std_old, std_new = entry[f"{name}_std_old"], entry[f"{name}_std_new"]
        if std_old == 0 and std_new == 0:
            p_value = 1.0 if old_mean == new_mean else 0.0  # deterministic values
        else:
            p_value = float(
                stats.ttest_ind_from_stats(
                    old_mean, std_old, n_old, new_mean, std_new, n_new, equal_var=False
                ).pvalue
            )
    improvement = metric.improvement(old_mean, new_mean)
    direction = "better" if improvement > 0 else "worse" if improvement < 0 else "same"
    lost = bool(np.isfinite(old_mean) and not np.isfinite(new_mean))  # no successful seed left
    if lost:
        direction = "worse"
    elif not np.isfinite(improvement):
        direction = "n/a"
    return {
        **{column: entry[column] for column in ENTRY if column in entry.index},
        "metric": name,
        "old": old_mean,
        "new": new_mean,
        "change": new_mean - old_mean,
        "direction": direction,
        "p_value": p_value,
        "significant": lost,  # tested ones are decided after Holm's adjustment
    }


def _failures(entry: pd.Series) -> dict:
    """More failed or diverged seeds than before is a regression whatever the metrics say."""
    old, new = entry["failed_old"], entry["failed_new"]
    direction = "worse" if new > old else "better" if new < old else "same"
    return {
        **{column: entry[column] for column in ENTRY if column in entry.index},
        "metric": "failed",
        "old": old,
        "new": new,
        "change": new - old,
        "direction": direction,
        "p_value": np.nan,
        "significant": bool(new > old),
    }


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for multiple tests; NaN stays NaN.

    >>> [round(float(p), 2) for p in holm(np.array([0.01, 0.04, 0.03, np.nan]))]
    [0.03, 0.06, 0.06, nan]
    """
    adjusted = np.full_like(p_values, np.nan)
    tested = np.flatnonzero(np.isfinite(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def _warnings(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    warnings = []
    for column, what in [("target_fingerprint", "target definitions"), ("preset", "presets")]:
        if column in old.columns and column in new.columns:
            a = set(old[column].dropna().astype(str))
            b = set(new[column].dropna().astype(str))
            if a != b:
                warnings.append(
                    f"the {what} differ ({', '.join(sorted(a))} vs "
                    f"{', '.join(sorted(b))}): the numbers may not be comparable"
                )
    return warnings

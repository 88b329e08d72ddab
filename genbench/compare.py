"""Compare two sets of results: what got better or worse, and whether the change is real.

Each (entry, metric) is judged on the metric's own scale of badness: the logarithm of a
log-scale metric (KL, Wasserstein: a change is a ratio, and seeds scatter multiplicatively) and
the distance to the ideal value of the others (mode coverage, negative space). The change is
tested with

- a **paired t-test over seeds** when both sides are runs tables (``runs.csv`` or a results
  folder) holding the same seeds of the entry: a seed fixes the training data, the initial
  weights and the evaluation samples, so the seed-to-seed scatter, most of the noise, cancels;
- otherwise **Student's two-sample t-test** over the seeds, with the variance pooled over both
  sides: on the log scale the scatter of a same-sized run of the same entry is the same on
  both sides, and with equal seed counts the pooled test stays accurate even where it is not;
  its 2n − 2 degrees of freedom, against Welch's as few as n − 1, are most of the power 3
  seeds have. Per-seed values come from runs tables; a leaderboard's mean and standard
  deviation give a log-scale metric's log values the moments of a log-normal.

A leaderboard holds hundreds of such tests. "Got worse" and "got better" are asked apart, each
with one-sided p-values over every test and Benjamini–Hochberg q-values (false-discovery rate:
when nothing changed, the chance that the gate raises any alarm stays below ``ALPHA``, as with
a family-wise correction, but a regression of many entries at once is found far more
readily). A change is significant when its q < ``ALPHA`` **and** it is larger than the
metric's practical threshold (``Metric.practical_change``: 20 % for a log-scale metric, an
absolute change for the others), so that a tiny but consistent change, which a paired test
sees, does not fail a build. The false-alarm rate between two runs of the same code and the
chance of catching planted regressions were measured on real results by
``benchmarks/compare_power.py`` (see ``benchmarks/README.md``): a change too small to tell
from seed luck with 3 seeds needs more seeds, not a laxer test. (Correcting only over the
tests past the practical threshold looks tempting, and raised an alarm in 16 to 47 % of
same-code comparisons there.)

An entry with more failed or diverged seeds than before, or with no successful seed where it
had some, is a regression in itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from genbench import results
from genbench.metrics.base import Metric
from genbench.registry import metrics
from genbench.results import ENTRY, entry_columns

ALPHA = 0.05  # the false-discovery rate of the Benjamini–Hochberg procedure


class CompareError(results.ResultsError):
    """Results that cannot be compared; the message is one line for the user."""


@dataclass(frozen=True)
class Comparison:
    changes: pd.DataFrame  # one row per (target, model, latent_dim, steps, metric) in both
    only_old: pd.DataFrame  # entries (their ENTRY columns) only in the old results
    only_new: pd.DataFrame  # entries only in the new ones
    warnings: list[str]
    test: str  # the tests used, in words, for the output

    @property
    def regressions(self) -> pd.DataFrame:
        return self.changes[self.changes["significant"] & (self.changes["direction"] == "worse")]

    @property
    def improvements(self) -> pd.DataFrame:
        return self.changes[self.changes["significant"] & (self.changes["direction"] == "better")]


def read_results(path: str | Path) -> pd.DataFrame:
    """A results folder (its runs.csv, else its leaderboard.csv), a runs.csv or a
    leaderboard.csv; CompareError saying why it is none of them."""
    path = Path(path)
    try:
        if path.is_dir():
            store = results.ResultStore(path)
            if store.runs_csv.is_file():
                return results.read_runs(store.runs_csv)
            if store.leaderboard_csv.is_file():
                return results.read_leaderboard(store.leaderboard_csv)
            raise CompareError(f"{path} holds neither runs.csv nor leaderboard.csv")
        if _is_runs_table(path):
            return results.read_runs(path)
        return results.read_leaderboard(path)
    except results.ResultsError as error:
        raise CompareError(str(error)) from None


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    """A leaderboard CSV, or CompareError saying why it is not one."""
    try:
        return results.read_leaderboard(path)
    except results.ResultsError as error:
        raise CompareError(str(error)) from None


def _is_runs_table(path: Path) -> bool:
    """Whether the CSV's header names a seed column (a runs table, not a leaderboard)."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError):
        return False  # read_leaderboard says what is wrong with it
    return "seed" in header and "status" in header


def compare(old: pd.DataFrame, new: pd.DataFrame, *, alpha: float = ALPHA) -> Comparison:
    """Compare ``old`` with ``new``, each a runs table (one row per seed) or a leaderboard."""
    old_runs, new_runs = (_runs_or_none(table) for table in (old, new))
    old_board = _summary(old_runs) if old_runs is not None else old
    new_board = _summary(new_runs) if new_runs is not None else new
    names = [
        n
        for n in metrics.available()
        if not metrics.get(n).diagnostic  # no ideal: no change is better or worse
        and all(f"{n}_{s}" in b.columns for b in (old_board, new_board) for s in ("mean", "std"))
    ]
    if not names:
        raise CompareError("the two results have no metric in common")
    # an entry is (target, model, latent_dim, steps); without steps where either file has none
    keys = [c for c in entry_columns(old_board) if c in entry_columns(new_board)]
    # which entries each side has, from the keys alone (an indicator column added to the wide
    # merged frame fragments it), then the entries in common side by side
    presence = old_board[keys].merge(new_board[keys], on=keys, how="outer", indicator=True)
    both = old_board.merge(new_board, on=keys, how="inner", suffixes=("_old", "_new"))
    if both.empty:
        raise CompareError(f"the two results have no ({', '.join(keys)}) in common")
    old_seeds = _seed_values(old_runs, keys)
    new_seeds = _seed_values(new_runs, keys)
    rows = []
    for entry in both.to_dict("records"):
        key = tuple(entry[k] for k in keys)
        for name in names:
            rows.append(_change(entry, metrics.get(name), old_seeds.get(key), new_seeds.get(key)))
        rows.append(_failures(entry))
    changes = pd.DataFrame(rows)
    decide(changes, alpha)
    tests = sorted(set(changes["test"].dropna()) - {""})
    return Comparison(
        changes=changes,
        only_old=presence.loc[presence["_merge"] == "left_only", keys].reset_index(drop=True),
        only_new=presence.loc[presence["_merge"] == "right_only", keys].reset_index(drop=True),
        warnings=_warnings(old_board, new_board),
        test=f"{' and '.join(tests) or 'no test'} over seeds, on log values for log-scale "
        f"metrics; Benjamini–Hochberg q < {alpha:g} and a change beyond the metric's "
        "practical threshold",
    )


def decide(changes: pd.DataFrame, alpha: float = ALPHA) -> None:
    """Fill ``q_value`` and ``significant`` of ``changes`` (in place).

    Worse and better are two questions, each asked of every tested row: the one-sided p-value
    of a change for the worse (``p_value`` of a row that got worse; 1 − that of one that got
    better) gets Benjamini–Hochberg q-values over every tested row, and likewise for the
    better. A row is significant when its direction's q < ``alpha`` and its change passes the
    metric's practical threshold, or when it is a regression in itself (seeds lost).
    """
    p_values = changes["p_value"].to_numpy(dtype=float)
    worse = (changes["direction"] == "worse").to_numpy()
    better = (changes["direction"] == "better").to_numpy()
    # a row that did not change at all has p = 1 both ways; an untested one stays NaN
    untested = np.isnan(p_values)
    p_worse = np.where(untested, np.nan, np.where(worse, p_values, 1 - p_values * better))
    p_better = np.where(untested, np.nan, np.where(better, p_values, 1 - p_values * worse))
    q_worse, q_better = benjamini_hochberg(p_worse), benjamini_hochberg(p_better)
    changes["q_value"] = np.where(worse, q_worse, np.where(better, q_better, np.nan))
    practical = changes["effect"].abs() >= changes["threshold"]
    tested = np.isfinite(changes["q_value"]) & (changes["q_value"] < alpha) & practical
    changes["significant"] = changes["lost"] | tested


def _runs_or_none(table: pd.DataFrame) -> pd.DataFrame | None:
    return table if "seed" in table.columns else None


def _summary(runs: pd.DataFrame) -> pd.DataFrame:
    """What ``compare`` reads of a leaderboard, from a runs table: per entry the seeds, the
    failed ones, and each metric's mean and standard deviation over the successful ones."""
    keys = entry_columns(runs)
    names = [n for n in metrics.available() if n in runs.columns]
    if "train_points" not in runs.columns and "config" in runs.columns:
        runs = runs.assign(train_points=[configured(c, "train_points") for c in runs["config"]])
    ok = runs[runs["status"] == "ok"]
    board = runs.groupby(keys, sort=False).agg(
        seeds=("seed", "size"),
        failed=("status", lambda s: int((s != "ok").sum())),
        **{c: (c, "first") for c in [*PROVENANCE, *SETTINGS] if c in runs.columns},
    )
    means = ok.groupby(keys, sort=False)[names].mean().add_suffix("_mean")
    stds = ok.groupby(keys, sort=False)[names].std(ddof=1).add_suffix("_std")
    return board.join(means).join(stds).reset_index()


def _seed_values(runs: pd.DataFrame | None, keys: list[str]) -> dict[tuple, dict]:
    """The successful seeds of each entry: {"seed": (n,) seeds, metric name: (n,) values}."""
    if runs is None:
        return {}
    ok = runs[runs["status"] == "ok"].sort_values("seed")
    names = [n for n in metrics.available() if n in ok.columns]
    return {
        tuple(key if isinstance(key, tuple) else (key,)): {
            "seed": group["seed"].to_numpy(),
            **{n: group[n].to_numpy(dtype=float) for n in names},
        }
        for key, group in ok.groupby(keys, sort=False)
    }


def _badness(metric: Metric, values: np.ndarray, log: bool) -> np.ndarray:
    """Distance to the metric's ideal value, on the log scale for a log-scale metric."""
    distance = np.abs(values - metric.ideal)
    return np.log(distance) if log else distance


def _change(entry: dict, metric: Metric, old: dict | None, new: dict | None) -> dict:
    name = metric.name
    old_mean, new_mean = entry[f"{name}_mean_old"], entry[f"{name}_mean_new"]
    row = {
        **{column: entry[column] for column in ENTRY if column in entry},
        "metric": name,
        "old": old_mean,
        "new": new_mean,
        "change": new_mean - old_mean,
    }
    if old is not None and new is not None:
        test = _test_seeds(metric, *_finite(old, name), *_finite(new, name))
    else:
        test = _test_moments(metric, entry)
    effect, threshold, p_value, test_name, n = test
    improvement = metric.improvement(old_mean, new_mean)
    if np.isfinite(effect) and effect != 0:
        direction = "worse" if effect > 0 else "better"
    else:
        direction = "better" if improvement > 0 else "worse" if improvement < 0 else "same"
    lost = bool(np.isfinite(old_mean) and not np.isfinite(new_mean))  # no successful seed left
    if lost:
        direction = "worse"
    elif not np.isfinite(improvement):
        direction = "n/a"
    return row | {
        "direction": direction,
        "effect": effect,  # change of badness: a log ratio, or a change of distance
        "threshold": threshold,  # the practical threshold on the same scale
        "test": test_name,
        "seeds": n,
        "p_value": p_value,
        "lost": lost,
    }


def _threshold(metric: Metric, log: bool) -> float:
    change = metric.practical_change or 0.0
    return float(np.log1p(change)) if log else change


def _finite(seeds: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, values) of the seeds with a finite value of metric ``name``, by seed."""
    values = seeds[name]
    keep = np.isfinite(values)
    return seeds["seed"][keep], values[keep]


def _test_seeds(
    metric: Metric, old_seeds: np.ndarray, old: np.ndarray, new_seeds: np.ndarray, new: np.ndarray
) -> tuple[float, float, float, str, int]:
    """(effect, threshold, p-value, test, seeds) from per-seed values (sorted by seed): paired
    when both sides hold the same seeds, else Student's."""
    values = np.concatenate([old, new])
    log = metric.scale == "log" and bool((np.abs(values - metric.ideal) > 0).all())
    threshold = _threshold(metric, log)
    a, b = _badness(metric, old, log), _badness(metric, new, log)
    if len(a) < 2 or len(b) < 2:
        effect = float(b.mean() - a.mean()) if len(a) and len(b) else np.nan
        return effect, threshold, np.nan, "", min(len(a), len(b))
    if np.array_equal(old_seeds, new_seeds):
        differences = b - a
        effect = float(differences.mean())
        se = float(differences.std(ddof=1)) / np.sqrt(len(differences))
        # with every difference equal, the sign-flip test's smallest p-value stands in
        exact = 1 / 2 ** len(differences)
        p_value = _p_value(effect, se, len(differences) - 1, exact)
        return effect, threshold, p_value, "paired t", len(b)
    effect = float(b.mean() - a.mean())
    return (
        effect,
        threshold,
        _student(effect, float(a.var(ddof=1)), len(a), float(b.var(ddof=1)), len(b)),
        "Student t",
        min(len(a), len(b)),
    )


def _test_moments(metric: Metric, entry: dict) -> tuple[float, float, float, str, int]:
    """(effect, threshold, p-value, test, seeds) from a leaderboard's means and standard
    deviations; a log-scale metric's log values get the moments of a log-normal."""
    name = metric.name
    means = np.array([entry[f"{name}_mean_old"], entry[f"{name}_mean_new"]], dtype=float)
    stds = np.array([entry[f"{name}_std_old"], entry[f"{name}_std_new"]], dtype=float)
    counts = [int(entry[f"seeds_{s}"] - entry[f"failed_{s}"]) for s in ("old", "new")]
    distance = np.abs(means - metric.ideal)
    log = metric.scale == "log" and bool((distance > 0).all())
    threshold = _threshold(metric, log)
    if log:
        variances = np.log1p((stds / distance) ** 2)
        centres = np.log(distance) - variances / 2
    else:
        variances, centres = stds**2, distance
    effect = float(centres[1] - centres[0])
    if not (np.isfinite(centres).all() and min(counts) >= 2 and np.isfinite(variances).all()):
        return effect, threshold, np.nan, "", min(counts)
    p_value = _student(effect, variances[0], counts[0], variances[1], counts[1])
    return effect, threshold, p_value, "Student t", min(counts)


def _student(effect: float, var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """One-sided p-value of Student's two-sample t-test for a difference of means ``effect``,
    with the variance pooled over both sides (n_a + n_b − 2 degrees of freedom)."""
    df = n_a + n_b - 2
    pooled = ((n_a - 1) * var_a + (n_b - 1) * var_b) / df
    # with every seed equal on each side, the permutation test's smallest p-value stands in
    exact = 1 / math.comb(n_a + n_b, n_a)
    return _p_value(effect, float(np.sqrt(pooled * (1 / n_a + 1 / n_b))), df, exact)


def _p_value(effect: float, se: float, df: float, exact: float) -> float:
    """One-sided p-value of ``effect`` with standard error ``se`` in its own direction, or
    ``exact`` when the seeds show no scatter at all. A metric of few values (mode coverage: a
    multiple of 1/12 on spiral) often gives three seeds the same value by chance: that is no
    proof of a change."""
    if se == 0 or not np.isfinite(se):
        return 1.0 if effect == 0 else exact
    return float(stats.t.sf(abs(effect) / se, df))


def _failures(entry: dict) -> dict:
    """More failed or diverged seeds than before is a regression whatever the metrics say."""
    old, new = entry["failed_old"], entry["failed_new"]
    direction = "worse" if new > old else "better" if new < old else "same"
    return {
        **{column: entry[column] for column in ENTRY if column in entry},
        "metric": "failed",
        "old": old,
        "new": new,
        "change": new - old,
        "direction": direction,
        "effect": np.nan,
        "threshold": np.nan,
        "test": "",
        "seeds": int(entry["seeds_new"]),
        "p_value": np.nan,
        "lost": bool(new > old),
    }


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values of ``p_values``; NaN stays NaN.

    q_(i) = min over j ≥ i of m·p_(j)/j for the sorted p-values: calling every test with
    q < α significant keeps the expected share of false discoveries below α, and the chance of
    any false alarm below α when nothing changed.

    >>> [round(float(q), 3) for q in benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan]))]
    [0.03, 0.04, 0.04, nan]
    """
    adjusted = np.full_like(p_values, np.nan)
    tested = np.flatnonzero(np.isfinite(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    m = len(order)
    scaled = p_values[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return adjusted


PROVENANCE = ["target_fingerprint", "preset"]
SETTINGS = ["num_samples", "train_points"]  # of a run, beside its entry, that change its scores


def configured(config: object, key: str) -> object:
    """``key`` of a runs.csv ``config`` cell (JSON); "" where it is absent or unreadable."""
    try:
        value = json.loads(config).get(key, "") if isinstance(config, str) else ""
    except (ValueError, AttributeError):
        return ""
    return value


def training_sets(table: pd.DataFrame) -> set[str]:
    """The training set sizes of a table's runs: ``"fresh draws"`` where a run had none."""
    if "train_points" not in table.columns:
        return {"fresh draws"}
    values = pd.to_numeric(table["train_points"], errors="coerce")
    return {"fresh draws" if pd.isna(v) else f"{int(v):,} points" for v in values}


def _warnings(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    warnings = []
    for column, what in [
        ("target_fingerprint", "target definitions"),
        ("preset", "presets"),
        ("num_samples", "samples per run"),
        ("train_points", "training set sizes"),
    ]:
        if column == "train_points" and (column in old.columns or column in new.columns):
            a, b = training_sets(old), training_sets(new)  # absent: fresh draws throughout
        elif column in old.columns and column in new.columns:
            a = set(old[column].dropna().astype(str))
            b = set(new[column].dropna().astype(str))
        else:
            continue
        if a != b:
            warnings.append(
                f"the {what} differ ({', '.join(sorted(a))} vs "
                f"{', '.join(sorted(b))}): the numbers may not be comparable"
            )
    return warnings

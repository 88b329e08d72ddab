"""How often ``genbench compare`` raises a false alarm, and how often it catches a regression,
measured on real per-seed results.

    python benchmarks/compare_power.py RUNS.csv [RUNS.csv ...] [--seeds 3] [--trials 200]

Each RUNS.csv is a runs table with at least 2 × ``--seeds`` seeds per entry (for example the
quick preset rerun with ``--seeds 9``). A trial draws 2 × ``--seeds`` of its seeds at random
and splits them into an "old" and a "new" run of the same code, as two CI runs with different
seeds would be:

- **false alarm**: ``compare(old, new)`` reports any significant regression (the gate fails);
- **one entry**: one random entry's kl_forward in the new run is multiplied by a factor on
  every seed; detected when that (entry, kl_forward) is a significant regression;
- **one model**: every entry of one random model has its kl_forward doubled; detected when the
  gate fails.

Detection is also given apart for *steady* entries (the standard deviation of log kl_forward
over all their seeds below 0.2) and *noisy* ones (most GANs, and most entries on gaussian).

Every comparison is made three ways: from the two runs tables (Student's t over seeds), from
their two leaderboards (the same test from means and standard deviations), and paired by seed
with the new run's seeds renamed to the old ones (a code change that reshuffled every random
stream: the worst case for the paired test); and each also with the Benjamini–Hochberg q-values
taken only over the tests past the practical threshold ("past threshold"), an alternative that
these figures show to raise too many false alarms.
Entries without a successful run on every seed are left out. ``--parametric`` draws the seeds
from each entry's fitted distribution instead, for seed counts the real runs do not have.
Prints a Markdown table; ``--json FILE`` writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import genbench.metrics
import genbench.models  # noqa: F401
from genbench.compare import ALPHA, benjamini_hochberg, compare
from genbench.leaderboard import leaderboard
from genbench.models import is_reference
from genbench.registry import metrics
from genbench.results import ENTRY, read_runs

FACTORS = [1.2, 1.5, 2.0, 5.0]
METRIC = "kl_forward"
STEADY = 0.2  # an entry whose log kl_forward scatters less than this over seeds is steady
WAYS = ["runs", "leaderboards", "paired"]


def trial_tables(
    runs: pd.DataFrame, seeds: list[int], n: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    chosen = rng.choice(seeds, size=2 * n, replace=False)
    old = runs[runs["seed"].isin(chosen[:n])].copy()
    new = runs[runs["seed"].isin(chosen[n:])].copy()
    return old.reset_index(drop=True), new.reset_index(drop=True)


def parametric_tables(
    runs: pd.DataFrame, n: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two runs of ``n`` seeds drawn from each entry's fitted seed-to-seed distribution:
    log-normal for log-scale metrics, normal (clipped to the bounds) for the others."""
    names = [m for m in metrics.available() if m in runs.columns]
    first = runs.groupby(ENTRY, sort=False).first().reset_index()
    tables = []
    for offset in (0, n):
        table = first.loc[first.index.repeat(n)].reset_index(drop=True)
        table["seed"] = np.tile(np.arange(n), len(first)) + offset
        for name in names:
            metric = metrics.get(name)
            values = runs[name].to_numpy(float)
            log = metric.scale == "log"
            values = np.log(values) if log else values
            grouped = pd.Series(values).groupby([runs[c].to_numpy() for c in ENTRY], sort=False)
            stats = grouped.agg(["mean", "std"]).reindex(pd.MultiIndex.from_frame(first[ENTRY]))
            centre = np.repeat(stats["mean"].to_numpy(), n)
            scatter = np.repeat(stats["std"].fillna(0).to_numpy(), n)
            drawn = centre + scatter * rng.standard_normal(len(centre))
            table[name] = np.exp(drawn) if log else np.clip(drawn, *metric.bounds)
        tables.append(table)
    return tables[0], tables[1]


def judge(old: pd.DataFrame, new: pd.DataFrame, way: str) -> dict[str, pd.DataFrame]:
    """The significant regressions of comparing ``old`` with ``new`` one way: as ``compare``
    decides (Benjamini–Hochberg over every test), and with the q-values taken only over the
    tests whose change passes the practical threshold ("past threshold"), the alternative that
    the figures reject."""
    if way == "leaderboards":
        old, new = leaderboard(old), leaderboard(new)
    elif way == "paired":
        new = new.copy()
        pairs = zip(sorted(new["seed"].unique()), sorted(old["seed"].unique()), strict=True)
        new["seed"] = new["seed"].map(dict(pairs))
    result = compare(old, new)
    changes = result.changes.copy()
    practical = (changes["effect"].abs() >= changes["threshold"]).to_numpy()
    worse = (changes["direction"] == "worse").to_numpy()
    p_values = changes["p_value"].to_numpy(dtype=float)
    q_past = benjamini_hochberg(np.where(practical & worse, p_values, np.nan))
    changes["significant"] = changes["lost"] | (q_past < ALPHA)
    past = changes[changes["significant"] & (changes["direction"] == "worse")]
    return {way: result.regressions, f"{way}, past threshold": past}


def plant(new: pd.DataFrame, mask: pd.Series, factor: float) -> pd.DataFrame:
    planted = new.copy()
    planted.loc[mask, METRIC] = planted.loc[mask, METRIC] * factor
    return planted


def simulate(runs: pd.DataFrame, n: int, trials: int, seed: int, parametric: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    runs = runs[runs["status"] == "ok"]
    counts = runs.groupby(ENTRY)["seed"].nunique()
    seeds = sorted(runs["seed"].unique())
    keep = counts[counts == len(seeds)].index
    runs = runs.set_index(ENTRY).loc[keep].reset_index()
    if len(seeds) < 2 * n and not parametric:
        raise SystemExit(f"{len(seeds)} seeds per entry: too few for {n} against {n}")
    entries = runs[~runs["model"].map(is_reference)][ENTRY].drop_duplicates()
    models = sorted(entries["model"].unique())
    # each entry's seed-to-seed scatter of log kl_forward over every seed: steady or noisy
    scatter = runs.groupby(ENTRY)[METRIC].agg(lambda v: np.log(v).std(ddof=1))
    steady = {key for key, value in scatter.items() if value < STEADY}
    steady_models = sum(tuple(entry) in steady for entry in entries.itertuples(index=False))
    tally: dict[str, dict[str, int]] = {}
    tries: dict[str, int] = {}  # trials per row where not every trial counts

    def count(found: dict[str, pd.DataFrame], what: str, hit) -> None:
        for way, regressions in found.items():
            tally.setdefault(way, {}).setdefault(what, 0)
            tally[way][what] += int(hit(regressions))

    for _ in range(trials):
        if parametric:
            old, new = parametric_tables(runs, n, rng)
        else:
            old, new = trial_tables(runs, seeds, n, rng)
        entry = entries.iloc[rng.integers(len(entries))]
        in_entry = (new[ENTRY] == entry.to_numpy()).all(axis=1)
        model = models[rng.integers(len(models))]

        def caught(found: pd.DataFrame, entry=entry) -> bool:
            hits = (found[ENTRY] == entry.to_numpy()).all(axis=1) & (found["metric"] == METRIC)
            return bool(hits.any())

        for way in WAYS:
            count(judge(old, new, way), "false alarm", lambda found: not found.empty)
            kind = "steady" if tuple(entry) in steady else "noisy"
            for factor in FACTORS:
                found = judge(old, plant(new, in_entry, factor), way)
                count(found, f"one entry {factor:g}x", caught)
                count(found, f"one {kind} entry {factor:g}x", caught)
                tries[f"one {kind} entry {factor:g}x"] = tries.get(
                    f"one {kind} entry {factor:g}x", 0
                ) + (way == WAYS[0])
            found = judge(old, plant(new, new["model"] == model, 2.0), way)
            count(found, "one model 2x", lambda found: not found.empty)
    return {
        "seeds_per_side": n,
        "trials": trials,
        "entries": len(entries),
        "seeds_available": len(seeds),
        "rates": {w: {k: v / tries.get(k, trials) for k, v in t.items()} for w, t in tally.items()},
        "steady_entries": f"{steady_models} of {len(entries)} (scatter of log {METRIC} < {STEADY})",
        "models": models,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="runs.csv files with enough seeds per entry")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per side (default 3)")
    parser.add_argument("--trials", type=int, default=200, help="trials (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    parser.add_argument(
        "--parametric",
        action="store_true",
        help="draw each trial's seeds from every entry's fitted seed-to-seed distribution "
        "(log-normal) instead of resampling the real seeds: any number of seeds per side",
    )
    parser.add_argument("--ways", nargs="+", choices=WAYS, default=WAYS, help="comparisons")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    tables = [read_runs(path) for path in args.runs]
    runs = pd.concat(tables, ignore_index=True)
    start = time.perf_counter()
    WAYS[:] = args.ways
    figures = simulate(runs, args.seeds, args.trials, args.seed, args.parametric)
    figures["parametric"] = args.parametric
    figures["sources"] = args.runs
    figures["seconds"] = round(time.perf_counter() - start, 1)
    rates = figures["rates"]
    ways = list(rates)
    print(
        f"{figures['trials']} trials, {args.seeds} seeds per side, {figures['entries']} entries, "
        + (
            "log-normal draws"
            if args.parametric
            else f"drawn from {figures['seeds_available']} seeds"
        )
        + f", {figures['seconds']} s\n"
    )
    print("| | " + " | ".join(ways) + " |")
    print("|---|" + "---:|" * len(ways))
    order = ["false alarm", "one entry", "one steady", "one noisy", "one model"]
    rows = sorted(rates[ways[0]], key=lambda row: [row.startswith(o) for o in order].index(True))
    for row in rows:
        print(f"| {row} | " + " | ".join(f"{rates[w][row]:.0%}" for w in ways) + " |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

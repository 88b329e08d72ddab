"""The default run end to end: how long `python -m genbench run` takes on this machine, its peak
memory, and whether its verdicts are those of the full protocol.

One round of the whole `quick` grid (figures and report included) in a subprocess, as a user
runs it. Recorded in ``extra_info``:

- ``wall_seconds`` and ``peak_rss_gib`` (the largest process);
- ``spiral_best_negative_space``: the lowest mean ``negative_space`` of any model on the spiral
  (the default run should resolve the arm: at most 0.25);
- against the runs in ``results/article`` (ranked as its leaderboard ranks them, so that a
  folder still being run in parts counts too): ``article_runs``, how many there are,
  ``separated_pairs``, the pairs of entries (each at its best latent size) whose 95 % intervals
  of ``kl_forward`` the article run separates, ``agreeing_pairs``, how many of those the quick
  run orders the same way, and ``disagreements``, the others by name.

Run it on an otherwise idle machine: ``pytest benchmarks/test_quick_preset.py --benchmark-only``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

from genbench.leaderboard import leaderboard
from genbench.models import is_reference
from genbench.results import ResultStore, read_leaderboard, records_to_frame

ARTICLE = Path(__file__).resolve().parent.parent / "results" / "article"


def best_rows(board: pd.DataFrame) -> pd.DataFrame:
    """Each (target, model) at its latent size (and step count) of lowest mean ``kl_forward``,
    the reference model left out."""
    ranked = board[~board["model"].map(is_reference)].sort_values("kl_forward_mean")
    return ranked.groupby(["target", "model"], as_index=False).first()


def verdicts(quick: pd.DataFrame, article: pd.DataFrame) -> tuple[int, int, list[str]]:
    """(pairs the article separates, of those ordered alike by quick, the others' names).

    Two entries are separated when their 95 % intervals of ``kl_forward`` are disjoint; quick
    agrees when its means put the two in the same order.
    """
    quick_best = best_rows(quick).set_index(["target", "model"])
    article_best = best_rows(article).set_index(["target", "model"])
    separated, agreeing, disagreements = 0, 0, []
    for target in sorted(set(article_best.index.get_level_values("target"))):
        models = [
            model for model in article_best.loc[target].index if (target, model) in quick_best.index
        ]
        for a, b in combinations(sorted(models), 2):
            first, second = article_best.loc[(target, a)], article_best.loc[(target, b)]
            if first["kl_forward_ci_high"] < second["kl_forward_ci_low"]:
                better, worse = a, b
            elif second["kl_forward_ci_high"] < first["kl_forward_ci_low"]:
                better, worse = b, a
            else:
                continue
            separated += 1
            quick_better = quick_best.loc[(target, better), "kl_forward_mean"]
            if quick_better < quick_best.loc[(target, worse), "kl_forward_mean"]:
                agreeing += 1
            else:
                disagreements.append(f"{target}: {better} < {worse}")
    return separated, agreeing, disagreements


@pytest.mark.skipif(
    os.environ.get("GENBENCH_BENCH_SHORT") == "1", reason="the whole quick grid is minutes"
)
def test_quick_preset_end_to_end(benchmark, tmp_path):
    out = tmp_path / "quick"
    timings: dict[str, float] = {}

    def run() -> None:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "genbench", "run", "--out", str(out), "--quiet"], check=True
        )
        timings["wall"] = time.perf_counter() - start

    benchmark.pedantic(run, rounds=1, iterations=1)
    board = read_leaderboard(out / "leaderboard.csv")
    spiral = board[(board["target"] == "spiral") & ~board["model"].map(is_reference)]
    info = {
        "wall_seconds": round(timings["wall"], 1),
        # ru_maxrss of waited-for children is in KiB on Linux: the largest process's peak
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2),
        "spiral_best_negative_space": round(float(spiral["negative_space_mean"].min()), 3),
    }
    article = ResultStore(ARTICLE).records() if ARTICLE.is_dir() else {}
    if article:
        separated, agreeing, disagreements = verdicts(
            board, leaderboard(records_to_frame(article.values()))
        )
        info |= {
            "article_runs": len(article),
            "separated_pairs": separated,
            "agreeing_pairs": agreeing,
            "disagreements": disagreements,
        }
    benchmark.extra_info.update(info)
    print(info)

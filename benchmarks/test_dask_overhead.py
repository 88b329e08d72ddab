"""What running the grid on Dask costs: the quick grid on the built-in process pool, then on a
Dask ``LocalCluster`` of as many single-threaded worker processes.

Each way is one ``python -m genbench run --no-report --quiet`` in a subprocess, as a user runs
it, process start-up, cluster start-up and shutdown included. Recorded in ``extra_info``:

- ``pool_seconds`` and ``dask_seconds``: the two wall times;
- ``dask_over_pool``: their ratio, the overhead of ``--executor dask`` on one machine;
- ``identical_metrics``: whether the two ``runs.csv`` hold the same metric values (they must:
  the same runs, seeded end to end).

Run it on an otherwise idle machine: ``pytest benchmarks/test_dask_overhead.py --benchmark-only``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import pytest

WORKERS = 2  # processes on both sides, so that the executors alone differ
RESULT_COLUMNS = ["target", "model", "latent_dim", "seed", "steps", "status"]
METRIC_COLUMNS = ["kl_forward", "kl_reverse", "w1", "w2", "mode_coverage", "negative_space"]


@pytest.mark.skipif(
    os.environ.get("GENBENCH_BENCH_SHORT") == "1", reason="the whole quick grid twice is minutes"
)
def test_dask_overhead_on_the_quick_grid(benchmark, tmp_path):
    pytest.importorskip("distributed")
    ways = {"pool": [], "dask": ["--executor", "dask"]}
    timings: dict[str, float] = {}

    def run() -> None:
        for name, flags in ways.items():
            command = [sys.executable, "-m", "genbench", "run", "--no-report", "--quiet"]
            command += ["--out", str(tmp_path / name), "--workers", str(WORKERS), *flags]
            start = time.perf_counter()
            subprocess.run(command, check=True)
            timings[name] = time.perf_counter() - start

    benchmark.pedantic(run, rounds=1, iterations=1)
    pool, dask = (
        pd.read_csv(tmp_path / name / "runs.csv").sort_values(RESULT_COLUMNS[:5]) for name in ways
    )
    assert (dask["status"] == "ok").all()
    info = {
        "workers": WORKERS,
        "pool_seconds": round(timings["pool"], 1),
        "dask_seconds": round(timings["dask"], 1),
        "dask_over_pool": round(timings["dask"] / timings["pool"], 3),
        "identical_metrics": bool(
            pool[RESULT_COLUMNS + METRIC_COLUMNS]
            .reset_index(drop=True)
            .equals(dask[RESULT_COLUMNS + METRIC_COLUMNS].reset_index(drop=True))
        ),
    }
    benchmark.extra_info.update(info)
    print(info)

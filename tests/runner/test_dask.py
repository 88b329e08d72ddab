"""The dask executor on a real LocalCluster of two worker processes: the same numbers as the
process pool, a killed worker costs only time, a task that keeps killing workers ends as failed
runs, an interrupted sweep resumes, and a bad scheduler address is one line and exit 2."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from genbench.api import run
from genbench.cli import main
from genbench.config import load_preset
from genbench.plan import make_plan
from genbench.registry import models
from genbench.runner import Started, Trained
from tests.conftest import ScaledTarget

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

from genbench import dask_executor  # noqa: E402  (after the skip)


@dataclass(eq=False)
class Hazard(ScaledTarget):
    """The conftest's instant model, with the hazards of a cluster: a slow fit, or a fit that
    kills the worker process running it. It pickles by reference, so the workers import it."""

    sleep: float = 0.0  # seconds each fit sleeps
    pid_folder: str = ""  # where each fit leaves an empty file named by its process id
    kill: bool = False  # each fit SIGKILLs its own process, as the OOM killer would

    name = "hazard"

    def fit(self, target, steps, seed, progress=None):
        if self.pid_folder:
            (Path(self.pid_folder) / str(os.getpid())).touch()
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(self.sleep)
        return super().fit(target, steps, seed, progress)


# Real models, a few steps: two stacks of two runs each, and the oracle's.
REAL = """
name = "real"
targets = ["spiral"]
seeds = 2
num_samples = 200
[models.gan]
latent_dims = [1]
steps = 20
params = { generator_width = 16, discriminator_width = 16, batch_size = 64 }
[models.realnvp]
steps = 20
params = { num_couplings = 2, width = 8 }
"""
METRIC_COLUMNS = ["kl_forward", "kl_reverse", "w1", "w2", "mode_coverage", "negative_space"]


@pytest.fixture(scope="module")
def hazards(scaled_target_model):
    models.register("hazard")(Hazard)
    yield Hazard
    models._entries.pop("hazard", None)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes whose scheduler gives up on a task after it killed
    two of them (the default, four, would make the test slow)."""
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        dask_executor.dask_client(workers=2, quiet=True) as client,
    ):
        yield client


@pytest.fixture
def cluster(client):
    """The module's client, its two workers up (a test before may have killed some)."""
    client.wait_for_workers(2, timeout=60)
    return client


def write_preset(folder: Path, text: str) -> Path:
    path = folder / "grid.toml"
    path.write_text(text)
    return path


def runs_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "runs.csv").set_index(["model", "latent_dim", "seed"]).sort_index()


def test_the_cluster_gives_the_process_pools_numbers(tmp_path, cluster):
    preset = str(write_preset(tmp_path, REAL))
    options = dict(quiet=True, report=False)
    run(preset, out=tmp_path / "pool", workers=2, **options)
    run(preset, out=tmp_path / "dask", executor=cluster.get_executor(), **options)
    pool, on_dask = runs_of(tmp_path / "pool"), runs_of(tmp_path / "dask")
    assert len(on_dask) == 6 and (on_dask["status"] == "ok").all()
    pd.testing.assert_frame_equal(on_dask[METRIC_COLUMNS], pool[METRIC_COLUMNS])


def test_the_local_clusters_workers_keep_glibcs_adaptive_malloc(cluster):
    # Dask's MALLOC_TRIM_THRESHOLD_=65536 halves the speed of a stack of small networks
    found = cluster.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(found.values()) == {None}


def test_progress_events_reach_the_client_from_workers_on_this_machine(cluster):
    plan = make_plan(
        load_preset("quick"), models=["vae"], targets=["spiral"], latent_dims=[2], seeds=2,
        steps=[20], num_samples=200, animate=False,
    )  # fmt: skip
    groups = plan.pending(set())
    events: list = []
    found = dict(
        dask_executor.execute_on_dask(groups, "cpu", cluster, lambda *event: events.append(event))
    )
    assert sorted(found) == list(range(len(groups)))
    vae = next(i for i, group in enumerate(groups) if group.family.name == "vae")
    assert (vae, Started()) in events and (vae, Trained(20)) in events


def test_on_cuda_a_cluster_without_gpu_workers_is_refused_not_waited_for(cluster):
    groups = make_plan(load_preset("quick"), targets=["spiral"], seeds=1).pending(set())
    with pytest.raises(dask_executor.ClusterError, match='--resources "GPU=1"'):
        next(dask_executor.execute_on_dask(groups, "cuda", cluster))


def test_a_killed_worker_costs_only_time(tmp_path, cluster, hazards):
    pids = tmp_path / "pids"
    pids.mkdir()
    preset = write_preset(
        tmp_path,
        f"""
name = "kill"
targets = ["spiral"]
seeds = 2
num_samples = 200
[models.slow]
family = "hazard"
steps = 4
params = {{ sleep = 2.0, pid_folder = "{pids}" }}
[models.good]
family = "scaled_target"
steps = 4
""",
    )
    failure: list[BaseException] = []

    def sweep() -> None:
        try:
            run(str(preset), out=tmp_path / "out", executor=cluster, quiet=True, report=False)
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=sweep)
    thread.start()
    deadline = time.monotonic() + 60
    while not list(pids.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = int(next(pids.iterdir()).name)  # a worker in the middle of the slow group
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive() and not failure
    runs = runs_of(tmp_path / "out")
    assert len(runs) == 6 and (runs["status"] == "ok").all()
    assert {int(path.name) for path in pids.iterdir()} - {victim}  # retried by another worker


def test_a_task_that_keeps_killing_workers_ends_as_failed_runs(tmp_path, cluster, hazards):
    preset = write_preset(
        tmp_path,
        """
name = "doomed"
targets = ["spiral"]
seeds = 1
num_samples = 200
[models.doomed]
family = "hazard"
steps = 4
params = { kill = true }
[models.broken]
family = "scaled_target"
steps = 4
params = { fail = true }
[models.good]
family = "scaled_target"
steps = 4
""",
    )
    run(str(preset), out=tmp_path / "out", executor=cluster, quiet=True, report=False)
    runs = runs_of(tmp_path / "out")
    doomed, broken = runs.loc[("doomed", 2, 0)], runs.loc[("broken", 2, 0)]
    assert doomed["status"] == "failed" and "the task killed 2 workers" in doomed["error"]
    assert broken["status"] == "failed" and "adapter broke" in broken["error"]  # as locally
    assert runs.loc[("good", 2, 0), "status"] == "ok"
    assert runs.loc[("oracle", 0, 0), "status"] == "ok"


def test_an_interrupted_sweep_keeps_its_records_and_resumes(
    tmp_path, cluster, hazards, monkeypatch, capsys
):
    preset = write_preset(
        tmp_path,
        """
name = "interrupted"
targets = ["spiral"]
seeds = 2
num_samples = 200
[models.good]
family = "scaled_target"
latent_dims = [1, 2]
steps = 4
[models.slow]
family = "hazard"
steps = 4
params = { sleep = 1.0 }
""",
    )
    out = tmp_path / "out"
    argv = ["run", "--preset", str(preset), "--out", str(out), "--quiet", "--no-report"]
    argv += ["--scheduler", cluster.scheduler.address]
    from genbench.progress import GridProgress

    finish = GridProgress.finish

    def interrupt(self, index, records):
        finish(self, index, records)
        raise KeyboardInterrupt  # Ctrl-C, right after the first group's records are stored

    with monkeypatch.context() as patch:
        patch.setattr(GridProgress, "finish", interrupt)
        assert main(argv) == 130
    assert capsys.readouterr().err.strip() == "genbench: interrupted"
    first = {path.name: path.read_bytes() for path in (out / "records").iterdir()}
    assert 0 < len(first) < 8
    deadline = time.monotonic() + 10  # the cluster forgets the cancelled tasks
    while cluster.run_on_scheduler(count_tasks) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cluster.run_on_scheduler(count_tasks) == 0

    assert main([*argv, "--resume"]) == 0
    runs = runs_of(out)
    assert len(runs) == 8 and (runs["status"] == "ok").all()
    assert {name: (out / "records" / name).read_bytes() for name in first} == first  # kept


def count_tasks(dask_scheduler) -> int:
    return len(dask_scheduler.tasks)


def test_a_bad_scheduler_address_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 2)
    out = tmp_path / "out"
    assert main(["run", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in err[0]
    assert not out.exists()


def test_without_dask_the_dask_executor_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    out = tmp_path / "out"
    assert main(["run", "--executor", "dask", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "genbench[dask]"' in err[0]
    assert not out.exists()

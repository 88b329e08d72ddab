"""The grid: for every run, fit → sample → score, stored as it finishes.

A run whose adapter raises is recorded with status ``failed`` and the error; one whose samples
are not finite is ``diverged``. Either way its metrics stay empty and the sweep goes on.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

import genbench
from genbench.config import ORACLE, ConfigError, RunSpec
from genbench.datasets import get_target
from genbench.metrics import score
from genbench.registry import metrics, models
from genbench.results import ResultStore
from genbench.seeding import derive_seed

OK, DIVERGED, FAILED = "ok", "diverged", "failed"

# Called with (run index, spec, steps done in this run) as training advances.
RunProgress = Callable[[int, RunSpec, int], None]


def resolve_device(requested: str) -> str:
    """``auto`` → ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without one is an error."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    if requested != "cpu" and not requested.startswith("cuda"):
        raise ConfigError(f"unknown device {requested!r} (use auto, cpu or cuda)")
    return requested


def provenance(device: str) -> dict[str, str]:
    """Where a result came from: versions, commit and device."""
    return {
        "genbench_version": genbench.__version__,
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
    }


def git_commit() -> str:
    """The commit of the genbench source tree, with '+dirty' for uncommitted changes, or ''."""
    source = Path(genbench.__file__).resolve().parent.parent
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if not top or Path(top).resolve() != source:
            return ""  # an installed copy inside some other repository: not genbench's commit
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "genbench"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("+dirty" if dirty else "")


def check_runnable(spec: RunSpec) -> None:
    """Raise ConfigError if the spec's adapter cannot even be built with its hyperparameters."""
    if spec.model == ORACLE:
        return
    model_class = models.get(spec.model)
    try:
        build(model_class, spec, "cpu")
    except (TypeError, ValueError) as error:  # unknown names; values a model's checks refuse
        raise ConfigError(f"model {spec.entry!r}: bad hyperparameters ({error})") from None


def build(model_class: type, spec: RunSpec, device: str) -> Any:
    kwargs = dict(spec.params)
    if model_class.fixed_latent_dim is None:
        kwargs["latent_dim"] = spec.latent_dim
    return model_class(device=device, **kwargs)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def execute(
    spec: RunSpec,
    device: str,
    on_step: Callable[[int], None] | None = None,
    model_class: type | None = None,
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run one cell of the grid; returns its record and its samples (None if it failed).

    ``model_class`` defaults to the registry's entry for ``spec.model``; worker processes are
    handed the class itself, so that models registered only in the parent process work too.
    """
    target = get_target(spec.dataset)
    record: dict[str, Any] = {
        "dataset": spec.dataset,
        "model": spec.entry,
        "latent_dim": spec.latent_dim,
        "seed": spec.seed,
        "status": OK,
        "error": "",
        **dict.fromkeys(metrics.available(), float("nan")),
        "train_seconds": 0.0,
        "sample_seconds": float("nan"),
        "samples_per_second": float("nan"),
        "steps": spec.steps,
        "num_samples": spec.num_samples,
        "target_fingerprint": target.fingerprint,
        "config": spec.config(),
    }
    samples = None
    try:
        if spec.model == ORACLE:
            start = time.perf_counter()
            samples = target.sample(spec.num_samples, derive_seed(spec.seed, "oracle"))
            record["sample_seconds"] = time.perf_counter() - start
        else:
            model = build(model_class or models.get(spec.model), spec, device)
            start = time.perf_counter()
            model.fit(
                target,
                spec.steps,
                spec.seed,
                progress=(lambda step, loss: on_step(step)) if on_step else None,
            )
            synchronize(device)
            record["train_seconds"] = time.perf_counter() - start
            start = time.perf_counter()
            samples = model.sample(spec.num_samples, derive_seed(spec.seed, "sample"))
            synchronize(device)
            record["sample_seconds"] = time.perf_counter() - start
        record["samples_per_second"] = spec.num_samples / max(record["sample_seconds"], 1e-9)
        samples = np.asarray(samples)
        finite = np.isfinite(samples).all(axis=1)
        if not finite.all():
            record["status"] = DIVERGED
            record["error"] = f"{(~finite).sum()} of {len(samples)} samples are NaN or infinite"
        else:
            record.update(score(target, samples, seed=spec.seed))
    except KeyboardInterrupt:
        raise
    except Exception as error:  # a broken adapter must not end the sweep
        record["status"] = FAILED
        record["error"] = f"{type(error).__name__}: {error}".replace("\n", " ")[:500]
        samples = None
    return record, samples


def check_resumable(
    runs: Sequence[RunSpec], store: ResultStore, done: dict[str, dict[str, Any]] | None = None
) -> None:
    """Refuse to mix into ``store`` a run whose stored configuration differs from the plan's."""
    done = store.records() if done is None else done
    for spec in runs:
        if spec.key in done and done[spec.key].get("config") != spec.config():
            raise ConfigError(
                f"{store.folder} holds run {spec.key} with a different configuration; "
                "use another --out, or the same settings to resume"
            )


def run_grid(
    runs: Sequence[RunSpec],
    store: ResultStore,
    device: str,
    *,
    preset: str,
    workers: int = 1,
    show_progress: bool = True,
) -> list[dict[str, Any]]:
    """Execute every run that has no record in ``store`` yet; returns the new records."""
    from genbench.executors import execute_all

    done = store.records()
    check_resumable(runs, store, done)
    pending = [spec for spec in runs if spec.key not in done]
    environment = provenance(device)
    new_records = []
    with SweepProgress(pending, enabled=show_progress) as progress:
        for index, record, samples in execute_all(pending, device, workers, progress):
            record.update(
                environment,
                preset=preset,
                finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
            store.save_run(pending[index].key, record, samples)
            new_records.append(record)
            progress.finish(index, record)
    return new_records


class SweepProgress:
    """A rich progress display: the whole sweep, weighted by training steps for an honest ETA,
    and one bar per run in progress with its step count. Disabled, it does nothing."""

    def __init__(self, runs: Sequence[RunSpec], enabled: bool = True) -> None:
        self.runs = runs
        self.enabled = enabled and len(runs) > 0
        # A run's work is its steps plus a fixed share for sampling and scoring.
        self.weights = [spec.steps + 200 for spec in runs]
        self.active: dict[int, Any] = {}  # run index → its bar
        self.steps_done: dict[int, int] = {}
        self.finished = 0
        self.failures = 0

    def __enter__(self) -> SweepProgress:
        if not self.enabled:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.display = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        )
        self.display.__enter__()
        self.sweep = self.display.add_task(self._sweep_label(), total=sum(self.weights))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.display.__exit__(*exc)

    def _sweep_label(self) -> str:
        failed = f", {self.failures} failed" if self.failures else ""
        return f"sweep: {self.finished}/{len(self.runs)} runs done{failed}"

    def start(self, index: int, spec: RunSpec) -> None:
        if not self.enabled:
            return
        what = "oracle" if spec.model == ORACLE else f"{spec.entry} z={spec.latent_dim}"
        label = f"  {what} · {spec.dataset} · seed {spec.seed}"
        self.active[index] = self.display.add_task(label, total=max(spec.steps, 1))
        self.steps_done[index] = 0

    def step(self, index: int, steps_done: int) -> None:
        if not self.enabled or index not in self.active:
            return
        advance = steps_done - self.steps_done[index]
        self.steps_done[index] = steps_done
        self.display.update(self.active[index], completed=steps_done)
        self.display.update(self.sweep, advance=advance)

    def finish(self, index: int, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.finished += 1
        self.failures += record["status"] != OK
        remaining = self.weights[index] - self.steps_done.pop(index, 0)
        if index in self.active:
            self.display.remove_task(self.active.pop(index))
        self.display.update(self.sweep, advance=remaining, description=self._sweep_label())

"""The grid: for every run, fit → sample → score, stored as it finishes.

A run whose adapter raises is recorded with status ``failed`` and the error; one whose samples
are not finite is ``diverged``. Either way its metrics stay empty and the sweep goes on.
"""

from __future__ import annotations

import copy as _copy
import dataclasses
import json
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
from genbench.metrics import score
from genbench.registry import metrics, models
from genbench.results import ResultStore
from genbench.seeding import derive_seed
from genbench.targets import get_target

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

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != source:
            return ""  # an installed copy inside some other repository: not genbench's commit
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--", "genbench")
    except (OSError, subprocess.SubprocessError):  # no git, or not a repository
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


def group_key(spec: RunSpec, model_class: type | None = None) -> str | None:
    """Runs with the same key train together (``fit_many``); None for a run trained alone.

    A group holds every run of one adapter, latent size, step count and training
    hyperparameters in the grid (all its targets and seeds, and entries that differ only in
    how they sample, such as DDPM's ancestral and DDIM samplers), whatever is pending or how
    many workers there are: what a run computes never depends on which other runs are in
    flight. Families that cannot stack train alone.
    """
    if spec.model == ORACLE:
        return None
    model_class = model_class or models.get(spec.model)
    if not model_class.fits_many:
        return None
    return json.dumps(
        [spec.model, spec.latent_dim, spec.steps, training_params(model_class, spec)],
        sort_keys=True,
    )


def training_params(model_class: type, spec: RunSpec) -> dict[str, Any]:
    """The spec's hyperparameters that change training (all but ``sampling_params``)."""
    return {k: v for k, v in spec.params.items() if k not in model_class.sampling_params}


def group_runs(runs: Sequence[RunSpec]) -> list[list[int]]:
    """Indices of ``runs`` in training groups (see ``group_key``), in the grid's order."""
    groups: dict[str, list[int]] = {}
    alone = []
    for index, spec in enumerate(runs):
        key = group_key(spec)
        if key is None:
            alone.append([index])
        else:
            groups.setdefault(key, []).append(index)
    return sorted([*groups.values(), *alone], key=lambda group: group[0])


def new_record(spec: RunSpec, target_fingerprint: str) -> dict[str, Any]:
    return {
        "target": spec.target,
        "model": spec.entry,
        "latent_dim": spec.latent_dim,
        "seed": spec.seed,
        "status": OK,
        "error": "",
        **dict.fromkeys(metrics.available(), float("nan")),
        "train_seconds": 0.0,
        "trained_together": 1,
        "sample_seconds": float("nan"),
        "samples_per_second": float("nan"),
        "steps": spec.steps,
        "num_samples": spec.num_samples,
        "target_fingerprint": target_fingerprint,
        "config": spec.config(),
    }


def execute(
    spec: RunSpec,
    device: str,
    on_step: Callable[[int], None] | None = None,
    model_class: type | None = None,
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run one cell of the grid; returns its record and its samples (None if it failed)."""
    return execute_group([spec], device, on_step, model_class)[0]


def execute_group(
    specs: Sequence[RunSpec],
    device: str,
    on_step: Callable[[int], None] | None = None,
    model_class: type | None = None,
) -> list[tuple[dict[str, Any], np.ndarray | None]]:
    """Run cells of the grid that share an adapter and training hyperparameters (a group of
    ``group_runs``): train them together with ``fit_many``, then sample and score each; one
    (record, samples) per spec.

    Runs of one target and seed that differ only in sampling hyperparameters share one
    trained model. ``model_class`` defaults to the registry's entry for the specs' model;
    worker processes are handed the class itself, so that models registered only in the
    parent process work too. If training the group raises, each model is retried alone, so
    one broken run cannot take the others down with it.
    """
    targets = [get_target(spec.target) for spec in specs]
    records = [
        new_record(spec, target.fingerprint) for spec, target in zip(specs, targets, strict=True)
    ]
    if specs[0].model == ORACLE:
        return [
            _sample_oracle(spec, target, record)
            for spec, target, record in zip(specs, targets, records, strict=True)
        ]
    model_class = model_class or models.get(specs[0].model)
    if len({group_key(spec, model_class) for spec in specs}) > 1:
        raise ValueError("execute_group needs runs of one group (see group_runs)")
    sharing: dict[tuple[str, int], list[int]] = {}  # (target, seed) → the specs it serves
    for index, spec in enumerate(specs):
        sharing.setdefault((spec.target, spec.seed), []).append(index)
    first = [members[0] for members in sharing.values()]  # one spec per model to train
    template = specs[0]  # every model of the group is built with its hyperparameters
    trained, seconds, errors, together = _train(
        model_class,
        template,
        [specs[i] for i in first],
        [targets[i] for i in first],
        device,
        on_step,
    )
    results: list[tuple[dict[str, Any], np.ndarray | None]] = [({}, None)] * len(specs)
    for members, model, train_seconds, error in zip(
        sharing.values(), trained, seconds, errors, strict=True
    ):
        for index in members:
            record = records[index]
            record.update(train_seconds=train_seconds, trained_together=together)
            if error:
                record.update(status=FAILED, error=error)
                results[index] = (record, None)
            else:
                results[index] = _sample_and_score(
                    specs[index],
                    targets[index],
                    record,
                    with_sampling(model, model_class, specs[index]),
                    device,
                )
    return results


def _train(
    model_class: type,
    template: RunSpec,
    specs: Sequence[RunSpec],
    targets: Sequence[Any],
    device: str,
    on_step: Callable[[int], None] | None,
) -> tuple[list[Any], list[float], list[str], int]:
    """Train one model per spec (with ``template``'s hyperparameters): all at once when there
    are several, else or after a failure one by one. Returns the models, each one's share of
    the training time in seconds, each one's error ('' when it trained) and how many trained
    at once."""
    progress = (lambda step, loss: on_step(step)) if on_step else None
    seeds = [spec.seed for spec in specs]
    if len(specs) > 1:
        try:
            start = time.perf_counter()
            trained = model_class.fit_many(
                [build(model_class, template, device) for _ in specs],
                targets,
                template.steps,
                seeds,
                progress,
            )
            synchronize(device)
            share = (time.perf_counter() - start) / len(specs)
            return trained, [share] * len(specs), [""] * len(specs), len(specs)
        except KeyboardInterrupt:
            raise
        except Exception:  # retried one by one below, where the failing run is pinned down
            pass
    trained, seconds, errors = [], [], []
    for target, seed in zip(targets, seeds, strict=True):
        start = time.perf_counter()
        try:
            model = build(model_class, template, device).fit(target, template.steps, seed, progress)
            synchronize(device)
            trained.append(model)
            errors.append("")
        except KeyboardInterrupt:
            raise
        except Exception as error:  # a broken adapter must not end the sweep
            trained.append(None)
            errors.append(describe(error))
        seconds.append(time.perf_counter() - start)
    return trained, seconds, errors, 1


def with_sampling(model: Any, model_class: type, spec: RunSpec) -> Any:
    """``model`` (trained) set to sample as ``spec`` says: its ``sampling_params`` from the spec,
    or their defaults; a shallow copy sharing the trained networks when anything changes."""
    fields = {f.name: f for f in dataclasses.fields(model_class)}
    wanted = {
        name: spec.params.get(name, fields[name].default) for name in model_class.sampling_params
    }
    if all(getattr(model, name) == value for name, value in wanted.items()):
        return model
    copy = _copy.copy(model)
    for name, value in wanted.items():
        setattr(copy, name, value)
    return copy


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".replace("\n", " ")[:500]


def _sample_oracle(
    spec: RunSpec, target: Any, record: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray | None]:
    start = time.perf_counter()
    samples = target.sample(spec.num_samples, derive_seed(spec.seed, "oracle"))
    record["sample_seconds"] = time.perf_counter() - start
    return _score(spec, target, record, samples)


def _sample_and_score(
    spec: RunSpec, target: Any, record: dict[str, Any], model: Any, device: str
) -> tuple[dict[str, Any], np.ndarray | None]:
    try:
        start = time.perf_counter()
        samples = model.sample(spec.num_samples, derive_seed(spec.seed, "sample"))
        synchronize(device)
        record["sample_seconds"] = time.perf_counter() - start
    except KeyboardInterrupt:
        raise
    except Exception as error:
        record.update(status=FAILED, error=describe(error))
        return record, None
    return _score(spec, target, record, samples)


def _score(
    spec: RunSpec, target: Any, record: dict[str, Any], samples: Any
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Score ``samples`` into ``record``: ``diverged`` if any is not finite."""
    try:
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
    except Exception as error:  # a wrong shape or dtype from an adapter
        record.update(status=FAILED, error=describe(error))
        return record, None
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


def progress_display(enabled: bool = True) -> Any:
    """genbench's rich progress display: description, bar, done/total, elapsed time, ETA.
    Disabled, it shows nothing."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        disable=not enabled,
    )


class SweepProgress:
    """A rich progress display: the whole sweep, weighted by training steps for an honest ETA,
    and one bar per run in progress with its step count. Disabled, it does nothing."""

    def __init__(self, runs: Sequence[RunSpec], enabled: bool = True) -> None:
        self.runs = runs
        self.enabled = enabled and len(runs) > 0
        # A run's work is its steps plus a fixed share for sampling and scoring.
        self.weights = [spec.steps + 200 for spec in runs]
        self.active: dict[int, Any] = {}  # run index → its bar (one per training group)
        self.groups: dict[Any, int] = {}  # bar → runs of its group not finished yet
        self.steps_done: dict[int, int] = {}
        self.finished = 0
        self.failures = 0

    def __enter__(self) -> SweepProgress:
        if not self.enabled:
            return self
        self.display = progress_display()
        self.display.__enter__()
        self.sweep = self.display.add_task(self._sweep_label(), total=sum(self.weights))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.display.__exit__(*exc)

    def _sweep_label(self) -> str:
        failed = f", {self.failures} failed" if self.failures else ""
        return f"sweep: {self.finished}/{len(self.runs)} runs done{failed}"

    def start(self, group: Sequence[int]) -> None:
        """Show a bar for runs that train together; its steps are each run's steps."""
        if not self.enabled:
            return
        specs = [self.runs[index] for index in group]
        first = specs[0]
        entries = ", ".join(dict.fromkeys(spec.entry for spec in specs))
        what = "oracle" if first.model == ORACLE else f"{entries} z={first.latent_dim}"
        targets = sorted({spec.target for spec in specs})
        seeds = sorted({spec.seed for spec in specs})
        where = targets[0] if len(targets) == 1 else f"{len(targets)} targets"
        which = f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds"
        models_trained = len({(spec.target, spec.seed) for spec in specs})
        together = f" ({models_trained} models at once)" if models_trained > 1 else ""
        bar = self.display.add_task(
            f"  {what} · {where} · {which}{together}", total=first.steps or 1
        )
        for index in group:
            self.active[index] = bar
            self.steps_done[index] = 0
        self.groups[bar] = len(group)

    def step(self, group: Sequence[int], steps_done: int) -> None:
        if not self.enabled or group[0] not in self.active:
            return
        advance = 0
        for index in group:
            advance += steps_done - self.steps_done[index]
            self.steps_done[index] = steps_done
        self.display.update(self.active[group[0]], completed=steps_done)
        self.display.update(self.sweep, advance=advance)

    def finish(self, index: int, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.finished += 1
        self.failures += record["status"] != OK
        remaining = self.weights[index] - self.steps_done.pop(index, 0)
        if index in self.active:
            bar = self.active.pop(index)
            self.groups[bar] -= 1
            if not self.groups[bar]:  # the group's last run
                self.display.remove_task(bar)
        self.display.update(self.sweep, advance=remaining, description=self._sweep_label())

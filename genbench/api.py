"""The Python API: ``genbench.run`` and ``genbench.score``, what the command line calls.

    >>> import genbench
    >>> results = genbench.run("quick", targets=["spiral"], seeds=1)  # doctest: +SKIP
    >>> results.leaderboard[["model", "latent_dim", "kl_forward_mean"]]  # doctest: +SKIP
    >>> genbench.score("spiral", my_samples)  # doctest: +SKIP
    {'kl_forward': 1.93, 'kl_reverse': ..., 'w1': ..., 'w2': ..., ...}

``run`` is the whole pipeline: plan → execute (train, sample, score) → store each record as it
finishes → leaderboard → figures and report.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genbench.animation import write_animation
from genbench.config import (
    ConfigError,
    ModelPlan,
    Preset,
    load_preset,
    preset_from_data,
    preset_to_dict,
)
from genbench.dask_executor import dashboard_link, execute_on_dask, is_dask
from genbench.environment import provenance, resolve_device
from genbench.executors import (
    InProcessExecutor,
    default_workers,
    execute,
    process_pool,
    stop_now,
)
from genbench.leaderboard import leaderboard
from genbench.metrics import score as score_samples
from genbench.models.oracle import Oracle
from genbench.plan import Plan, ResolvedParams, make_plan
from genbench.progress import GridProgress
from genbench.registry import models as families
from genbench.results import ResultStore, RunRecord, Status, records_to_frame
from genbench.runner import sample_seed
from genbench.targets import get_target


@dataclass(frozen=True)
class RunResults:
    """What ``run`` leaves: its folder, its runs (one row per run) and its leaderboard."""

    folder: Path
    runs: pd.DataFrame  # this grid's rows of runs.csv
    leaderboard: pd.DataFrame  # leaderboard.csv


def score(
    target: str,
    samples: np.ndarray,
    *,
    seed: int = 0,
    metrics: Sequence[str] = (),
    training: np.ndarray | None = None,
) -> dict[str, float]:
    """The default metrics of ``samples`` (n, 2) against the target named ``target``, and the
    opt-in ``metrics`` named; ``training`` (m, 2), the points the samples' model learned from,
    is what ``memorisation`` compares them with (ValueError if it is asked for without)."""
    return score_samples(get_target(target), samples, seed=seed, extra=metrics, training=training)


def floor(
    target: str,
    num_samples: int,
    *,
    seed: int = 0,
    metrics: Sequence[str] = (),
    training: np.ndarray | None = None,
) -> dict[str, float]:
    """The oracle's scores: the target's own sampler drawn and scored exactly as a run of seed
    ``seed`` with ``num_samples`` samples is (the oracle row of such a run), against the
    ``training`` set where a metric reads one. No model beats it in expectation; what it shows
    above the ideal values is the estimators' bias at this n."""
    oracle = Oracle().fit(get_target(target), 0, seed)
    samples = oracle.sample(num_samples, sample_seed(seed))
    return score(target, samples, seed=seed, metrics=metrics, training=training)


def run(
    preset: str = "quick",
    *,
    models: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    latent_dims: Sequence[int] | None = None,
    seeds: int | None = None,
    steps: int | Sequence[int] | None = None,
    num_samples: int | None = None,
    metrics: Sequence[str] | None = None,
    train_points: int | None = None,
    priors: Sequence[str] | None = None,
    betas: Sequence[float] | None = None,
    device: str = "auto",
    workers: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    report: bool = True,
) -> RunResults:
    """Run a preset's grid into ``out`` (default ``results/<preset>``).

    ``preset`` is a built-in name (``quick``, ``article``) or a preset TOML file; the keyword
    arguments narrow or override it as the command line's flags do (several ``steps`` train
    every entry for each count: a convergence study; ``train_points`` trains every run on that
    many fixed target draws of its seed instead of fresh ones; ``priors`` sweeps the latent
    prior of the entries whose family has one, each as ``<entry>_<prior>``, and ``betas`` the
    VAE's KL weight, each as ``<entry>_beta<β>``). Runs execute on
    ``executor`` (any ``concurrent.futures.Executor``; by default a pool of ``workers``
    single-threaded processes, one per core, or this process alone with ``workers=1``). A Dask
    ``distributed.Client`` (or its ``get_executor()``) runs each group as one task on its
    cluster (see ``genbench.dask_executor``); ``workers`` does not apply to it.
    ``resume`` keeps the runs already in ``out`` and does the missing ones and those that
    failed; otherwise earlier results there are moved aside. ``report`` draws the figures,
    records the default training animations and writes ``report.html``.
    """
    plan = make_plan(
        load_preset(preset),
        animate=report,
        models=models,
        targets=targets,
        latent_dims=latent_dims,
        seeds=seeds,
        steps=[steps] if isinstance(steps, int) else steps,
        num_samples=num_samples,
        metrics=metrics,
        train_points=train_points,
        priors=priors,
        betas=betas,
    )
    device = resolve_device(device)
    store = ResultStore(out if out is not None else Path("results") / plan.preset.name)
    if store.has_results() and not resume:
        aside = store.folder.with_name(
            f"{store.folder.name}.previous-{datetime.now():%Y%m%d-%H%M%S}"
        )
        store.folder.rename(aside)
        _say(quiet, f"{store.folder} held earlier results: moved them to {aside}")
    # runs that failed (the adapter raised: a bug since fixed, memory, a lost device) are done
    # again; a divergence is the model's own outcome, as deterministic as a score, and is kept
    stored = store.records() if resume else {}
    done = {key: record for key, record in stored.items() if record.status is not Status.FAILED}
    unchecked = check_resumable(plan, store, done)  # before anything in the folder changes
    if unchecked:
        _say(
            quiet,
            f"{unchecked} run(s) kept in {store.folder} were stored without their models' "
            "hyperparameters (by an older genbench): kept as they are, unchecked",
        )
    store.folder.mkdir(parents=True, exist_ok=True)
    store.remove_leftovers()
    environment = provenance(device)
    grid = folder_grid(plan, store) if resume else plan
    store.write_config({"preset": preset_to_dict(grid.preset), "environment": environment})

    groups = plan.pending(done)
    todo = sum(len(group.runs) for group in groups)
    retried = len({spec.key for spec in plan.runs} & (set(stored) - set(done)))
    if resume and retried:
        _say(quiet, f"{retried} run(s) that failed before are done again")
    _say(
        quiet,
        f"genbench run: preset {plan.preset.name}, {len(plan.runs)} runs ({todo} to do) on "
        f"{device}, results in {store.folder}",
    )
    if grid is not plan:
        _say(
            quiet,
            f"they are part of the grid of {store.folder} ({len(grid.runs)} runs), whose "
            "config.json and leaderboard are kept whole",
        )
    workers = workers or default_workers(device)
    on_dask = is_dask(executor)
    local = None  # the executor this call makes, and stops, when none is given
    if executor is None:
        training = sum(group.steps > 0 for group in groups)  # the oracle's runs are instant
        local = InProcessExecutor() if workers <= 1 or training <= 1 else process_pool(workers)
    elif on_dask and (link := dashboard_link(executor)):
        _say(quiet, f"Dask dashboard: {link}")
    run_groups = execute_on_dask if on_dask else execute
    try:
        with GridProgress(groups, enabled=not quiet) as progress:
            for index, records in run_groups(groups, device, executor or local, progress.on_event):
                for record in records:
                    stamp(record, environment, plan.preset.name)
                    store.save(record)
                    if report and record.frames and record.ok:
                        write_animation(store.folder, record)  # while the workers train on
                progress.finish(index, records)
    except BaseException:
        # Interrupted or failed: every finished record is stored, so stop the workers now
        # instead of waiting for the groups in flight (minutes on the article preset).
        if isinstance(local, ProcessPoolExecutor):
            stop_now(local)
        raise
    finally:
        if local is not None:
            local.shutdown(wait=True, cancel_futures=True)
    return finish(grid, store, quiet=quiet, report=report)


def folder_grid(plan: Plan, store: ResultStore) -> Plan:
    """The grid a resumed folder keeps its leaderboard and ``config.json`` for, so that
    resuming in parts never narrows them: the grid the folder was made for when ``plan`` is
    part of it (``--models gan`` resuming the article preset's folder); that grid grown by
    ``plan``'s new entries, targets and seeds when both come from the same preset (the
    article's GAN stacks run after its other entries); otherwise ``plan``."""
    previous = _stored_preset(store.read_config())
    if previous is None or previous == plan.preset:
        return plan
    for preset in (previous, merged_preset(previous, plan.preset)):
        if preset is None:
            continue
        try:
            grid = make_plan(preset, animate=False)
        except ConfigError:  # a grid this version cannot build (a plug-in since removed)
            continue
        configs = {spec.key: spec.config() for spec in grid.runs}
        if all(configs.get(s.key) == s.config() for s in plan.runs):
            # the same runs: the preset as given (its order, its description) is the grid
            return plan if len(configs) == len(plan.runs) else grid
    return plan


def merged_preset(folder: Preset, part: Preset) -> Preset | None:
    """The grid covering both ``folder``'s and ``part``'s: their targets, entries (each with
    the latent sizes, step counts, priors and βs of both) and seeds together, in ``folder``'s
    order with ``part``'s additions after. None when they are not parts of one preset: another
    name, sample count, metrics or training set, or an entry of the same name with another
    family, hyperparameters or step budget for a target."""
    same = ("name", "num_samples", "metrics", "train_points")
    if any(getattr(folder, field) != getattr(part, field) for field in same):
        return None
    models = dict(folder.models)
    for name, plan in part.models.items():
        merged = merged_plan(models[name], plan) if name in models else plan
        if merged is None:
            return None
        models[name] = merged
    return dataclasses.replace(
        folder,
        targets=_union(folder.targets, part.targets),
        models=models,
        seeds=max(folder.seeds, part.seeds),
    )


def merged_plan(a: ModelPlan, b: ModelPlan) -> ModelPlan | None:
    """One entry's plan covering two parts of it (``--latent-dims 1 2``, then ``3``), or None
    when they differ in more than what a part selects."""
    if a.family != b.family or dict(a.params) != dict(b.params):
        return None
    budgets = dict(a.target_steps)
    for target, steps in b.target_steps.items():
        if budgets.setdefault(target, steps) != steps:
            return None
    return dataclasses.replace(
        a,
        latent_dims=_union(a.latent_dims, b.latent_dims),
        steps=tuple(sorted(set(a.steps) | set(b.steps))),
        priors=_union(a.priors, b.priors),
        betas=_union(a.betas, b.betas),
        target_steps=budgets,
    )


def _union(first: Sequence[Any], second: Sequence[Any]) -> tuple[Any, ...]:
    """The items of both, each once, in the order they first appear."""
    return tuple(dict.fromkeys([*first, *second]))


def _stored_preset(config: dict[str, Any] | None) -> Preset | None:
    """The preset ``config.json`` holds, or None (no file, or not a preset)."""
    try:
        return preset_from_data(config["preset"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def stamp(record: RunRecord, environment: dict[str, str], preset: str) -> None:
    """Fill in the provenance of a finished run that the worker did not (it names its own
    device)."""
    for name, value in environment.items():
        if not getattr(record, name):
            setattr(record, name, value)
    record.preset = preset
    record.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_resumable(plan: Plan, store: ResultStore, done: dict[str, RunRecord]) -> int:
    """Refuse to mix into ``store`` a run whose stored configuration differs from the plan's,
    or that was trained with other hyperparameters than this version of its adapter would use
    (a changed default). Returns how many of the runs kept could not be checked for the
    latter: their records were written before genbench stored the hyperparameters."""
    stale: list[str] = []  # the runs trained with other hyperparameters
    changes: set[str] = set()  # what changed, "name old → new"
    resolved = ResolvedParams()  # one model built per distinct configuration
    unchecked = 0
    for spec in plan.runs:
        if spec.key not in done:
            continue
        record = done[spec.key]
        if record.config != spec.config():
            raise ConfigError(
                f"{store.folder} holds run {spec.key} with a different configuration; "
                "use another --out, or the same settings to resume"
            )
        if not record.hyperparameters:
            unchecked += not families.get(spec.family).reference  # the oracle has nothing
            continue
        now, then = resolved(families.get(spec.family), spec), record.hyperparameters
        changed = {
            f"{name} {then.get(name)!r} → {now.get(name)!r}"
            for name in set(now) | set(then)
            if json.dumps(then.get(name)) != json.dumps(now.get(name))  # NaN equals NaN
        }
        if changed:
            stale.append(spec.key)
            changes |= changed
    if stale:
        named = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
        raise ConfigError(
            f"{store.folder} holds {len(stale)} run(s) trained with other hyperparameters than "
            f"this version of genbench uses ({'; '.join(sorted(changes))}): {named}; delete "
            "their records and samples to train them again, or use another --out"
        )
    return unchecked


def finish(plan: Plan, store: ResultStore, *, quiet: bool, report: bool) -> RunResults:
    """runs.csv (every run in the folder), this grid's leaderboard, the table and report."""
    store.write_runs_csv()
    keys = {spec.key for spec in plan.runs}
    records = store.records()
    frame = records_to_frame(records[key] for key in keys if key in records)  # this grid only
    board = leaderboard(frame)
    store.write_leaderboard(board)
    if not quiet:
        from genbench.tables import print_leaderboard

        print_leaderboard(board)
        failed = int((frame["status"] != Status.OK.value).sum())
        if failed:
            print(
                f"{failed} run(s) failed or diverged: see the status and error columns "
                f"of {store.runs_csv}"
            )
        print(f"wrote {store.runs_csv} and {store.leaderboard_csv}")
    if report:
        from genbench.report import build_report

        build_report(store.folder)
        _say(quiet, f"wrote {store.folder / 'report.html'} and {store.folder / 'report.md'}")
    return RunResults(store.folder, frame, board)


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message)

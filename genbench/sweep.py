"""``genbench run``: resolve the grid, prepare the results folder, run, aggregate, print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from genbench.config import ConfigError, Preset, expand, load_preset, narrow, preset_to_dict
from genbench.executors import default_workers
from genbench.leaderboard import leaderboard
from genbench.metrics import MIN_SAMPLES
from genbench.metrics.score import MAX_SAMPLES
from genbench.registry import models, targets
from genbench.results import ResultStore, atomic_write_text, records_to_frame
from genbench.runner import check_resumable, check_runnable, provenance, resolve_device, run_grid

MAX_RUNS = 100_000  # a grid larger than this is a typo, not a plan


def sweep(
    preset: str = "quick",
    *,
    models: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    latent_dims: Sequence[int] | None = None,
    seeds: int | None = None,
    steps: int | None = None,
    num_samples: int | None = None,
    device: str = "auto",
    workers: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    report: bool = True,
) -> pd.DataFrame:
    """Run a preset's grid into ``out`` and return its leaderboard."""
    plan = narrow(
        load_preset(preset),
        models=models,
        targets=targets,
        latent_dims=latent_dims,
        seeds=seeds,
        steps=steps,
        num_samples=num_samples,
    )
    validate(plan)
    device = resolve_device(device)
    runs = expand(plan, {plan_.model: _fixed_latent(plan_.model) for plan_ in plan.models.values()})
    if len(runs) > MAX_RUNS:
        raise ConfigError(f"the grid has {len(runs):,} runs; at most {MAX_RUNS:,} are allowed")
    for spec in {(spec.entry, spec.latent_dim): spec for spec in runs}.values():
        check_runnable(spec)

    store = ResultStore(out if out is not None else Path("results") / plan.name)
    if store.has_results() and not resume:
        aside = store.folder.with_name(
            f"{store.folder.name}.previous-{datetime.now():%Y%m%d-%H%M%S}"
        )
        store.folder.rename(aside)
        _say(quiet, f"{store.folder} held earlier results: moved them to {aside}")
    if resume:
        check_resumable(runs, store)  # before anything in the folder changes
    store.folder.mkdir(parents=True, exist_ok=True)
    store.remove_leftovers()
    store.write_config({"preset": preset_to_dict(plan), "environment": provenance(device)})

    done = store.records().keys()
    todo = sum(spec.key not in done for spec in runs)
    _say(
        quiet,
        f"genbench run: preset {plan.name}, {len(runs)} runs ({todo} to do) on {device}, "
        f"results in {store.folder}",
    )
    workers = workers or default_workers(device)
    run_grid(runs, store, device, preset=plan.name, workers=workers, show_progress=not quiet)

    store.write_runs_csv()  # every run in the folder, earlier sweeps' included
    keys = {spec.key for spec in runs}
    records = store.records()
    frame = records_to_frame(records[key] for key in keys if key in records)  # this grid only
    board = leaderboard(frame)
    atomic_write_text(store.folder / "leaderboard.csv", board.to_csv(index=False))
    if not quiet:
        from genbench.tables import print_leaderboard

        print_leaderboard(board)
        failed = int((frame["status"] != "ok").sum())
        if failed:
            print(
                f"{failed} run(s) failed or diverged: see the status and error columns "
                f"of {store.runs_csv}"
            )
        print(f"wrote {store.runs_csv} and {store.folder / 'leaderboard.csv'}")
    if report:
        from genbench.animation import default_animation_runs, record_animations
        from genbench.report import build_report

        chosen = [key for key in default_animation_runs(store.folder) if key in keys]
        if chosen:
            _say(quiet, f"recording {len(chosen)} training animations (GAN, latent 1 and 3)")
            record_animations(
                store.folder, chosen, device=device, show_progress=not quiet, workers=workers
            )
        build_report(store.folder)
        _say(quiet, f"wrote {store.folder / 'report.html'} and {store.folder / 'report.md'}")
    return board


def _fixed_latent(model: str) -> int | None:
    return models.get(model).fixed_latent_dim


def validate(plan: Preset) -> None:
    """Refuse, before any work, a grid that cannot run."""
    for target in plan.targets:
        targets.get(target)  # UnknownNameError names the known targets
    for entry, model_plan in plan.models.items():
        models.get(model_plan.model)
        if model_plan.steps < 1:
            raise ConfigError(f"model {entry!r}: steps must be positive")
        if not model_plan.latent_dims or min(model_plan.latent_dims) < 1:
            raise ConfigError(f"model {entry!r}: latent dims must be positive integers")
    if not plan.targets or not plan.models:
        raise ConfigError("the grid is empty: no target or no model selected")
    if plan.seeds < 1:
        raise ConfigError("seeds must be at least 1")
    if plan.num_samples < MIN_SAMPLES:
        raise ConfigError(f"num_samples must be at least {MIN_SAMPLES}, got {plan.num_samples}")
    if plan.num_samples > MAX_SAMPLES:
        raise ConfigError(
            f"num_samples can be at most {MAX_SAMPLES:,} (the scoring limit), "
            f"got {plan.num_samples:,}"
        )


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message)

"""What the report says in words, for both the HTML and the Markdown page: what was run and
who won, where the results came from, and the machine that built the report."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from genbench.animation import caption
from genbench.environment import genbench_version, processor_model
from genbench.models import is_reference
from genbench.report.folder import Results
from genbench.report.table import by_rank
from genbench.results import run_key

PROVENANCE = ["preset", "genbench_version", "git_commit", "torch_version", "device"]


def preset_name(results: Results) -> str:
    """The preset's name, or the folder's name when config.json does not say."""
    return str(results.preset.get("name", "")) or results.folder.name


def summary(results: Results) -> list[str]:
    """A few sentences that say what was run and who won, per target."""
    runs = results.runs
    failed = int((runs["status"] != "ok").sum())
    seeds = runs["seed"].nunique()
    preset = preset_name(results)
    lines = [
        f"Preset {preset}: {len(results.targets)} target(s) × {len(results.models)} model(s) "
        f"over latent dims {', '.join(map(str, results.latent_dims)) or '—'}, {seeds} seed(s): "
        f"{len(runs)} runs, {failed} failed or diverged."
    ]
    for target in results.targets:
        part = results.board[(results.board["target"] == target)]
        floor = part["model"].map(is_reference)
        models = by_rank(part[~floor], results.rank_metric)
        oracle = part[floor]
        if models.empty:
            continue
        best = models.iloc[0]
        name = results.rank_metric
        floor = (
            f"; the oracle's floor is {oracle[f'{name}_mean'].iloc[0]:.3g}"
            if not oracle.empty
            else ""
        )
        lines.append(
            f"{target}: best is {best['model']} with latent dim {int(best['latent_dim'])}, "
            f"{name} = {best[f'{name}_mean']:.3g}{floor}."
        )
    return lines


def provenance(results: Results) -> list[tuple[str, str]]:
    """Where the results came from, as (name, value) rows: runs.csv and config.json."""
    runs = results.runs
    rows = []
    for column in PROVENANCE:
        if column in runs.columns:
            values = [str(v) for v in runs[column].dropna().unique()]
            rows.append((column, ", ".join(values) or "—"))
    if "finished_at" in runs.columns and runs["finished_at"].notna().any():
        times = sorted(str(t) for t in runs["finished_at"].dropna())
        rows.append(("runs finished", f"{times[0]} … {times[-1]}"))
    if "train_seconds" in runs.columns:
        total = pd.to_numeric(runs["train_seconds"], errors="coerce").sum()
        rows.append(("total training time", f"{total:,.1f} s"))
    environment = results.config.get("environment", {})
    if isinstance(environment, dict):
        for key, value in environment.items():
            rows.append((f"config.json {key}", str(value)))
    return rows


def machine() -> list[tuple[str, str]]:
    """The machine building the report (the runs' device is in the provenance)."""
    return [
        ("platform", platform.platform()),
        ("processor", processor_model() or platform.machine() or "?"),
        ("CPU cores", str(os.cpu_count() or "?")),
        ("Python", sys.version.split()[0]),
        ("genbench", genbench_version()),
        ("report built", datetime.now(timezone.utc).isoformat(timespec="seconds")),
    ]


def config_json(results: Results) -> str:
    """The resolved preset of config.json (the whole file if it has none), as indented JSON."""
    return json.dumps(results.preset or results.config, indent=2)


def animation_caption(results: Results, path: Path) -> str:
    """The run an animation shows, from its row in runs.csv (``gan, latent dim 1, on spiral
    (seed 0)``), or the file's name when the folder has no such run."""
    for row in results.runs.itertuples():
        if run_key(row.target, row.model, row.latent_dim, row.steps, row.seed) == path.stem:
            return caption(row.model, row.latent_dim, row.steps, row.target, row.seed)
    return path.stem

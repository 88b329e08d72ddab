"""Reading and checking a results folder: the only place the report reads ``config.json``,
``runs.csv``, ``leaderboard.csv`` and the samples, and looks for animations.

``load_results`` checks the folder completely before the report draws or writes anything, so a
folder that is not a results folder is one ``ReportError`` (a one-line message for the user)
and leaves no file behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genbench.animation import ANIMATION_FOLDER, caption
from genbench.leaderboard import RANK_METRIC
from genbench.metrics.base import display_order
from genbench.models import is_reference
from genbench.registry import UnknownNameError, targets
from genbench.results import (
    INTERPOLATION_FOLDER,
    ResultsError,
    ResultStore,
    leaderboard_metrics,
    read_leaderboard,
    read_runs,
    run_key,
)
from genbench.targets import get_target

ID = ["target", "model", "latent_dim"]  # an entry of the figures: its steps are the longest


class ReportError(ResultsError):
    """A folder that is not a genbench results folder; the message is one line for the user."""


@dataclass(frozen=True)
class Results:
    """A results folder, read and checked."""

    folder: Path
    config: dict[str, Any]
    runs: pd.DataFrame  # runs.csv
    board: pd.DataFrame  # leaderboard.csv, each entry at its longest training (see load_results)
    full_board: pd.DataFrame  # leaderboard.csv, every row (several step counts per entry)
    targets: list[str]  # in the preset's order
    models: list[str]  # leaderboard entries but the reference models, in the preset's order
    latent_dims: list[int]  # every latent size of those entries, ascending
    metric_names: list[str]  # metrics with columns in the leaderboard, in registry order
    rank_metric: str  # the metric the leaderboard's ``rank`` column ranks by

    @property
    def preset(self) -> dict[str, Any]:
        """The resolved preset of config.json, or {} if it has none."""
        preset = self.config.get("preset")
        return preset if isinstance(preset, dict) else {}

    @property
    def entries(self) -> list[tuple[str, int]]:
        """(model, latent_dim) of every leaderboard entry, the reference models (the oracle)
        first."""
        present = set(zip(self.board["model"], self.board["latent_dim"].astype(int), strict=True))
        ordered = sorted(entry for entry in present if is_reference(entry[0]))
        for model in self.models:
            ordered += [(model, k) for k in self.latent_dims if (model, k) in present]
        return ordered


def load_results(folder: str | Path) -> Results:
    """Read and check a results folder; ReportError (one line) if it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder} is not a folder")
    for name in ["config.json", "runs.csv", "leaderboard.csv"]:
        if not (folder / name).is_file():
            raise ReportError(f"{folder} is not a genbench results folder: it has no {name}")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"{folder / 'config.json'} is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ReportError(f"{folder / 'config.json'} does not hold a JSON object")
    try:
        runs = read_runs(folder / "runs.csv")
        board = read_leaderboard(folder / "leaderboard.csv")
    except ResultsError as error:
        raise ReportError(str(error)) from None
    metric_names = display_order(leaderboard_metrics(board))
    full_board = board
    if "steps" in board.columns:  # a convergence study: the figures show the longest training
        board = board[board["steps"] == board.groupby(ID)["steps"].transform("max")]
        board = board.reset_index(drop=True)

    preset = config.get("preset", {}) if isinstance(config.get("preset"), dict) else {}
    targets = ordered(board["target"], preset.get("targets", []))
    for target in targets:
        try:
            get_target(target)
        except UnknownNameError as error:
            raise ReportError(f"{folder / 'leaderboard.csv'}: {error}") from None
    preferred = list(preset.get("models", {}))
    models = [m for m in ordered(board["model"], preferred) if not is_reference(m)]
    swept = board[~board["model"].map(is_reference)]
    return Results(
        folder=folder,
        config=config,
        runs=runs,
        board=board,
        full_board=full_board,
        targets=targets,
        models=models,
        latent_dims=sorted({int(k) for k in swept["latent_dim"]}),
        metric_names=metric_names,
        rank_metric=rank_metric(board, metric_names),
    )


def rank_metric(board: pd.DataFrame, metric_names: list[str]) -> str:
    """The metric whose ``<metric>_rank`` column is the leaderboard's ``rank``: the folder, not
    this version of genbench, says how its entries were ranked."""
    candidates = [RANK_METRIC, *metric_names] if RANK_METRIC in metric_names else metric_names
    for name in candidates:
        column = f"{name}_rank"
        if (
            column in board.columns
            and (board[column].astype(str) == board["rank"].astype(str)).all()
        ):
            return name
    return candidates[0]


def ordered(values: pd.Series, preferred: list[str]) -> list[str]:
    """The distinct ``values``, those named in ``preferred`` first and in its order."""
    present = list(dict.fromkeys(str(v) for v in values))
    return [v for v in preferred if v in present] + [v for v in present if v not in preferred]


def shown_samples(
    results: Results, target: str
) -> tuple[dict[tuple[str, int], np.ndarray | None], set[int]]:
    """Per entry of ``target``, the samples of its lowest seed that finished and whose file
    reads as an (n, dim) finite array (None when there is none), and the seeds shown."""
    dim = get_target(target).dim if target in targets.available() else 2
    runs = results.runs[(results.runs["target"] == target) & (results.runs["status"] == "ok")]
    final = results.board.set_index(ID)["steps"] if "steps" in results.board else None
    found: dict[tuple[str, int], np.ndarray | None] = {}
    seeds = set()
    for model, latent_dim in results.entries:
        found[model, latent_dim] = None
        rows = runs[(runs["model"] == model) & (runs["latent_dim"] == latent_dim)]
        if final is not None:  # the longest training's runs
            rows = rows[rows["steps"] == final.get((target, model, latent_dim), -1)]
        for row in rows.sort_values("seed").itertuples():
            try:
                points = np.load(samples_path(results.folder, row), allow_pickle=False)
            except (OSError, ValueError):
                continue  # a missing or unreadable file: try the next seed
            if points.ndim == 2 and points.shape[1] == dim and np.isfinite(points).all():
                found[model, latent_dim] = points
                seeds.add(int(row.seed))
                break
    return found, seeds


def samples_path(folder: Path, row: Any) -> Path:
    """The samples file of a runs.csv row: named by its run key, or (in folders written before
    step counts could be swept) by the key without the steps."""
    store = ResultStore(folder)
    path = store.samples_path(run_key(row.target, row.model, row.latent_dim, row.steps, row.seed))
    if not path.exists():
        path = store.samples_path(f"{row.target}__{row.model}__z{row.latent_dim}__s{row.seed}")
    return path


def interpolations(results: Results, target: str) -> dict[str, np.ndarray]:
    """The latent paths recorded for ``target``'s runs (``interpolations/KEY.npy``), by the
    caption of their run (``dcgan, latent dim 2, 1,500 steps, on digits (seed 0)``)."""
    found = {}
    for row in results.runs[results.runs["target"] == target].itertuples():
        key = run_key(row.target, row.model, row.latent_dim, row.steps, row.seed)
        path = results.folder / INTERPOLATION_FOLDER / f"{key}.npy"
        try:
            paths = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            continue  # none recorded for this run
        if paths.ndim == 3 and np.isfinite(paths).all():
            found[caption(row.model, row.latent_dim, row.steps, row.target, row.seed)] = paths
    return found


def animations(folder: Path) -> list[Path]:
    """The training animations in ``folder/animations``, if any."""
    return sorted((folder / ANIMATION_FOLDER).glob("*.gif"))

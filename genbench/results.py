"""Run records and the results folder: the only code that reads and writes them.

Layout of ``DIR``::

    config.json           the resolved preset and the environment, written when a run starts
    records/KEY.json      one finished run (a :class:`RunRecord`): config, status, metrics,
                          timings, provenance
    samples/KEY.npy       the samples that run drew (written before its record)
    runs.csv              every record as one row, regenerated after each run
    leaderboard.csv       aggregated over seeds (see ``genbench.leaderboard``)

Every file is written to a temporary name and renamed into place (``os.replace`` is atomic on
POSIX), so a run killed at any instant leaves whole files only: a run either has its record or
it does not, and ``runs.csv`` never holds a torn or duplicated row. ``--resume`` reads the
records back. :func:`read_runs` and :func:`read_leaderboard` are the one schema check of the
tables, shared by ``compare`` and ``report``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genbench.files import TEMPORARY_SUFFIX, atomic_write, atomic_write_text
from genbench.metrics.base import default_metrics
from genbench.registry import metrics, targets


class Status(str, Enum):
    """How a run ended. Only ``OK`` runs have metrics."""

    OK = "ok"  # trained, sampled and scored
    DIVERGED = "diverged"  # some samples are NaN or infinite
    FAILED = "failed"  # the adapter raised; ``error`` says what

    def __str__(self) -> str:
        return self.value


def run_key(target: str, model: str, latent_dim: int, steps: int, seed: int) -> str:
    """The file-name-safe identity of a run, unique within a grid."""
    return f"{target}__{model}__z{latent_dim}__t{steps}__s{seed}"


class ResultsError(ValueError):
    """A file that is not what genbench wrote; the message is one line for the user."""


# The identity of a run, and of a leaderboard entry (a run without its seed). A grid may train
# an entry for several step counts (a convergence study).
RUN_ID = ["target", "model", "latent_dim", "steps", "seed"]
INTERPOLATION_FOLDER = "interpolations"  # an image run's latent paths, KEY.npy
ENTRY = ["target", "model", "latent_dim", "steps"]


@dataclass
class RunRecord:
    """One run of the grid, as stored in ``records/KEY.json`` and as one row of ``runs.csv``.

    ``samples``, ``frames`` and ``interpolation`` travel with the record from the runner to the
    client, which stores them in files of their own; they are not part of the record's JSON.
    """

    target: str
    model: str  # the leaderboard entry
    latent_dim: int
    seed: int
    steps: int
    num_samples: int
    target_fingerprint: str
    config: dict[str, Any]  # everything that determines the result (see RunSpec.config)
    # the adapter's hyperparameters, defaults included (``plan.resolved_params``); in the
    # record file only, and empty in records written before genbench stored them
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.OK
    error: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # by metric name
    train_seconds: float = 0.0  # this run's share when it trained in a stack
    trained_together: int = 1  # models in its training stack
    sample_seconds: float = math.nan
    samples_per_second: float = math.nan
    # provenance, filled in by the client that stores the record
    preset: str = ""
    device: str = ""
    genbench_version: str = ""
    git_commit: str = ""
    torch_version: str = ""
    finished_at: str = ""
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    frames: list[Any] | None = field(default=None, repr=False, compare=False)
    # an animated image run's decoded latent paths, (paths, steps, dim) (``interpolate``)
    interpolation: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return run_key(self.target, self.model, self.latent_dim, self.steps, self.seed)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def fail(self, status: Status, error: str) -> None:
        """Mark the run as not finished: no samples, no metrics."""
        self.status, self.error, self.samples = status, error, None

    def to_row(self) -> dict[str, Any]:
        """The record as one flat row (its record file's content): metrics as columns."""
        row = {name: getattr(self, name) for name in _STORED_FIELDS}
        row["status"] = self.status.value
        kind = target_kind(self.target)
        return row | dict.fromkeys(default_metrics(kind), math.nan) | self.metrics

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        """The record of a ``to_row`` row (or of a record file); other columns are metrics."""
        known = {name: row[name] for name in _STORED_FIELDS if name in row}
        known["status"] = Status(known.get("status", Status.OK))
        values = {
            name: float(value)
            for name, value in row.items()
            if name not in _STORED_FIELDS and isinstance(value, int | float)
        }
        return cls(**known, metrics=values)


# What a record file and a runs.csv row hold besides the metrics.
_STORED_FIELDS = [
    f.name
    for f in dataclasses.fields(RunRecord)
    if f.name not in ("metrics", "samples", "frames", "interpolation")
]

# Columns of runs.csv, in order; metric columns follow "status"/"error" in registry order.
TIMING_COLUMNS = ["train_seconds", "trained_together", "sample_seconds", "samples_per_second"]
PROVENANCE_COLUMNS = [
    "num_samples",
    "preset",
    "device",
    "genbench_version",
    "git_commit",
    "torch_version",
    "target_fingerprint",
    "finished_at",
    "config",
]


def target_kind(name: str) -> str:
    """The kind of the target named ``name`` ("points" or "images"); "points" for a name
    no longer registered (a plug-in's, read back without it)."""
    return targets.get(name).kind if name in targets.available() else "points"


def run_columns(present: Iterable[str] = ()) -> list[str]:
    """The columns of runs.csv: those of the metrics in ``present`` (the columns of some
    record, each of which has its kind's default metrics), in registration order; with none
    there, the default metrics of the 2-D targets."""
    present = set(present)
    scored = [name for name in metrics.available() if name in present]
    return [
        *RUN_ID,
        "status",
        "error",
        *(scored or default_metrics()),
        *TIMING_COLUMNS,
        *PROVENANCE_COLUMNS,
    ]


# ---------------------------------------------------------------------------- the folder
class ResultStore:
    """The results folder of one grid."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.records_folder = self.folder / "records"
        self.samples_folder = self.folder / "samples"
        self.interpolations_folder = self.folder / INTERPOLATION_FOLDER

    @property
    def runs_csv(self) -> Path:
        return self.folder / "runs.csv"

    @property
    def leaderboard_csv(self) -> Path:
        return self.folder / "leaderboard.csv"

    def samples_path(self, key: str) -> Path:
        return self.samples_folder / f"{key}.npy"

    def remove_leftovers(self) -> None:
        """Delete temporary files that a killed run left before renaming them into place."""
        for folder in [
            self.folder,
            self.records_folder,
            self.samples_folder,
            self.interpolations_folder,
        ]:
            for leftover in folder.glob(f".*{TEMPORARY_SUFFIX}"):
                leftover.unlink(missing_ok=True)

    def has_results(self) -> bool:
        return self.runs_csv.exists() or any(self.records_folder.glob("*.json"))

    def read_config(self) -> dict[str, Any] | None:
        """``config.json``, or None where it is missing or unreadable."""
        try:
            config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return config if isinstance(config, dict) else None

    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_text(self.folder / "config.json", json.dumps(config, indent=2) + "\n")

    def save(self, record: RunRecord) -> None:
        """Store one finished run: samples first, then its record, then the regenerated table."""
        if record.samples is not None:
            samples = record.samples
            atomic_write(self.samples_path(record.key), lambda s: np.save(s, samples))
        if record.interpolation is not None:
            paths = record.interpolation
            path = self.interpolations_folder / f"{record.key}.npy"
            atomic_write(path, lambda s: np.save(s, paths))
        text = json.dumps(record.to_row(), indent=1, allow_nan=True)
        atomic_write_text(self.records_folder / f"{record.key}.json", text + "\n")
        self.write_runs_csv()

    def records(self) -> dict[str, RunRecord]:
        """Every stored record by run key; ResultsError for a record of another format (an
        older genbench's), which ``--resume`` must not silently redo."""
        found = {}
        for path in sorted(self.records_folder.glob("*.json")):
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # only a tampered file can be unreadable; the run will be redone
            try:
                found[path.stem] = RunRecord.from_row(row)
            except (TypeError, ValueError, AttributeError):
                raise ResultsError(
                    f"{path} is not a run record this version of genbench can read (written by "
                    "an older one?); use another --out"
                ) from None
        return found

    def runs(self) -> pd.DataFrame:
        return records_to_frame(self.records().values())

    def write_runs_csv(self) -> pd.DataFrame:
        frame = self.runs()
        atomic_write_text(self.runs_csv, frame.to_csv(index=False))
        return frame

    def write_leaderboard(self, board: pd.DataFrame) -> None:
        atomic_write_text(self.leaderboard_csv, board.to_csv(index=False))


# Hyperparameters that presets sweep like the latent size: where some run sets one, runs.csv
# and the leaderboard have a column of it after the latent size (empty for the other runs).
SWEPT_PARAMS = ("prior", "beta")


def records_to_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """The records as a runs table with the standard column order, sorted by run identity."""
    rows: list[dict] = []
    swept: dict[str, list] = {name: [] for name in SWEPT_PARAMS}
    points: list = []  # each run's training set size, "" for fresh draws
    for record in records:
        row = record.to_row()
        row.pop("hyperparameters", None)  # the record file's alone: a whole model's settings
        config = row.get("config") or {}
        for name, values in swept.items():
            values.append(config.get("params", {}).get(name, ""))
        points.append(config.get("train_points", ""))
        row["config"] = json.dumps(config, sort_keys=True)
        rows.append(row)
    frame = pd.DataFrame(rows)
    columns = run_columns(frame.columns)
    position = columns.index("latent_dim") + 1 if "latent_dim" in columns else len(columns)
    for name, values in swept.items():
        if any(value != "" for value in values):  # set or swept in some run
            frame[name] = values
            columns.insert(position, name)
            position += 1
    if any(value != "" for value in points):  # some run trained on a finite training set
        frame["train_points"] = points
        columns.insert(
            columns.index("steps") + 1 if "steps" in columns else position, "train_points"
        )
    frame = frame.reindex(columns=columns + [c for c in frame.columns if c not in columns])
    return frame.sort_values(RUN_ID, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------- reading tables
def read_table(path: str | Path, required: list[str], what: str) -> pd.DataFrame:
    """A non-empty CSV with the ``required`` columns; ResultsError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such file")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ResultsError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error)
        raise ResultsError(f"{path} is not a readable CSV ({message})") from None
    if "target" not in table.columns:  # written by a version that called targets datasets
        table = table.rename(columns={"dataset": "target"})
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ResultsError(f"{path} is not a genbench {what}: it lacks {', '.join(missing)}")
    if table.empty:
        raise ResultsError(f"{path} has no rows")
    latent = pd.to_numeric(table["latent_dim"], errors="coerce")
    if latent.isna().any() or (latent != latent.round()).any():
        raise ResultsError(f"{path}: column latent_dim holds values that are not integers")
    table["latent_dim"] = latent.astype(int)
    return table


def _numeric(table: pd.DataFrame, columns: Iterable[str], path: Path) -> pd.DataFrame:
    """``table`` with ``columns`` as numbers; ResultsError naming the first that is not."""
    for column in columns:
        try:
            table[column] = pd.to_numeric(table[column], errors="raise")
        except (ValueError, TypeError):
            raise ResultsError(
                f"{path}: column {column} holds values that are not numbers"
            ) from None
    # each column set apart is a block of its own: a wide table (every opt-in metric) would
    # reach pandas' fragmentation warning in whatever next adds a column
    return table.copy()


def read_runs(path: str | Path) -> pd.DataFrame:
    """A ``runs.csv``: one row per run; ResultsError if it is not one."""
    table = read_table(path, [*RUN_ID, "status"], "runs table")
    numbers = ["seed", *(m for m in metrics.available() if m in table.columns)]
    table = _numeric(table, numbers, Path(path))
    if table.duplicated(RUN_ID).any():
        raise ResultsError(f"{path}: repeated ({', '.join(RUN_ID)}) rows")
    return table


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    """A ``leaderboard.csv``: one row per entry with ``<metric>_mean``, ``_std``, ``_ci_low``,
    ``_ci_high`` columns; ResultsError if it is not one."""
    path = Path(path)
    required = [c for c in ENTRY if c != "steps"]  # steps: see entry_columns
    table = read_table(path, [*required, "seeds", "failed", "rank"], "leaderboard")
    entry = entry_columns(table)
    names = leaderboard_metrics(table)
    if not names:
        raise ResultsError(f"{path}: no metric columns (expected e.g. w2_mean)")
    for name in names:
        for statistic in ["std", "ci_low", "ci_high"]:
            if f"{name}_{statistic}" not in table.columns:
                raise ResultsError(f"{path} has no column {name}_{statistic}")
    statistics = [c for c in table.columns if c.endswith(("_mean", "_std", "_ci_low", "_ci_high"))]
    table = _numeric(table, ["seeds", "failed", "rank", *statistics], path)
    if table.duplicated(entry).any():
        raise ResultsError(f"{path}: repeated ({', '.join(entry)}) rows")
    return table


def entry_columns(board: pd.DataFrame) -> list[str]:
    """The columns that identify an entry of ``board``: ``ENTRY``, less ``steps`` for a
    leaderboard written before step counts could be swept."""
    return [c for c in ENTRY if c != "steps" or c in board.columns]


def leaderboard_metrics(board: pd.DataFrame) -> list[str]:
    """The registered metrics that have columns in ``board``, in registry order."""
    return [name for name in metrics.available() if f"{name}_mean" in board.columns]

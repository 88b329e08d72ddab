"""The results folder: one record per finished run, and the tables derived from them.

Layout of ``DIR``::

    config.json           the resolved preset and the environment, written when a sweep starts
    records/KEY.json      one finished run: its config, status, metrics, timings, provenance
    samples/KEY.npy       the samples that run drew (written before its record)
    runs.csv              every record as one row, regenerated after each run
    leaderboard.csv       aggregated over seeds (see ``genbench.leaderboard``)

Every file is written to a temporary name and renamed into place (``os.replace`` is atomic on
POSIX), so a sweep killed at any instant leaves whole files only: a run either has its record
or it does not, and ``runs.csv`` never holds a torn or duplicated row. ``--resume`` reads the
records back.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genbench.registry import metrics

# Columns of runs.csv, in order; metric columns follow "status"/"error" in registry order.
ID_COLUMNS = ["target", "model", "latent_dim", "seed"]
TIMING_COLUMNS = ["train_seconds", "trained_together", "sample_seconds", "samples_per_second"]
PROVENANCE_COLUMNS = [
    "steps",
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


TEMPORARY_SUFFIX = ".genbench-tmp"  # marks atomic_write's files, so that only they are cleaned


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def run_columns() -> list[str]:
    return [
        *ID_COLUMNS,
        "status",
        "error",
        *metrics.available(),
        *TIMING_COLUMNS,
        *PROVENANCE_COLUMNS,
    ]


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file, then rename it in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~UMASK)  # mkstemp makes files private; results are not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


class ResultStore:
    """The results folder of one sweep."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.records_folder = self.folder / "records"
        self.samples_folder = self.folder / "samples"

    @property
    def runs_csv(self) -> Path:
        return self.folder / "runs.csv"

    def remove_leftovers(self) -> None:
        """Delete temporary files that a killed sweep left before renaming them into place."""
        for folder in [self.folder, self.records_folder, self.samples_folder]:
            for leftover in folder.glob(f".*{TEMPORARY_SUFFIX}"):
                leftover.unlink(missing_ok=True)

    def has_results(self) -> bool:
        return self.runs_csv.exists() or any(self.records_folder.glob("*.json"))

    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_text(self.folder / "config.json", json.dumps(config, indent=2) + "\n")

    def save_run(self, key: str, record: dict[str, Any], samples: np.ndarray | None) -> None:
        """Store one finished run: samples first, then its record, then the regenerated table."""
        if samples is not None:
            atomic_write(self.samples_folder / f"{key}.npy", lambda s: np.save(s, samples))
        text = json.dumps(record, indent=1, allow_nan=True)
        atomic_write_text(self.records_folder / f"{key}.json", text + "\n")
        self.write_runs_csv()

    def records(self) -> dict[str, dict[str, Any]]:
        """Every stored record by run key (unreadable leftovers are skipped)."""
        found = {}
        for path in sorted(self.records_folder.glob("*.json")):
            try:
                found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # only a tampered file can be unreadable; the run will be redone
        return found

    def runs(self) -> pd.DataFrame:
        return records_to_frame(self.records().values())

    def write_runs_csv(self) -> pd.DataFrame:
        frame = self.runs()
        atomic_write_text(self.runs_csv, frame.to_csv(index=False))
        return frame


def records_to_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The records as a runs table with the standard column order, sorted by run identity."""
    rows = []
    for record in records:
        row = dict(record)
        row["config"] = json.dumps(row.get("config", {}), sort_keys=True)
        rows.append(row)
    columns = run_columns()
    frame = pd.DataFrame(rows)
    frame = frame.reindex(columns=columns + [c for c in frame.columns if c not in columns])
    return frame.sort_values(ID_COLUMNS, kind="stable").reset_index(drop=True)

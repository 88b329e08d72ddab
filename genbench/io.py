"""Reading a user's sample files: (n, 2) ``.npy`` arrays and 2-column ``.csv`` files, or
(n, h·w) ones of flattened images for an image target."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from genbench.metrics.score import MAX_SAMPLES, MIN_SAMPLES, check_samples

# A CSV of MAX_SAMPLES rows is about 400 MB; refuse larger files before reading a byte of them.
MAX_FILE_BYTES = 1 << 30


class InputError(ValueError):
    """Bad user input; its message is one line that says what is wrong and where."""


def load_samples(
    path: str | Path, *, minimum: int = MIN_SAMPLES, what: str = "samples", dim: int = 2
) -> np.ndarray:
    """The samples in ``path`` as a checked float64 (n, ``dim``) array of at least ``minimum``
    rows (``what`` names them in errors: "training points").

    ``.npy``: an (n, dim) numeric array (no pickles). ``.csv``: ``dim`` numeric columns, comma
    separated, optionally under one header line. Raises :class:`InputError` for anything else.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a .npy or .csv file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{path}: {size / 2**30:.1f} GiB is over the limit of {MAX_FILE_BYTES / 2**30:.0f} GiB "
            f"(at most {MAX_SAMPLES:,} samples are scored)"
        )
    suffix = path.suffix.lower()
    if suffix == ".npy":
        samples = _load_npy(path)
    elif suffix == ".csv":
        samples = _load_csv(path, dim)
    else:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .npy or .csv")
    try:
        return check_samples(samples, minimum=minimum, what=what, dim=dim)
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def _load_npy(path: Path) -> np.ndarray:
    with path.open("rb") as handle:
        if handle.read(6) != b"\x93NUMPY":  # the format's magic string
            raise InputError(f"{path}: not a .npy file (saved by numpy.save)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(f"{path}: holds Python objects, expected a numeric array") from None
        raise InputError(f"{path}: not a valid .npy file ({error})") from None
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: not a valid .npy file ({error})") from None


def _load_csv(path: Path, dim: int = 2) -> np.ndarray:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            lines = [  # (line number, cells) of the non-blank lines
                (number, row)
                for number, row in enumerate(csv.reader(handle), start=1)
                if any(cell.strip() for cell in row)
            ]
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    except csv.Error as error:
        raise InputError(f"{path}: malformed CSV ({error})") from None
    if lines and not any(_is_numeric([cell]) for cell in lines[0][1]):
        lines = lines[1:]  # a header line: no cell of it is a number
    if not lines:
        raise InputError(f"{path}: no samples, only blank lines or a header")
    for number, row in lines:
        if len(row) != dim:
            raise InputError(f"{path}: line {number} has {len(row)} columns, expected {dim}")
        if not _is_numeric(row):
            what = "two numbers" if dim == 2 else f"{dim} numbers"
            raise InputError(f"{path}: line {number} is not {what}: {','.join(row)[:60]!r}")
    return np.array([[float(cell) for cell in row] for _, row in lines])


def _is_numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True

"""The speed gate: fail CI when a sampler got slower than its committed baseline.

    python benchmarks/gate.py                      # measure, compare, exit 1 on a slowdown
    python benchmarks/gate.py --update             # measure 3 times, write a new baseline
    python benchmarks/gate.py --threshold 0.4 --baseline other.json --remeasure 1

It runs the sampler benchmarks (``benchmarks/test_samplers.py``) in their short mode
(``GENBENCH_BENCH_SHORT=1``: one torch thread, about 40 s on a 2-core CPU) and compares each
one's *normalised throughput* with the baseline: samples per second divided by the rate of a
fixed calibration network timed around each round, on the same thread of the same machine
(``conftest.calibrate``). A shared machine's load slows both alike, so the ratio stays put where
samples/s alone swings. A benchmark whose normalised throughput fell by more than the threshold
is only a suspect: it is measured again in a fresh pytest process, and it fails the gate only
if every measurement is that slow (a slower sampler shows in every measurement, a burst of load
seldom in three running, so the best measurement is the one judged). Faster benchmarks, new
ones and ones the baseline lacks are reported and never fail.

Exit codes: 0 passed; 1 a confirmed slowdown, or the benchmarks did not run; 2 bad arguments
or a baseline that cannot be read (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent  # the repository
BENCHMARKS = "benchmarks/test_samplers.py"  # what the gate runs, relative to ROOT
FORMAT = "genbench-speed-baseline/1"  # the baseline file's format; bump when its meaning changes

# A benchmark fails when its normalised throughput is below (1 - THRESHOLD) × baseline in every
# measurement: a drop of more than 30 %, a sampler more than 1.4 times slower. Why 30 %: on
# this project's shared 2-core machine (benchmarks/README.md, "Speed gate"), the normalised
# throughput of every benchmark stayed within ±11 % of its median over quiet runs; with one busy
# process beside it (raw samples/s down to 0.39–0.84 of quiet) within 0.83–1.18 of the quiet
# median; with two (raw samples/s down to 0.28–0.64) within 0.76–1.26. 30 % is beyond the
# worst drop an overloaded machine caused, and a regression must show in three independent
# measurements; the planted slowdown (twice the generator's work) measures 0.52.
THRESHOLD = 0.30
REMEASURE = 2  # fresh re-measurements of a suspect before it counts as a regression
UPDATE_RUNS = 3  # independent runs whose median makes a new baseline

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

# Verdicts. Only REGRESSION fails the gate.
OK, FASTER, SUSPECT, REGRESSION = "ok", "faster", "slower?", "REGRESSION"
CLEARED = "ok on re-measure"  # slow at first, not in a fresh measurement
NEW, MISSING, INCOMPARABLE = "new (not in baseline)", "missing (not measured)", "not comparable"


class BaselineError(Exception):
    """A baseline file that cannot be used; the message is the one line the user sees."""


class BenchmarkRunError(Exception):
    """The benchmarks did not run to the end or wrote no usable report."""


# ---------------------------------------------------------------------------- measurements
@dataclass(frozen=True)
class Measurement:
    """One benchmark of one pytest-benchmark report."""

    normalised: float  # (samples/s) / (calibration points/s), median over rounds
    samples_per_second: float
    calibration: float  # calibration network points/s
    num_samples: int  # the batch; normalised figures of different batches are not comparable
    node_id: str  # what pytest takes to run this benchmark alone


def measurements(report: dict[str, Any]) -> dict[str, Measurement]:
    """The measurements in a pytest-benchmark JSON report, by benchmark name."""
    found = {}
    try:
        for entry in report["benchmarks"]:
            extra = entry["extra_info"]
            found[entry["name"]] = Measurement(
                normalised=float(extra["normalised_throughput"]),
                samples_per_second=float(extra["samples_per_second"]),
                calibration=float(extra["calibration"]),
                num_samples=int(extra["num_samples"]),
                node_id=entry["fullname"],
            )
    except (KeyError, TypeError, ValueError) as error:
        raise BenchmarkRunError(f"the benchmark report lacks {error}") from None
    return found


Runner = Callable[[Sequence[str]], dict[str, Any]]  # pytest selection → pytest-benchmark report


def run_benchmarks(selection: Sequence[str]) -> dict[str, Any]:
    """Run the benchmarks that ``selection`` (pytest arguments) picks, in the short mode, in a
    fresh process, and return pytest-benchmark's JSON report."""
    with tempfile.TemporaryDirectory(prefix="genbench-gate-") as folder:
        report_path = Path(folder) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            *selection,
            "--benchmark-only",
            "--benchmark-disable-gc",  # a collection inside a timed round is noise, not speed
            f"--benchmark-json={report_path}",
            "--benchmark-columns=min,median,rounds",
            "--tb=line",  # on a failure, its error in one line, which the tail below shows
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        # COLUMNS: pytest cuts its summary lines to the terminal's width, 80 without one
        environment = os.environ | {"GENBENCH_BENCH_SHORT": "1", "COLUMNS": "160"}
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
        if done.returncode != 0 or not report_path.exists():
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
            raise BenchmarkRunError(f"pytest exited with {done.returncode}:\n{tail}")
        return json.loads(report_path.read_text())


# ---------------------------------------------------------------------------- baseline
@dataclass(frozen=True)
class BaselineEntry:
    normalised: float  # median over the runs that made the baseline
    num_samples: int


@dataclass(frozen=True)
class Baseline:
    entries: dict[str, BaselineEntry]
    provenance: dict[str, Any]  # machine, commit, torch, date: what made it


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf


def parse_baseline(data: Any) -> Baseline:
    """The baseline in ``data`` (a parsed JSON document); BaselineError if it is not one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"not a genbench speed baseline (expected format {FORMAT!r})")
    benchmarks = data.get("benchmarks")
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise BaselineError("no benchmarks in it")
    entries = {}
    for name, entry in benchmarks.items():
        if not isinstance(entry, dict):
            raise BaselineError(f"entry {name!r} is not an object")
        normalised, num_samples = entry.get("normalised_throughput"), entry.get("num_samples")
        if not positive(normalised):
            raise BaselineError(f"entry {name!r} has no positive normalised_throughput")
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise BaselineError(f"entry {name!r} has no positive integer num_samples")
        entries[name] = BaselineEntry(float(normalised), num_samples)
    provenance = {key: value for key, value in data.items() if key != "benchmarks"}
    return Baseline(entries, provenance)


def load_baseline(path: Path) -> Baseline:
    """The baseline in the file ``path``; BaselineError with a one-line reason otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file (make one with --update)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: cannot read it ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"{path}: not JSON ({error})") from None
    try:
        return parse_baseline(data)
    except BaselineError as error:
        raise BaselineError(f"{path}: {error}") from None


def make_baseline(reports: Sequence[dict[str, Any]], device: str) -> dict[str, Any]:
    """A baseline document from independent runs: per benchmark the median over the runs of
    its normalised throughput, the runs themselves (the noise they show), and what made it."""
    runs = [measurements(report) for report in reports]
    names = [name for name in runs[0] if all(name in run for run in runs)]
    if not names:
        raise BenchmarkRunError("no benchmark was measured in every run")
    last = reports[-1]
    machine = last.get("machine_info", {})
    commit = last.get("commit_info", {})
    document: dict[str, Any] = {
        "format": FORMAT,
        "statistic": "normalised_throughput = median over timed rounds of (samples/s) / "
        "(calibration network points/s), GENBENCH_BENCH_SHORT=1; median over the runs",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": f"python benchmarks/gate.py --update --runs {len(reports)}",
        "device": device,
        "machine": {
            "node": machine.get("node"),
            "cpu": machine.get("cpu", {}).get("brand_raw"),
            "cores": machine.get("cpu", {}).get("count"),
            "system": f"{machine.get('system')} {machine.get('release')}",
            "python": machine.get("python_version"),
        },
        "commit": {key: commit.get(key) for key in ("id", "branch", "dirty", "time")},
        "torch": package_version("torch"),
        "pytest_benchmark": package_version("pytest-benchmark"),
        "torch_threads": sorted(
            {e["extra_info"].get("torch_threads") for e in last["benchmarks"]} - {None}
        ),
        "benchmarks": {},
    }
    for name in names:
        values = [run[name].normalised for run in runs]
        document["benchmarks"][name] = {
            "normalised_throughput": statistics.median(values),
            "runs": values,
            "samples_per_second": statistics.median(run[name].samples_per_second for run in runs),
            "calibration": statistics.median(run[name].calibration for run in runs),
            "num_samples": runs[-1][name].num_samples,
        }
    return document


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def write_baseline(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically: readers see the old file or the new one."""
    from genbench.files import atomic_write_text  # only --update needs genbench itself

    atomic_write_text(path, json.dumps(document, indent=2) + "\n")


# ---------------------------------------------------------------------------- decision
@dataclass
class Row:
    """One benchmark's comparison: its baseline and every measurement of it, first first."""

    name: str
    baseline: float | None
    measured: list[float] = field(default_factory=list)
    verdict: str = OK
    note: str = ""

    @property
    def best(self) -> float | None:
        return max(self.measured) if self.measured else None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.best is None:
            return None
        return self.best / self.baseline


def judge(row: Row, threshold: float, remeasure: int) -> str:
    """The verdict on a row that has a baseline and measurements.

    Slower than ``1 - threshold`` times the baseline in every measurement so far: a suspect
    while re-measurements remain, a regression once ``remeasure`` of them agreed.
    """
    ratio = row.ratio
    assert ratio is not None
    if ratio < 1 - threshold:
        return REGRESSION if len(row.measured) > remeasure else SUSPECT
    if ratio > 1 + threshold:
        return FASTER
    return OK if len(row.measured) == 1 else CLEARED


def compare(
    baseline: dict[str, BaselineEntry],
    current: dict[str, Measurement],
    threshold: float,
    remeasure: int,
) -> list[Row]:
    """The rows of a first measurement against the baseline, in the measurement's order, then
    the baseline's entries that were not measured."""
    rows = []
    for name, measurement in current.items():
        entry = baseline.get(name)
        if entry is None:
            rows.append(Row(name, None, [measurement.normalised], NEW))
        elif entry.num_samples != measurement.num_samples:
            note = f"batch {measurement.num_samples}, baseline's {entry.num_samples}"
            rows.append(Row(name, entry.normalised, [measurement.normalised], INCOMPARABLE, note))
        else:
            row = Row(name, entry.normalised, [measurement.normalised])
            row.verdict = judge(row, threshold, remeasure)
            rows.append(row)
    missing = [name for name in baseline if name not in current]
    return rows + [Row(name, baseline[name].normalised, [], MISSING) for name in missing]


def gate(
    baseline: dict[str, BaselineEntry],
    run: Runner,
    selection: Sequence[str],
    threshold: float = THRESHOLD,
    remeasure: int = REMEASURE,
    log: Callable[[str], None] = lambda line: None,
) -> list[Row]:
    """Measure ``selection``, compare with ``baseline``, and re-measure the suspects, each time
    in a fresh run of only those, until each is cleared or ``remeasure`` runs confirmed it."""
    current = measurements(run(selection))
    if not current:
        raise BenchmarkRunError("no benchmark ran (none selected, or all skipped)")
    rows = compare(baseline, current, threshold, remeasure)
    for attempt in range(1, remeasure + 1):
        suspects = [row for row in rows if row.verdict == SUSPECT]
        if not suspects:
            break
        log(f"re-measuring {len(suspects)} suspect(s), {attempt} of at most {remeasure}")
        again = measurements(run([current[row.name].node_id for row in suspects]))
        for row in suspects:
            if row.name not in again:
                raise BenchmarkRunError(f"the re-measurement did not measure {row.name}")
            row.measured.append(again[row.name].normalised)
            row.verdict = judge(row, threshold, remeasure)
    return rows


def failed(rows: Sequence[Row]) -> bool:
    return any(row.verdict == REGRESSION for row in rows)


def table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table: benchmark, baseline, now, ratio, verdict."""

    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    header = ["benchmark", "baseline", "now", "re-measured", "ratio", "verdict"]
    lines = [header]
    for row in rows:
        verdict = f"{row.verdict} ({row.note})" if row.note else row.verdict
        lines.append(
            [
                row.name,
                number(row.baseline),
                number(row.measured[0] if row.measured else None),
                " ".join(number(value) for value in row.measured[1:]) or "-",
                "-" if row.ratio is None else f"{row.ratio:.2f}",
                verdict,
            ]
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join(
            [line[0].ljust(widths[0])]
            + [cell.rjust(width) for cell, width in zip(line[1:-1], widths[1:], strict=True)]
            + [line[-1]]
        )
        for line in lines
    )


def machine_note(provenance: dict[str, Any], report: dict[str, Any]) -> str | None:
    """A line when the baseline comes from another kind of machine or another torch."""
    machine = report.get("machine_info", {})
    here = (machine.get("cpu", {}).get("brand_raw"), machine.get("cpu", {}).get("count"))
    there = provenance.get("machine", {})
    torch_here = package_version("torch")
    if (there.get("cpu"), there.get("cores")) == here and provenance.get("torch") == torch_here:
        return None
    return (
        f"note: the baseline was made on {there.get('cpu')} × {there.get('cores')} with torch "
        f"{provenance.get('torch')}; this is {here[0]} × {here[1]} with torch {torch_here}. "
        "Normalised throughput carries over between machines only roughly."
    )


# ---------------------------------------------------------------------------- command line
class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"gate: error: {message} (see 'python benchmarks/gate.py --help')\n")
        sys.exit(EXIT_BAD_INPUT)


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {value}")
    return value


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {value}")
    return value


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog="gate",
        description="Compare the sampler benchmarks' normalised throughput with a committed "
        "baseline; exit 1 on a slowdown beyond the threshold that a re-measurement confirms.",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="baseline JSON (default: results/benchmarks/samplers-DEVICE-CPU.json, this kind of "
        "machine's, or else samplers-DEVICE.json)",
    )
    parser.add_argument(
        "--threshold",
        type=fraction,
        default=THRESHOLD,
        help=f"fail when normalised throughput drops by more than this fraction "
        f"(default {THRESHOLD})",
    )
    parser.add_argument(
        "--remeasure",
        type=count,
        default=REMEASURE,
        help=f"fresh re-measurements a suspect must fail too (default {REMEASURE})",
    )
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="benchmarks to gate (default cpu)"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="measure instead of comparing, and write the median of --runs runs as the baseline",
    )
    parser.add_argument(
        "--runs",
        type=count,
        default=UPDATE_RUNS,
        help=f"independent runs for --update (default {UPDATE_RUNS})",
    )
    arguments = parser.parse_args(argv)
    if arguments.update and arguments.runs < 1:
        parser.error("--runs must be at least 1")
    if arguments.baseline is None:
        arguments.baseline = default_baseline(arguments.device, this_cpu(), arguments.update)
    return arguments


def this_cpu() -> str:
    """This machine's CPU model and core count, as a file-name tag: ``intel-xeon-processor-x2``."""
    import cpuinfo  # py-cpuinfo, which pytest-benchmark brings and names machines by

    brand = cpuinfo.get_cpu_info().get("brand_raw", "unknown cpu")
    words = re.sub(r"\((r|tm)\)", "", brand.lower())
    return "-".join(re.findall(r"[a-z0-9]+", words)) + f"-x{os.cpu_count()}"


def default_baseline(device: str, cpu: str, update: bool) -> Path:
    """This kind of machine's baseline, ``samplers-<device>-<cpu>.json``, where there is one
    (and always for ``--update``); else ``samplers-<device>.json``, the baseline of the machine
    the project was first measured on. Normalised throughput carries over between CPU models
    only roughly (an overhead-bound small batch was 0.6 of its AMD EPYC baseline on an Intel
    Xeon), so each kind of machine keeps its own."""
    folder = ROOT / "results" / "benchmarks"
    own = folder / f"samplers-{device}-{cpu}.json"
    return own if update or own.exists() else folder / f"samplers-{device}.json"


def main(argv: Sequence[str] | None = None, run: Runner = run_benchmarks) -> int:
    arguments = parse_arguments(argv)
    selection = [BENCHMARKS, "-k", arguments.device]

    def log(line: str) -> None:
        print(f"gate: {line}", flush=True)

    if arguments.update:
        return update(arguments, run, selection, log)
    try:
        baseline = load_baseline(arguments.baseline)
    except BaselineError as error:
        print(f"gate: bad baseline: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    log(f"short sampler benchmarks on {arguments.device} against {arguments.baseline}")
    start = time.monotonic()
    first: dict[str, Any] = {}

    def run_and_keep_first(selection: Sequence[str]) -> dict[str, Any]:
        report = run(selection)
        first.setdefault("report", report)
        return report

    try:
        rows = gate(
            baseline.entries,
            run_and_keep_first,
            selection,
            arguments.threshold,
            arguments.remeasure,
            log,
        )
    except BenchmarkRunError as error:
        print(f"gate: the benchmarks failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"\nnormalised throughput = (samples/s) / (calibration points/s); ratio = best "
        f"measurement / baseline; threshold: ratio below {1 - arguments.threshold:.2f}\n"
    )
    print(table(rows))
    note = machine_note(baseline.provenance, first["report"])
    if note:
        print(note)
    regressions = [row.name for row in rows if row.verdict == REGRESSION]
    elapsed = time.monotonic() - start
    sys.stdout.flush()  # the table before the verdict, also where both go to one log
    if regressions:
        print(
            f"gate: FAILED in {elapsed:.0f} s: {len(regressions)} benchmark(s) slower by more "
            f"than {arguments.threshold:.0%} in {1 + arguments.remeasure} measurements: "
            + ", ".join(regressions),
            file=sys.stderr,
        )
        return EXIT_FAILED
    if any(row.verdict == FASTER for row in rows):
        log("some benchmarks got faster: consider --update so the gate guards the new speed")
    log(f"passed in {elapsed:.0f} s")
    return EXIT_OK


def update(
    arguments: argparse.Namespace,
    run: Runner,
    selection: Sequence[str],
    log: Callable[[str], None],
) -> int:
    reports = []
    try:
        for index in range(arguments.runs):
            log(f"measuring, run {index + 1} of {arguments.runs}")
            reports.append(run(selection))
        document = make_baseline(reports, arguments.device)
    except BenchmarkRunError as error:
        print(f"gate: the benchmarks failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_baseline(arguments.baseline, document)
    print(f"\nbaseline: median of {arguments.runs} run(s); spread = range of the runs / median\n")
    for name, entry in document["benchmarks"].items():
        spread = (max(entry["runs"]) - min(entry["runs"])) / entry["normalised_throughput"]
        print(f"{name:40s} {entry['normalised_throughput']:10.4g}  spread {spread:6.1%}")
    log(f"wrote {arguments.baseline}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

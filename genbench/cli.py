"""The ``genbench`` command line: parse arguments, call the library, report.

Bad input gets one line on stderr and exit code 2; an unexpected failure gets one line and exit
code 1 (set ``GENBENCH_DEBUG=1`` for the traceback). Nothing here computes anything itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from genbench.config import ConfigError
from genbench.environment import genbench_version
from genbench.io import InputError, load_samples
from genbench.metrics import score
from genbench.metrics.base import GROUPS, metric_names
from genbench.metrics.score import MIN_TRAINING_POINTS
from genbench.registry import PluginWarning, UnknownNameError, metrics, models, targets
from genbench.results import ResultsError
from genbench.targets import get_target

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_BAD_INPUT)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


# ---------------------------------------------------------------------------- score
def add_score(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "score",
        help="score your own samples against a target",
        description="Score an (n, 2) sample set (.npy, or a 2-column .csv with or without a "
        "header) against a target with every metric.",
    )
    parser.add_argument("samples", help="an (n, 2) .npy array or a 2-column .csv file")
    parser.add_argument(
        "--target",
        "--dataset",  # the old spelling, kept for existing scripts
        dest="target",
        required=True,
        help="target name (see 'genbench list')",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, nothing else")
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the metrics' reference draws"
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        metavar="METRIC",
        default=[],
        help="opt-in metrics, or groups of them, to score as well as the default ones "
        "(see 'genbench list')",
    )
    parser.add_argument(
        "--training",
        metavar="FILE",
        help="the training set the samples' model learned from, in the samples' formats: "
        "what --metrics memorisation compares them with",
    )
    parser.set_defaults(handler=run_score)


def run_score(args: argparse.Namespace) -> int:
    target = get_target(args.target)
    samples = load_samples(args.samples, dim=target.dim)
    args.metrics = metric_names(args.metrics)  # a group's name stands for its metrics
    other_kind = [name for name in args.metrics if target.kind not in metrics.get(name).kinds]
    if other_kind:
        raise ConfigError(
            f"metric {other_kind[0]} scores {' or '.join(metrics.get(other_kind[0]).kinds)}, "
            f"and {target.name} is a target of {target.kind}"
        )
    needs_model = [name for name in args.metrics if metrics.get(name).uses_model]
    if needs_model:
        raise ConfigError(
            f"metric {needs_model[0]} reads a trained model's density, not samples: "
            "score it in a grid (genbench run --metrics)"
        )
    needs_training = [name for name in args.metrics if metrics.get(name).uses_training]
    if args.training is not None:
        training = load_samples(
            args.training, minimum=MIN_TRAINING_POINTS, what="training points", dim=target.dim
        )
    else:  # an image target has its own training half; a 2-D target's comes from the user
        training = target.training_points if needs_training else None
        if needs_training and training is None:
            raise ConfigError(
                f"metric {needs_training[0]} compares the samples with the training set their "
                "model learned from: pass it with --training FILE"
            )
    if args.training is not None and not needs_training:
        print(
            f"genbench: {args.training} is not used: no metric asked for reads a training set "
            "(add --metrics memorisation)",
            file=sys.stderr,
        )
    values = score(target, samples, seed=args.seed, extra=args.metrics, training=training)
    for name, value in values.items():
        if not math.isfinite(value):
            print(f"genbench: warning: metric {name} is {value}", file=sys.stderr)
    if args.json:
        # "dataset" repeats "target" for scripts written against earlier versions; JSON has
        # no NaN or infinity: such a value is null
        result = {"target": target.name, "dataset": target.name, "n": len(samples)}
        finite = {name: v if math.isfinite(v) else None for name, v in values.items()}
        print(json.dumps(result | {"metrics": finite}, allow_nan=False))
        return EXIT_OK
    from genbench.api import floor
    from genbench.tables import print_scores

    floor_scores = floor(
        target.name, len(samples), seed=args.seed, metrics=args.metrics, training=training
    )
    title = f"{args.samples} against {target.name} (n = {len(samples):,})"
    print_scores(title, values, floor_scores)
    return EXIT_OK


# ---------------------------------------------------------------------------- run
def add_run(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="train, sample, score and rank every model on every target",
        description="Run a preset's grid of targets × models × latent sizes × seeds, writing "
        "runs.csv, leaderboard.csv, the samples and the resolved config to --out.",
    )
    parser.add_argument(
        "--preset", default="quick", help="quick (default), article, or a preset .toml file"
    )
    parser.add_argument("--models", nargs="+", metavar="MODEL", help="only these model entries")
    parser.add_argument(
        "--targets",
        "--datasets",  # the old spelling, kept for existing scripts
        dest="targets",
        nargs="+",
        metavar="TARGET",
        help="only these targets",
    )
    parser.add_argument(
        "--latent-dims",
        nargs="+",
        type=positive_int,
        metavar="K",
        help="latent sizes to sweep (families with a fixed size ignore it)",
    )
    parser.add_argument("--seeds", type=positive_int, help="number of seeds (0 … N−1)")
    parser.add_argument(
        "--steps",
        nargs="+",
        type=positive_int,
        metavar="N",
        help="training steps for every model; several make a convergence study (each entry "
        "trained for each count)",
    )
    parser.add_argument("--num-samples", type=positive_int, help="samples drawn and scored per run")
    parser.add_argument(
        "--train-points",
        type=positive_int,
        metavar="N",
        help="train every run on N target draws fixed by its seed (a finite training set) "
        "instead of fresh draws at every step; overrides the preset's train_points",
    )
    parser.add_argument(
        "--priors",
        nargs="+",
        metavar="PRIOR",
        help="latent priors to sweep for the families that have one (gan, vae): normal, uniform, "
        "sphere; each entry runs as <entry>_<prior> (families without a prior ignore it)",
    )
    parser.add_argument(
        "--betas",
        nargs="+",
        type=positive_float,
        metavar="BETA",
        help="KL weights to sweep for the VAE (a beta-VAE; 1 is the ELBO): each entry runs as "
        "<entry>_beta<BETA> (families without a beta ignore it)",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        metavar="METRIC",
        help="opt-in metrics, or groups of them, to score besides the default ones and the "
        "preset's (see 'list')",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--workers",
        type=positive_int,
        help="runs in parallel (default: one per CPU core; 1 on CUDA)",
    )
    parser.add_argument(
        "--executor",
        choices=["pool", "dask"],
        help="where groups run: pool, this machine's process pool (default), or dask, a Dask "
        "cluster of --workers processes on this machine (see docs/cluster.md)",
    )
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the running Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)",
    )
    cluster.add_argument(
        "--scheduler-file",
        metavar="FILE",
        help="run on the running Dask cluster described by FILE (dask scheduler --scheduler-file)",
    )
    parser.add_argument("--out", help="results folder (default: results/<preset>)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out and do only the missing ones (and those that failed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="skip the figures, animations and report.html at the end",
    )
    parser.set_defaults(handler=run_run)


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got 0")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def run_run(args: argparse.Namespace) -> int:
    from genbench.api import run

    with executor_of(args) as executor:
        run(
            preset=args.preset,
            models=args.models,
            targets=args.targets,
            latent_dims=args.latent_dims,
            seeds=args.seeds,
            steps=args.steps,
            num_samples=args.num_samples,
            metrics=args.metrics,
            train_points=args.train_points,
            priors=args.priors,
            betas=args.betas,
            device=args.device,
            workers=args.workers,
            executor=executor,
            out=args.out,
            resume=args.resume,
            report=not args.no_report,
            quiet=args.quiet,
        )
    return EXIT_OK


@contextlib.contextmanager
def executor_of(args: argparse.Namespace) -> Iterator[object | None]:
    """The Dask client that ``--executor dask``, ``--scheduler`` or ``--scheduler-file`` asks
    for, closed (a cluster it started stopped) at the end; None for the built-in pool."""
    on_cluster = args.scheduler is not None or args.scheduler_file is not None
    if args.executor == "pool" and on_cluster:
        raise ConfigError("--scheduler and --scheduler-file run on Dask, not --executor pool")
    if on_cluster and args.workers is not None:
        raise ConfigError("--workers sizes a local cluster; a running one has its own workers")
    if args.executor != "dask" and not on_cluster:
        yield None
        return
    from genbench.dask_executor import dask_client
    from genbench.environment import resolve_device

    with dask_client(
        workers=args.workers,
        device=resolve_device(args.device),
        scheduler=args.scheduler,
        scheduler_file=args.scheduler_file,
        quiet=args.quiet,
    ) as client:
        yield client


# ---------------------------------------------------------------------------- compare
def add_compare(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare",
        help="compare two results (folders, runs.csv or leaderboard.csv)",
        description="Say what got significantly better or worse between two results: a "
        "t-test over seeds on each entry's metrics (paired by seed when both sides are runs "
        "tables with the same seeds), Benjamini-Hochberg q < 0.05, and a change beyond the "
        "metric's practical threshold.",
    )
    parser.add_argument("old", help="the reference: a results folder, runs.csv or leaderboard.csv")
    parser.add_argument("new", help="the results to judge, in the same forms")
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 if anything got significantly worse",
    )
    parser.add_argument(
        "--all", action="store_true", help="list every change, not only significant ones"
    )
    parser.add_argument(
        "--format",
        choices=["text", "json", "markdown"],
        default="text",
        help="text for the terminal and CI logs (default), json for bots, markdown for "
        "pull-request comments",
    )
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from genbench.compare import compare, read_results
    from genbench.tables import print_comparison

    result = compare(read_results(args.old), read_results(args.new))
    for warning in result.warnings:
        sys.stderr.write(f"genbench: warning: {warning}\n")
    print_comparison(result, show_all=args.all, fmt=args.format)
    if args.fail_on_regression and not result.regressions.empty:
        sys.stderr.write(f"genbench: {len(result.regressions)} significant regression(s)\n")
        return EXIT_FAILURE
    return EXIT_OK


# ---------------------------------------------------------------------------- list
def add_list(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("list", help="list targets, models and metrics")
    parser.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    print("targets:")
    for name in targets.available():
        target = get_target(name)
        if target.kind == "images":
            height, width = target.image_shape or (0, 0)
            print(
                f"  {name:<16} {len(target.region_names):>2} classes, {height}×{width} images, "
                "scored in a classifier's feature space"
            )
            continue
        print(
            f"  {name:<16} {len(target.region_names):>2} regions, plot range ±{target.plot_range}, "
            f"KDE bandwidth {target.bandwidth}"
        )
    print("models:")
    for name in models.available():
        model = models.get(name)
        latent = (
            "the reference (the floor), no latent space"
            if model.reference
            else "latent dim swept"
            if model.fixed_latent_dim is None
            else f"latent dim fixed at {model.fixed_latent_dim}"
        )
        likelihood = (
            "log-likelihood bound"
            if model.log_prob_is_bound
            else "exact log-likelihood"
            if model.has_log_prob
            else "no log-likelihood"
        )
        learns = {("images",): " (image targets)", ("points",): ""}.get(
            tuple(model.kinds), " (2-D and image targets)"
        )
        print(f"  {name:<16} {latent}, {likelihood}{learns}")
    print("metrics:")
    for name in metrics.available():
        metric = metrics.get(name)
        where = (
            "run --metrics"
            if metric.uses_model
            else "run --train-points N --metrics, or score --training FILE --metrics"
            if metric.uses_training
            else "run or score --metrics"
        )
        opt_in = "" if metric.default else f" (opt-in: a preset's metrics, {where})"
        ideal = "diagnostic" if metric.ideal is None else f"ideal {metric.ideal:g}"
        scores = " [images]" if metric.kinds == ("images",) else ""
        print(f"  {name:<16} {ideal}: {metric.description}{opt_in}{scores}")
    print("metric groups (one name for several, wherever metrics are named):")
    for name, members in GROUPS.items():
        print(f"  {name:<16} {', '.join(members)}")
    return EXIT_OK


# ---------------------------------------------------------------------------- report
def add_report(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="build the figures, report.html and report.md of a results folder",
        description="Draw the figures of a results folder (sample grids, metric curves, the "
        "leaderboard heatmap) and write a self-contained report.html and a report.md into it.",
    )
    parser.add_argument("folder", metavar="DIR", help="a results folder written by 'genbench run'")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from genbench.report import build_report

    *figures, html_path, markdown_path = build_report(args.folder)
    print(f"wrote {html_path} and {markdown_path} ({len(figures)} figures in {figures[0].parent})")
    return EXIT_OK


# ---------------------------------------------------------------------------- main
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_run,
    add_score,
    add_compare,
    add_report,
    add_list,
]


def build_parser() -> Parser:
    parser = Parser(
        prog="genbench",
        description="Benchmark generative models on exactly known 2-D distributions.",
    )
    parser.add_argument("--version", action="version", version=f"genbench {genbench_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import genbench.metrics
    import genbench.models  # noqa: F401

    show = warnings.showwarning
    warnings.showwarning = _one_line_for_plugins(show)  # for this command, not the caller after
    try:
        return _handle(build_parser().parse_args(argv))
    finally:
        warnings.showwarning = show


def _handle(args: argparse.Namespace) -> int:
    """Run the parsed command; bad input and failures become one line and an exit code."""
    try:
        return args.handler(args)
    except (
        InputError,
        UnknownNameError,
        ConfigError,
        ResultsError,  # a table or results folder that is not genbench's (compare, report)
    ) as error:
        return fail(f"genbench: error: {error}", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return fail("genbench: interrupted", 130)
    except Exception as error:  # one line, not a traceback; GENBENCH_DEBUG=1 shows it
        if os.environ.get("GENBENCH_DEBUG"):
            raise
        return fail(
            f"genbench: internal error: {type(error).__name__}: {error} "
            "(set GENBENCH_DEBUG=1 for the traceback)",
            EXIT_FAILURE,
        )


def _one_line_for_plugins(show: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` that prints a skipped plug-in as one line on stderr."""
    if getattr(show, "genbench", False):
        return show

    def showwarning(message, category, *args, **kwargs):  # type: ignore[no-untyped-def]
        if issubclass(category, PluginWarning):
            sys.stderr.write(f"genbench: warning: {message}\n")
        else:
            show(message, category, *args, **kwargs)

    showwarning.genbench = True  # type: ignore[attr-defined]
    return showwarning


def fail(message: str, code: int) -> int:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    return code

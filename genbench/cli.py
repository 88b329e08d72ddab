"""The ``genbench`` command line: parse arguments, call the library, report.

Bad input gets one line on stderr and exit code 2; an unexpected failure gets one line and exit
code 1 (set ``GENBENCH_DEBUG=1`` for the traceback). Nothing here computes anything itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from genbench import __version__
from genbench.datasets import get_target
from genbench.io import InputError, load_samples
from genbench.metrics import oracle_scores, score
from genbench.registry import UnknownNameError, metrics, models, targets

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input found after parsing; its message is the one line the user sees."""


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
    parser.add_argument("--dataset", required=True, help="target name (see 'genbench list')")
    parser.add_argument("--json", action="store_true", help="print one JSON object, nothing else")
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the metrics' reference draws"
    )
    parser.set_defaults(handler=run_score)


def run_score(args: argparse.Namespace) -> int:
    target = get_target(args.dataset)
    samples = load_samples(args.samples)
    values = score(target, samples, seed=args.seed)
    if args.json:
        print(json.dumps({"dataset": target.name, "n": len(samples), "metrics": values}))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    floor = oracle_scores(target, len(samples), seed=args.seed)
    table = Table(title=f"{args.samples} against {target.name} (n = {len(samples):,})")
    for column in ["metric", "value", "oracle floor", "ideal", "meaning"]:
        table.add_column(column, justify="right" if column in {"value", "oracle floor"} else "left")
    for name, value in values.items():
        metric = metrics.get(name)
        table.add_row(
            name, f"{value:.4g}", f"{floor[name]:.4g}", f"{metric.ideal:g}", metric.description
        )
    Console().print(table)
    print("The oracle floor is the target's own sampler scored the same way: no model beats it.")
    return EXIT_OK


# ---------------------------------------------------------------------------- list
def add_list(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("list", help="list targets, models and metrics")
    parser.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    print("targets:")
    for name in targets.available():
        target = get_target(name)
        print(
            f"  {name:<16} {len(target.region_names):>2} regions, plot range ±{target.plot_range}, "
            f"KDE bandwidth {target.bandwidth}"
        )
    print("models:")
    for name in models.available():
        model = models.get(name)
        latent = (
            f"latent dim fixed at {model.fixed_latent_dim}"
            if model.fixed_latent_dim
            else "latent dim swept"
        )
        likelihood = (
            "log-likelihood bound"
            if model.log_prob_is_bound
            else "exact log-likelihood"
            if model.has_log_prob
            else "no log-likelihood"
        )
        print(f"  {name:<16} {latent}, {likelihood}")
    print("metrics:")
    for name in metrics.available():
        metric = metrics.get(name)
        print(f"  {name:<16} ideal {metric.ideal:g}: {metric.description}")
    return EXIT_OK


# ---------------------------------------------------------------------------- main
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [add_score, add_list]


def build_parser() -> Parser:
    parser = Parser(
        prog="genbench",
        description="Benchmark generative models on exactly known 2-D distributions.",
    )
    parser.add_argument("--version", action="version", version=f"genbench {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import genbench.metrics
    import genbench.models  # noqa: F401

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, UsageError, UnknownNameError) as error:
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


def fail(message: str, code: int) -> int:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    return code

"""A metric registered with ``@metric`` reaches every consumer with no edit to their modules:
the score, the leaderboard's columns and intervals, the terminal table (if headline), the
sample-panel corners and the metric-curve figures."""

import io
import math

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from genbench import plots
from genbench.leaderboard import confidence_interval, leaderboard
from genbench.metrics import metric, score
from genbench.metrics.base import default_metrics
from genbench.registry import metrics
from genbench.seeding import derive_seed
from genbench.tables import print_leaderboard
from genbench.targets import get_target


def mean_offset(target, samples, *, seed=0):
    """‖mean of samples − mean of 10,000 fresh target draws‖, in the target's coordinates."""
    reference = target.sample(10_000, derive_seed(seed, "mean_offset"))
    return float(np.linalg.norm(samples.mean(axis=0) - reference.mean(axis=0)))


def in_view(target, samples, *, seed=0):
    """Fraction of samples inside the figures' square [−plot_range, plot_range]²."""
    return float(np.mean((np.abs(samples) <= target.plot_range).all(axis=1)))


DECLARATIONS = {
    # a positive distance, read on a log axis and shown in the terminal and the corners
    "mean_offset": dict(
        function=mean_offset,
        ideal=0.0,
        description="distance between the sample mean and the target's mean",
        label="mean offset",
        short_label="Δμ",
        scale="log",
        bounds=(0.0, math.inf),
        headline=True,
    ),
    # a fraction, on a linear axis, only in leaderboard.csv and the figures
    "in_view": dict(
        function=in_view,
        ideal=1.0,
        description="fraction of samples inside the plot range",
        label="in view",
        short_label="view",
        bounds=(0.0, 1.0),
    ),
}


@pytest.fixture(params=list(DECLARATIONS))
def new_metric(request):
    name = request.param
    declared = dict(DECLARATIONS[name])
    function = declared.pop("function")
    registered = metric(name, **declared)(function)
    yield registered
    metrics._entries.pop(name, None)


def runs_table(values_by_entry, target="eight_gaussians"):
    """A runs table in which every metric of entry e, seed s equals values_by_entry[e][s]."""
    rows = []
    for (model, latent_dim), values in values_by_entry.items():
        for seed, value in enumerate(values):
            rows.append(
                {
                    "target": target,
                    "model": model,
                    "latent_dim": latent_dim,
                    "steps": 0 if model == "oracle" else 100,
                    "seed": seed,
                    "status": "ok",
                    "train_seconds": 1.0,
                    "samples_per_second": 1e5,
                    "target_fingerprint": "abc",
                    "preset": "toy",
                }
                | dict.fromkeys(metrics.available(), value)
            )
    return pd.DataFrame(rows)


@pytest.fixture
def board(new_metric):
    """A leaderboard of the oracle and two entries of one model, three seeds each."""
    return leaderboard(
        runs_table(
            {
                ("oracle", 0): [0.10, 0.11, 0.12],
                ("gan", 1): [0.50, 0.62, 0.55],
                ("gan", 3): [0.20, 0.31, 0.24],
            }
        )
    )


def test_score_includes_the_new_metric(new_metric):
    target = get_target("eight_gaussians")
    samples = target.sample(1_000, seed=1)
    values = score(target, samples, seed=2)
    assert list(values) == default_metrics()
    assert values[new_metric.name] == new_metric(target, samples, seed=2)


def test_the_leaderboard_has_its_columns_and_intervals_on_its_scale(new_metric, board):
    name = new_metric.name
    for column in ["mean", "std", "ci_low", "ci_high", "rank"]:
        assert f"{name}_{column}" in board.columns
    gan = board.set_index(["model", "latent_dim"]).loc[("gan", 1)]
    _, _, low, high = confidence_interval(
        np.array([0.50, 0.62, 0.55]), log_scale=new_metric.scale == "log"
    )
    assert (gan[f"{name}_ci_low"], gan[f"{name}_ci_high"]) == pytest.approx((low, high))


def test_the_terminal_table_shows_it_if_headline(new_metric, board):
    out = io.StringIO()
    print_leaderboard(board, Console(file=out, width=120))
    header = next(line for line in out.getvalue().splitlines() if line.lstrip().startswith("#"))
    assert (new_metric.short_label in header.split()) == new_metric.headline


def test_sample_panel_corners_show_it_if_headline(new_metric, board):
    row = board.iloc[0].to_dict()
    labels = [line.rsplit(" ", 1)[0] for line in plots.metrics_text(row).splitlines()]
    assert (new_metric.short_label in labels) == new_metric.headline


def test_the_metric_curves_have_a_panel_for_it_on_its_scale(new_metric, board):
    figure = plots.metric_curves(board, models=["gan"], metric_names=default_metrics(), title="t")
    assert [axes.get_label() for axes in figure.axes] == [
        f"metric:{name}" for name in default_metrics()
    ]
    axes = next(a for a in figure.axes if a.get_label() == f"metric:{new_metric.name}")
    assert axes.get_title() == new_metric.axis_label == plots.axis_label(new_metric.name)
    assert axes.get_yscale() == new_metric.scale

"""Opt-in metrics: scored only where a preset, ``--metrics`` or ``metrics=`` asks for them, and
then carried into runs.csv, the leaderboard (oracle row included) and ``score --json``; runs
scored with the default metrics keep the configuration they always had."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from genbench.api import run, score
from genbench.cli import main
from genbench.metrics import metric
from genbench.metrics.base import Metric, default_metrics
from genbench.registry import metrics

TOY = """
name = "toy"
targets = ["spiral"]
seeds = 2
num_samples = 300
{metrics}

[models.good]
family = "scaled_target"
latent_dims = [2]
steps = 4
"""


def spread(target, samples, *, seed=0):
    """The samples' mean distance from the origin: 0 only for samples all at the origin."""
    return float(np.linalg.norm(samples, axis=1).mean())


@pytest.fixture
def opt_in():
    registered = metric(
        "spread",
        ideal=0.0,
        description="mean distance from the origin",
        label="spread",
        short_label="spread",
        bounds=(0.0, math.inf),
        default=False,
    )(spread)
    yield registered
    metrics._entries.pop("spread", None)


def toy(tmp_path, metrics_line=""):
    path = tmp_path / "toy.toml"
    path.write_text(TOY.format(metrics=metrics_line))
    return str(path)


def test_an_opt_in_metric_is_scored_only_when_asked(opt_in):
    samples = np.random.default_rng(0).normal(size=(500, 2))
    assert "spread" not in score("gaussian", samples)
    assert "spread" not in default_metrics()
    asked = score("gaussian", samples, metrics=["spread"])
    assert asked["spread"] == pytest.approx(spread(None, samples))
    assert list(asked)[: len(default_metrics())] == default_metrics()


def test_a_preset_that_asks_for_it_gets_columns_and_the_oracle_floor(
    tmp_path, opt_in, scaled_target_model
):
    results = run(
        toy(tmp_path, 'metrics = ["spread"]'),
        out=tmp_path / "out",
        quiet=True,
        workers=1,
        report=False,
    )
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert runs["spread"].notna().all()
    columns = list(runs.columns)
    assert columns.index("spread") > columns.index(default_metrics()[-1])  # registry order
    board = results.leaderboard.set_index("model")
    assert np.isfinite(board.loc["oracle", "spread_mean"])
    assert board.loc["oracle", "spread_ci_low"] <= board.loc["oracle", "spread_ci_high"]
    config = json.loads(runs["config"].iloc[0])
    assert config["metrics"] == ["spread"]


def test_without_it_nothing_changes(tmp_path, opt_in, scaled_target_model):
    run(toy(tmp_path), out=tmp_path / "out", quiet=True, workers=1, report=False)
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert "spread" not in runs.columns
    assert "metrics" not in json.loads(runs["config"].iloc[0])  # as before opt-in metrics
    assert "spread_mean" not in pd.read_csv(tmp_path / "out" / "leaderboard.csv").columns


def test_resuming_with_other_metrics_is_refused(tmp_path, opt_in, scaled_target_model, capsys):
    preset = toy(tmp_path)
    run(preset, out=tmp_path / "out", quiet=True, workers=1, report=False)
    code = main(
        [
            *["run", "--preset", preset, "--out", str(tmp_path / "out"), "--resume"],
            *["--metrics", "spread", "--workers", "1", "--no-report", "--quiet"],
        ]
    )
    assert code == 2
    assert "different configuration" in capsys.readouterr().err


def test_the_order_they_are_asked_in_and_default_names_do_not_matter(
    tmp_path, opt_in, scaled_target_model
):
    preset = toy(tmp_path, 'metrics = ["spread", "w2"]')  # w2 is scored anyway
    run(preset, out=tmp_path / "out", quiet=True, workers=1, report=False)
    again = run(preset, out=tmp_path / "out", quiet=True, workers=1, report=False, resume=True)
    assert json.loads(again.runs["config"].iloc[0])["metrics"] == ["spread"]


def test_an_opt_in_metric_that_raises_costs_only_its_column(tmp_path, scaled_target_model):
    def broken(target, samples, *, seed=0):
        raise ArithmeticError("no value here")

    metric("broken", ideal=0.0, description="d", label="b", short_label="b", default=False)(broken)
    try:
        results = run(
            toy(tmp_path, 'metrics = ["broken"]'),
            out=tmp_path / "out",
            quiet=True,
            workers=1,
            report=False,
        )
    finally:
        metrics._entries.pop("broken", None)
    runs = results.runs
    assert (runs["status"] == "ok").all() and runs["kl_forward"].notna().all()
    assert runs["broken"].isna().all()
    assert runs["error"].str.contains("broken: ArithmeticError: no value here").all()


def test_score_metrics_flag(tmp_path, opt_in, capsys):
    path = tmp_path / "samples.npy"
    np.save(path, np.random.default_rng(1).normal(size=(400, 2)))
    assert main(["score", str(path), "--target", "gaussian", "--json", "--metrics", "spread"]) == 0
    values = json.loads(capsys.readouterr().out)["metrics"]
    assert set(values) == {*default_metrics(), "spread"}


def test_an_unknown_metric_is_one_line_and_exit_2(tmp_path, capsys, scaled_target_model):
    code = main(
        [
            *["run", "--preset", toy(tmp_path), "--out", str(tmp_path / "out"), "--quiet"],
            *["--metrics", "no_such_metric", "--workers", "1", "--no-report"],
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no_such_metric" in err and "kl_forward" in err
    assert not (tmp_path / "out" / "runs.csv").exists()


def test_the_ranking_metric_cannot_be_opt_in():
    with pytest.raises(ValueError, match="ranking metric"):
        Metric("x", spread, 0.0, "d", "x", "x", ranks=True, default=False)

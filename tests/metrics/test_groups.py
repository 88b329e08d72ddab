"""Metrics asked for and shown together. A group's name asks for its metrics wherever metrics
are named: a preset, --metrics, ``metrics=`` in Python; ``genbench list`` shows the groups."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from genbench.cli import main
from genbench.config import load_preset
from genbench.metrics import score
from genbench.metrics.base import GROUPS, display_order, expand_groups, metric
from genbench.plan import make_plan
from genbench.registry import metrics
from genbench.report.table import table_columns
from genbench.targets import get_target

MODES = ["high_quality", "modes_captured", "modes_kl"]
PRESET = """
name = "groups"
targets = ["ring8"]
seeds = 1
num_samples = 2500
metrics = ["modes"]

[models.gmm]
steps = 500
"""


def test_every_member_of_a_group_is_a_registered_opt_in_metric():
    for members in GROUPS.values():
        assert all(not metrics.get(name).default for name in members)
    assert not set(GROUPS) & set(metrics.available())


def test_a_group_expands_in_place_and_once():
    assert expand_groups(["c2st", "modes", "modes_kl", "mmd2"]) == ["c2st", *MODES, "mmd2"]
    assert expand_groups(["prdc"]) == ["precision", "recall", "density", "coverage_prdc"]


def test_score_takes_a_group():
    target = get_target("ring8")
    values = score(target, target.sample(2500, seed=0), extra=["modes"])
    assert set(MODES) <= set(values) and values["modes_captured"] == 1.0


def test_a_preset_and_the_command_line_take_a_group(tmp_path):
    (tmp_path / "grid.toml").write_text(PRESET)
    plan = make_plan(load_preset(str(tmp_path / "grid.toml")), metrics=["prdc"])
    assert plan.preset.metrics == (*MODES, "precision", "recall", "density", "coverage_prdc")
    assert all(set(spec.metrics) == set(plan.preset.metrics) for spec in plan.runs)


def test_genbench_score_takes_a_group(tmp_path, capsys):
    path = tmp_path / "samples.npy"
    np.save(path, get_target("grid25").sample(2500, seed=0))
    assert main(["score", str(path), "--target", "grid25", "--metrics", "modes", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)["metrics"]
    assert set(MODES) <= set(values) and values["modes_captured"] == 1.0


def test_genbench_list_shows_the_groups(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, members in GROUPS.items():
        assert f"{name:<16} {', '.join(members)}" in out


def test_a_misspelt_name_lists_the_metrics_and_the_groups(tmp_path, capsys):
    path = tmp_path / "samples.npy"
    np.save(path, get_target("ring8").sample(500, seed=0))
    assert main(["score", str(path), "--target", "ring8", "--metrics", "mode"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown metric 'mode'" in err and "groups: modes, prdc, density_kl" in err


def test_genbench_run_takes_a_group(tmp_path):
    (tmp_path / "grid.toml").write_text(PRESET)
    out = tmp_path / "out"
    argv = ["run", "--preset", str(tmp_path / "grid.toml"), "--metrics", "prdc"]
    assert main([*argv, "--workers", "1", "--quiet", "--no-report", "--out", str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert {*MODES, "precision", "recall", "density", "coverage_prdc"} <= set(runs.columns)
    assert runs[MODES].notna().all().all()


def test_a_metric_cannot_take_a_group_s_name():
    with pytest.raises(ValueError, match="'modes' cannot name a metric: it names the group"):
        metric("modes", ideal=0.0, description="", label="", short_label="")(lambda *a, **k: 0.0)


def test_the_exact_kl_and_its_bounds_are_shown_beside_kl_forward():
    registered_order = ["kl_forward", "kl_reverse", "w1", "c2st", "kl_exact", "kl_upper", "kl_elbo"]
    assert display_order(registered_order) == [
        "kl_forward", "kl_exact", "kl_upper", "kl_elbo", "kl_reverse", "w1", "c2st",
    ]  # fmt: skip
    # without kl_exact the bounds keep their place, together
    assert display_order(["kl_forward", "w1", "kl_upper", "kl_elbo"]) == [
        "kl_forward", "w1", "kl_upper", "kl_elbo",
    ]  # fmt: skip
    # the report's table: the ranking metric, what sits beside it, then the headline metrics
    names = ["kl_forward", "kl_reverse", "w1", "w2", "mode_coverage", "negative_space", "c2st"]
    names += ["kl_exact", "kl_upper", "kl_elbo"]
    results = SimpleNamespace(rank_metric="kl_forward", metric_names=names)
    assert table_columns(results) == [
        "kl_forward", "kl_exact", "kl_upper", "kl_elbo", "w2", "mode_coverage",
        "negative_space", "kl_reverse", "w1", "c2st",
    ]  # fmt: skip

"""A metric in someone else's package, found through the ``genbench.metrics`` entry-point group."""

import sys
import warnings

import pytest

from genbench.cli import main
from genbench.metrics import score
from genbench.registry import PluginWarning, UnknownNameError, metrics
from genbench.targets import get_target

PLUGIN = """
import math

import numpy as np

from genbench.metrics import metric


@metric(
    "spread",
    ideal=1.0,
    description="sample standard deviation over the target's, per axis, averaged",
    label="spread ratio",
    short_label="spread",
    scale="log",
    bounds=(0.0, math.inf),
)
def spread(target, samples, *, seed=0):
    reference = target.sample(10_000, seed)
    return float(np.mean(samples.std(axis=0) / reference.std(axis=0)))
"""


def install(tmp_path, monkeypatch, module, entry_point):
    """What `pip install` leaves on sys.path: the module and its dist-info."""
    (tmp_path / f"{module}.py").write_text(PLUGIN)
    info = tmp_path / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[genbench.metrics]\n{entry_point}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    metrics._entry_points_loaded = False


@pytest.fixture
def cleanup():
    yield
    for name in ["spread", "my_spread"]:
        metrics._entries.pop(name, None)
    metrics._skipped.clear()
    for module in ["my_metrics", "misnamed_metrics", "broken_metrics", "grouped_metrics"]:
        sys.modules.pop(module, None)
    metrics._entry_points_loaded = False


def test_a_plugin_metric_is_scored(tmp_path, monkeypatch, cleanup):
    install(tmp_path, monkeypatch, "my_metrics", "spread = my_metrics:spread")
    assert "spread" in metrics.available()
    target = get_target("gaussian")
    values = score(target, target.sample(2_000, seed=1) * 2.0, seed=0)
    assert values["spread"] == pytest.approx(2.0, rel=0.05)


def test_an_entry_point_named_unlike_its_metric_is_skipped_with_a_warning(
    tmp_path, monkeypatch, cleanup
):
    # Under two names the metric would be scored twice, in a column unlike its own name.
    install(tmp_path, monkeypatch, "misnamed_metrics", "my_spread = misnamed_metrics:spread")
    with pytest.warns(PluginWarning, match="registers itself as 'spread'"):
        assert "my_spread" not in metrics.available()
    with pytest.raises(UnknownNameError, match="package misnamed_metrics"):
        metrics.get("my_spread")


def test_an_entry_point_named_like_a_group_of_metrics_is_skipped_and_the_group_kept(
    tmp_path, monkeypatch, cleanup
):
    # "modes" asks for the three mode-collapse metrics: a plug-in under that name could never
    # be asked for
    install(tmp_path, monkeypatch, "grouped_metrics", "modes = grouped_metrics:spread")
    with pytest.warns(PluginWarning, match="its name names the group of metrics high_quality"):
        assert "modes" not in metrics.available()
    target = get_target("ring8")
    values = score(target, target.sample(2_500, seed=0), extra=["modes"])
    assert {"high_quality", "modes_captured", "modes_kl"} <= set(values)
    assert "modes" not in values


def test_a_plugin_that_fails_to_import_is_skipped_and_named(tmp_path, monkeypatch, cleanup, capsys):
    install(tmp_path, monkeypatch, "broken_metrics", "spread = broken_metrics:spread")
    (tmp_path / "broken_metrics.py").write_text("import not_a_module_anywhere\n")
    show = warnings.showwarning
    assert main(["list"]) == 0  # the built-in metrics, models and targets are all there
    assert warnings.showwarning is show  # a script calling main keeps its own warnings
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "genbench: warning: the metric plug-in 'spread' (broken_metrics:spread, package "
        "broken_metrics) is skipped: it failed to load (ModuleNotFoundError: No module named "
        "'not_a_module_anywhere')"
    ]
    assert "kl_forward" in metrics.available()

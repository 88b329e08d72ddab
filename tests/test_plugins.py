"""A model and a metric in someone else's package, found through the ``genbench.models`` and
``genbench.metrics`` entry-point groups: everything genbench writes has them, with no edit to
genbench."""

import json
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from genbench import plots
from genbench.api import run
from genbench.cli import main
from genbench.registry import metrics, models
from genbench.results import leaderboard_metrics

PLUGIN = '''
from dataclasses import dataclass

import numpy as np
from sklearn.mixture import GaussianMixture

from genbench.metrics import metric
from genbench.models.base import GenerativeModel


@dataclass(eq=False)
class MixtureModel(GenerativeModel):
    """scikit-learn's Gaussian mixture, fitted to draws from the target."""

    latent_dim: int = 2  # unused: a mixture has no latent space to sweep
    device: str = "cpu"  # unused: scikit-learn runs on the CPU
    components: int = 8  # mixture components
    fixed_latent_dim = 2
    name = "mixture"

    def fit(self, target, steps, seed, progress=None):
        data = target.sample(steps, seed)  # one target draw per "step"
        self.mixture_ = GaussianMixture(self.components, random_state=seed).fit(data)
        if progress:
            progress(steps, 0.0)
        return self

    def sample(self, num_samples, seed):
        self.mixture_.random_state = seed
        return self.mixture_.sample(num_samples)[0].astype(np.float32)


@metric(
    "radius_error",
    ideal=0.0,
    description="mean distance from the origin, minus the target's",
    label="radius error",
    short_label="r.err",
    scale="linear",
    bounds=(-np.inf, np.inf),
)
def radius_error(target, samples, *, seed=0):
    reference = target.sample(10_000, seed)
    return float(np.linalg.norm(samples, axis=1).mean() - np.linalg.norm(reference, axis=1).mean())
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """What `pip install my-models` leaves on sys.path: the module and its dist-info."""
    (tmp_path / "my_models.py").write_text(PLUGIN)
    info = tmp_path / "my_models-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-models\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[genbench.models]\nmixture = my_models:MixtureModel\n\n"
        "[genbench.metrics]\nradius_error = my_models:radius_error\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    models._entry_points_loaded = metrics._entry_points_loaded = False
    yield
    models._entries.pop("mixture", None)
    metrics._entries.pop("radius_error", None)
    sys.modules.pop("my_models", None)
    models._entry_points_loaded = metrics._entry_points_loaded = False


def test_plugin_is_found_by_name(installed_plugin):
    assert "mixture" in models.available()
    assert models.get("mixture").__name__ == "MixtureModel"


def test_run_picks_up_the_plugin(installed_plugin, tmp_path):
    preset = tmp_path / "plugin.toml"
    preset.write_text(
        textwrap.dedent("""
        name = "plugin"
        targets = ["eight_gaussians"]
        seeds = 2
        num_samples = 1000
        [models.mixture]
        steps = 4000
    """)
    )
    board = run(str(preset), out=tmp_path / "out", quiet=True, workers=1, report=False).leaderboard
    row = board.set_index("model").loc["mixture"]
    assert row["failed"] == 0
    assert row["mode_coverage_mean"] == 1.0  # eight components fit eight modes
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert set(runs["model"]) == {"oracle", "mixture"}


def test_a_plugged_in_model_and_metric_appear_in_everything_genbench_writes(
    installed_plugin, tmp_path, capsys
):
    preset = tmp_path / "plugin.toml"
    preset.write_text(
        textwrap.dedent("""
        name = "plugin"
        targets = ["eight_gaussians"]
        seeds = 2
        num_samples = 500
        [models.mixture]
        steps = 2000
    """)
    )
    out = tmp_path / "out"
    # two worker processes: the plug-in is found there too
    argv = ["run", "--preset", str(preset), "--out", str(out), "--workers", "2", "--quiet"]
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["status"] == "ok").all() and set(runs["model"]) == {"oracle", "mixture"}
    assert runs["radius_error"].notna().all()
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"radius_error_mean", "radius_error_ci_low", "radius_error_rank"} <= set(board.columns)
    figure = plots.metric_curves(
        board, models=["mixture"], metric_names=leaderboard_metrics(board), title="plugin"
    )
    assert "metric:radius_error" in {axes.get_label() for axes in figure.axes}
    assert "radius error" in (out / "report.html").read_text()

    np.save(
        tmp_path / "samples.npy",
        np.load(out / "samples" / "eight_gaussians__mixture__z2__t2000__s0.npy"),
    )
    capsys.readouterr()
    assert (
        main(["score", "--target", "eight_gaussians", str(tmp_path / "samples.npy"), "--json"]) == 0
    )
    scored = json.loads(capsys.readouterr().out)["metrics"]
    assert scored["radius_error"] == pytest.approx(
        runs.set_index(["model", "seed"]).loc[("mixture", 0), "radius_error"]
    )

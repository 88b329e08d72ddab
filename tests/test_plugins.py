"""A model in someone else's package, found through the ``genbench.models`` entry-point group."""

import textwrap

import pandas as pd
import pytest

from genbench.registry import models
from genbench.sweep import sweep

PLUGIN = '''
from dataclasses import dataclass

import numpy as np
from sklearn.mixture import GaussianMixture

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
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """What `pip install my-models` leaves on sys.path: the module and its dist-info."""
    (tmp_path / "my_models.py").write_text(PLUGIN)
    info = tmp_path / "my_models-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-models\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[genbench.models]\nmixture = my_models:MixtureModel\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    models._entry_points_loaded = False
    yield
    models._entries.pop("mixture", None)
    models._entry_points_loaded = False


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
    board = sweep(str(preset), out=tmp_path / "out", quiet=True, workers=1, report=False)
    row = board.set_index("model").loc["mixture"]
    assert row["failed"] == 0
    assert row["mode_coverage_mean"] == 1.0  # eight components fit eight modes
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert set(runs["model"]) == {"oracle", "mixture"}

"""KL(p ‖ q) from a model's own density: zero for the target itself, the closed form for a
Gaussian model of a Gaussian target, an upper bound where the density is a lower bound, NaN
without a density, and the same columns in a grid's runs as any opt-in metric."""

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from genbench.api import run
from genbench.cli import main
from genbench.metrics import score
from genbench.metrics.exact_kl import NUM_REFERENCE, kl_exact, kl_upper
from genbench.models.oracle import Oracle
from genbench.targets import get_target

NO_SAMPLES = np.zeros((0, 2))  # these metrics read the model, never its samples


@dataclass
class IsotropicGaussian:
    """q = N(mean, scale² I) with its exact log-density, less ``slack`` nats when it plays a
    model whose ``log_prob`` is a lower bound."""

    mean: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    slack: float = 0.0
    has_log_prob: bool = True
    log_prob_is_bound: bool = False

    def log_prob(self, x):
        squared = ((x - np.asarray(self.mean)) ** 2).sum(axis=1) / self.scale**2
        return -0.5 * squared - np.log(2 * np.pi * self.scale**2) - self.slack


def closed_form_kl(mean, scale):
    """KL(N(0, I₂) ‖ N(mean, scale² I₂)), nats."""
    return sum(0.5 * ((1 + m**2) / scale**2 - 1 + math.log(scale**2)) for m in mean)


def test_the_target_itself_scores_exactly_zero():
    for name in ["gaussian", "eight_gaussians", "spiral"]:
        target = get_target(name)
        oracle = Oracle().fit(target, 0, 0)
        assert kl_exact(target, NO_SAMPLES, seed=1, model=oracle) == 0.0
        assert kl_upper(target, NO_SAMPLES, seed=1, model=oracle) == 0.0


@pytest.mark.parametrize(("mean", "scale"), [((0.5, 0.0), 1.0), ((0.0, 0.0), 1.5), ((1, -1), 0.7)])
def test_a_gaussian_model_of_the_gaussian_target_meets_the_closed_form(mean, scale):
    target, model = get_target("gaussian"), IsotropicGaussian(mean, scale)
    reference = target.sample(NUM_REFERENCE, seed=0)
    spread = np.std(target.log_prob(reference) - model.log_prob(reference))
    estimate = kl_exact(target, NO_SAMPLES, seed=2, model=model)
    assert estimate == pytest.approx(closed_form_kl(mean, scale), abs=4 * spread / 100)
    assert kl_upper(target, NO_SAMPLES, seed=2, model=model) == estimate  # the same draws


def test_a_lower_bound_on_the_density_gives_an_upper_bound_on_the_kl():
    target = get_target("gaussian")
    exact, bound = IsotropicGaussian(scale=1.2), IsotropicGaussian(scale=1.2, slack=0.3)
    bound.log_prob_is_bound = True
    assert math.isnan(kl_exact(target, NO_SAMPLES, seed=0, model=bound))
    true = kl_exact(target, NO_SAMPLES, seed=0, model=exact)
    assert kl_upper(target, NO_SAMPLES, seed=0, model=bound) == pytest.approx(true + 0.3)


def test_a_model_without_a_density_scores_nan():
    model = IsotropicGaussian(has_log_prob=False)
    target = get_target("spiral")
    assert math.isnan(kl_exact(target, NO_SAMPLES, seed=0, model=model))
    assert math.isnan(kl_upper(target, NO_SAMPLES, seed=0, model=model))


def test_bare_samples_cannot_be_scored_with_them():
    samples = get_target("gaussian").sample(500, seed=0)
    with pytest.raises(ValueError, match="kl_exact reads a trained model"):
        score(get_target("gaussian"), samples, extra=["kl_exact", "kl_upper"])


def test_genbench_score_refuses_them_in_one_line(tmp_path, capsys):
    path = tmp_path / "samples.npy"
    np.save(path, get_target("gaussian").sample(500, seed=0))
    assert main(["score", str(path), "--target", "gaussian", "--metrics", "kl_exact"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "genbench run --metrics" in err


GRID = """
name = "densities"
targets = ["gaussian"]
seeds = 2
num_samples = 500
metrics = ["kl_exact", "kl_upper"]

[models.realnvp]
steps = 150
params = { num_couplings = 2, width = 16, depth = 1 }

[models.vae]
latent_dims = [2]
steps = 150
params = { width = 16, depth = 1, log_prob_samples = 8 }

[models.gan]
latent_dims = [2]
steps = 20
params = { generator_width = 16, discriminator_width = 16, batch_size = 64 }
"""


def test_a_grid_scores_each_family_by_what_its_density_is(tmp_path):
    (tmp_path / "grid.toml").write_text(GRID)
    run(str(tmp_path / "grid.toml"), out=tmp_path / "out", quiet=True, workers=1, report=False)
    runs = pd.read_csv(tmp_path / "out" / "runs.csv").set_index(["model", "seed"])
    assert (runs["status"] == "ok").all()
    assert (runs.loc["oracle", "kl_exact"] == 0).all()
    assert runs.loc["realnvp", "kl_exact"].between(-0.05, 1).all()  # N(0, I) is easy for it
    assert (runs.loc["realnvp", "kl_upper"] == runs.loc["realnvp", "kl_exact"]).all()
    assert runs.loc["vae", "kl_exact"].isna().all() and runs.loc["vae", "kl_upper"].notna().all()
    assert runs.loc["gan", ["kl_exact", "kl_upper"]].isna().all().all()
    config = json.loads(runs["config"].iloc[0])
    assert config["metrics"] == ["kl_exact", "kl_upper"]

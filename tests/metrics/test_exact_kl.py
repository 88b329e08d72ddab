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
from genbench.metrics.exact_kl import NUM_REFERENCE, kl_elbo, kl_exact, kl_upper
from genbench.models.baselines import KDE
from genbench.models.oracle import Oracle
from genbench.models.vae import VAE
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


@dataclass
class RingMixture:
    """q = Σ_k w_k N(μ_k, σ² I) on ``ring8``'s own modes, with other weights w."""

    weights: tuple[float, ...]
    has_log_prob: bool = True
    log_prob_is_bound: bool = False

    def log_prob(self, x):
        target = get_target("ring8")
        squared = ((x[:, None, :] - target.means[None]) ** 2).sum(-1) / target.std**2  # (n, 8)
        per_mode = -0.5 * squared - np.log(2 * np.pi * target.std**2) + np.log(self.weights)
        return np.logaddexp.reduce(per_mode, axis=1)


def test_a_dropped_mode_costs_its_closed_form():
    # the ring's modes are 77 stds apart: KL(p ‖ q) = Σ_k (1/8) log((1/8) / w_k) to within
    # e^(-700); mode 0 kept at weight 1e-6, the other seven sharing the rest
    weights = (1e-6, *[(1 - 1e-6) / 7] * 7)
    expected = sum(0.125 * math.log(0.125 / w) for w in weights)  # 1.59 nats
    estimate = kl_exact(get_target("ring8"), NO_SAMPLES, seed=3, model=RingMixture(weights))
    # the paired estimate of a mixture with the target's own components is exact but for which
    # mode each draw comes from: a binomial count of mode 0's draws, ± 0.33 per cent of them
    spread = math.log(0.125 / 1e-6) * math.sqrt(0.125 * 0.875 / NUM_REFERENCE)
    assert estimate == pytest.approx(expected, abs=4 * spread)
    assert kl_exact(get_target("ring8"), NO_SAMPLES, seed=3, model=RingMixture((0.125,) * 8)) == (
        pytest.approx(0.0, abs=1e-12)
    )


@dataclass
class UniformSquare:
    """q uniform on [0, 1]²: no density at all outside it."""

    has_log_prob: bool = True
    log_prob_is_bound: bool = False

    def log_prob(self, x):
        inside = ((x >= 0) & (x <= 1)).all(axis=1)
        return np.where(inside, 0.0, -np.inf)


def test_a_model_that_gives_target_draws_no_density_scores_infinity():
    # most of the target's mass lies outside the model's support: KL(p ‖ q) = +∞
    target, square = get_target("gaussian"), UniformSquare()
    assert kl_exact(target, NO_SAMPLES, seed=0, model=square) == math.inf
    assert kl_upper(target, NO_SAMPLES, seed=0, model=square) == math.inf


def test_a_kde_is_scored_by_its_exact_density():
    # one kernel centre at the origin: the estimate is N(0, h² I), whose KL is closed-form
    kde = KDE()
    kde._restore({"points_": np.zeros((1, 2)), "bandwidth_": np.array(1.3)})
    assert kde.has_log_prob and not kde.log_prob_is_bound
    target = get_target("gaussian")
    reference = target.sample(NUM_REFERENCE, seed=0)
    spread = np.std(target.log_prob(reference) - kde.log_prob(reference))
    estimate = kl_exact(target, NO_SAMPLES, seed=4, model=kde)
    assert estimate == pytest.approx(closed_form_kl((0, 0), 1.3), abs=4 * spread / 100)
    assert math.isnan(kl_elbo(target, NO_SAMPLES, seed=4, model=kde))  # no ELBO to bound with


def test_the_vae_s_elbo_bounds_the_kl_more_loosely_than_its_importance_weighted_bound():
    target = get_target("eight_gaussians")
    vae = VAE(latent_dim=2, width=16, depth=1, log_prob_samples=16).fit(target, 300, seed=0)
    upper = kl_upper(target, NO_SAMPLES, seed=0, model=vae)
    elbo = kl_elbo(target, NO_SAMPLES, seed=0, model=vae)
    assert math.isnan(kl_exact(target, NO_SAMPLES, seed=0, model=vae))
    # on the same draws the importance-weighted bound is, point by point, at least the ELBO
    # (the log of a mean of K weights against the mean of their logs): the KL it bounds is lower
    assert 0 < upper < elbo
    x = target.sample(500, seed=1)
    assert (vae.log_prob(x) >= vae.elbo(x) - 1e-5).all()
    # K = 1: both are the one-draw ELBO
    single = VAE(latent_dim=2, width=16, depth=1, log_prob_samples=1).fit(target, 300, seed=0)
    assert np.allclose(single.log_prob(x), single.elbo(x), atol=1e-5)


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
metrics = ["kl_exact", "kl_upper", "kl_elbo"]

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
    assert (runs.loc["vae", "kl_elbo"] >= runs.loc["vae", "kl_upper"]).all()
    assert runs.loc[["oracle", "realnvp", "gan"], "kl_elbo"].isna().all()
    assert runs.loc["gan", ["kl_exact", "kl_upper"]].isna().all().all()
    config = json.loads(runs["config"].iloc[0])
    assert config["metrics"] == ["kl_exact", "kl_upper", "kl_elbo"]

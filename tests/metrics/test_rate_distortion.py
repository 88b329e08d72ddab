"""A VAE's rate and distortion: the closed form for a planted encoder and decoder, the two
terms of its ELBO, moved as β says, NaN for other families, and diagnostics that nothing ranks
or judges."""

import math

import numpy as np
import pytest
import torch

from genbench.compare import compare
from genbench.leaderboard import leaderboard
from genbench.metrics.base import Metric
from genbench.metrics.rate_distortion import NUM_POINTS, distortion, rate
from genbench.models.oracle import Oracle
from genbench.models.vae import VAE
from genbench.registry import metrics
from genbench.targets import get_target

NO_SAMPLES = np.zeros((0, 2))  # these metrics read the model, never its samples
SMALL = dict(width=32, depth=2, lr=3e-3)


def zero_last_layer(network: torch.nn.Module) -> None:
    last = [m for m in network.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()


def test_a_code_that_is_the_prior_has_no_rate_and_the_closed_form_distortion():
    # q(z | x) = N(0, I) carries nothing: rate 0. A decoder of mean 0 and log σ² ≈ 0 makes
    # p(x | z) = N(0, I) in standardised units: distortion log 2π + E‖x̃‖²/2 + 2 log s.
    target = get_target("gaussian")
    model = VAE(latent_dim=3, **SMALL).fit(target, 2, 0)
    zero_last_layer(model.encoder_)
    zero_last_layer(model.decoder_)
    log_var = model.min_log_var + math.log1p(math.exp(-model.min_log_var))  # softplus at 0
    points = target.sample(NUM_POINTS, seed=7)
    standardised = model.standardizer_(torch.as_tensor(points, dtype=torch.float32)).numpy()
    expected = (
        math.log(2 * math.pi)
        + log_var
        + 0.5 * (standardised**2).sum(axis=1).mean() * math.exp(-log_var)
        - float(model.standardizer_.log_abs_det())
    )
    got_rate, got_distortion = model.rate_distortion(points, seed=0)
    assert got_rate == pytest.approx(0.0, abs=1e-6)
    assert got_distortion == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope="module")
def trained() -> dict[float, VAE]:
    target = get_target("eight_gaussians")
    return {beta: VAE(latent_dim=2, beta=beta, **SMALL).fit(target, 400, 0) for beta in (0.1, 4)}


def test_rate_plus_distortion_is_the_negative_elbo(trained):
    model = trained[4]
    target = get_target("eight_gaussians")
    points = target.sample(NUM_POINTS, seed=3)
    elbo = VAE(**{**model.params(), "log_prob_samples": 1})  # log_prob with K = 1: the ELBO
    elbo.encoder_, elbo.decoder_, elbo.standardizer_ = (
        model.encoder_, model.decoder_, model.standardizer_,
    )  # fmt: skip
    got_rate, got_distortion = model.rate_distortion(points, seed=0)
    assert -(got_rate + got_distortion) == pytest.approx(elbo.log_prob(points).mean(), abs=0.05)


def test_a_larger_beta_buys_a_lower_rate_at_a_higher_distortion(trained):
    target = get_target("eight_gaussians")
    low, high = (
        (rate(target, NO_SAMPLES, model=model), distortion(target, NO_SAMPLES, model=model))
        for model in (trained[0.1], trained[4])
    )
    assert low[0] > 2 * high[0]  # β = 0.1 carries more about x …
    assert low[1] < high[1] - 0.2  # … and reconstructs it better


def test_other_families_have_neither():
    target = get_target("spiral")
    oracle = Oracle().fit(target, 0, 0)
    assert math.isnan(rate(target, NO_SAMPLES, model=oracle))
    assert math.isnan(distortion(target, NO_SAMPLES, model=oracle))


def test_diagnostics_are_neither_ranked_nor_judged():
    assert metrics.get("rate").diagnostic and metrics.get("distortion").diagnostic
    with pytest.raises(ValueError, match="diagnostic"):
        metrics.get("rate").improvement(1.0, 2.0)
    with pytest.raises(ValueError, match="cannot rank"):
        Metric("bad", lambda *a, **k: 0.0, None, "d", "l", "s", ranks=True)
    import pandas as pd

    runs = pd.DataFrame(
        {
            "target": "spiral", "model": "vae", "latent_dim": 2, "steps": 10,
            "seed": [0, 1, 2, 0, 1, 2], "status": "ok", "train_seconds": 1.0,
            "samples_per_second": 1.0, "target_fingerprint": "x",
            "kl_forward": [0.5, 0.6, 0.55, 0.5, 0.6, 0.55],
            "rate": [1.0, 1.1, 1.2, 9.0, 9.1, 9.2],
        }
    )  # fmt: skip
    old, new = runs.iloc[:3], runs.iloc[3:]
    board = leaderboard(old)
    assert "rate_mean" in board.columns and "rate_rank" not in board.columns
    changes = compare(old, new).changes
    assert "rate" not in set(changes["metric"]) and "kl_forward" in set(changes["metric"])

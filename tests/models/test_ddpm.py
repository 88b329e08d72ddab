"""DDPM: the article's schedule, and samplers that are exact given the exact noise predictor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genbench.models.ddpm import DDPM, sinusoidal_embedding
from genbench.targets import get_target
from tests.models.tiny import tiny_model


def test_linear_schedule_endpoints():
    model = DDPM()
    model._build()
    assert model.num_timesteps == 1000
    assert len(model.betas) == 1000
    assert model.betas[0].item() == pytest.approx(1e-4)
    assert model.betas[-1].item() == pytest.approx(0.02)
    assert torch.all(torch.diff(model.betas) > 0)
    assert torch.all(torch.diff(model.alpha_bars) < 0)
    assert model.alpha_bars[-1].item() < 1e-4  # x_T is pure noise to within 1 %


def test_sinusoidal_embedding():
    embedding = sinusoidal_embedding(torch.tensor([0, 1, 999]), 16)
    assert embedding.shape == (3, 16)
    torch.testing.assert_close(embedding[0], torch.cat([torch.zeros(8), torch.ones(8)]))
    assert embedding[1, 0].item() == pytest.approx(math.sin(1.0))  # fastest frequency: 1 rad/step
    assert not torch.allclose(embedding[1], embedding[2])


def exact_noise_predictor(model: DDPM, mean: torch.Tensor, std: float):
    """E[ε | x_t] for data N(``mean``, ``std``²I): x_t ~ N(√ᾱ μ, (ᾱ s² + 1 − ᾱ) I), so
    E[ε | x_t] = √(1 − ᾱ) (x_t − √ᾱ μ) / (ᾱ s² + 1 − ᾱ)."""
    alpha_bars = model.alpha_bars.float()

    def predict(x_t, t):
        alpha_bar = alpha_bars[t, None]
        variance = alpha_bar * std**2 + 1 - alpha_bar
        return (1 - alpha_bar).sqrt() * (x_t - alpha_bar.sqrt() * mean) / variance

    return predict


MEAN, STD = torch.tensor([1.0, -0.5]), 0.5  # the Gaussian data of the exact-predictor tests


def exact_draws(sampler: str, steps: int, count: int) -> np.ndarray:
    """``count`` samples of N(MEAN, STD²I) data's exact noise predictor, from seed 0 (so the
    same x_T for every sampler and step count)."""
    model = DDPM(sampler=sampler, sampling_steps=steps)
    model._build()
    model._predict_noise = exact_noise_predictor(model, MEAN, STD)
    return model.sample(count, seed=0)


@pytest.mark.parametrize("sampler", ["ancestral", "ddim", "dpm_solver", "dpm_solver_sde"])
def test_samplers_are_exact_with_the_exact_noise_predictor(sampler):
    # With the exact E[ε | x_t] in place of the network every sampler must return N(μ, s²I).
    # (DDIM is a first-order solver of an ODE: with the default 50 steps it shrinks s by about
    # 6 %, with 250 by 1 %.)
    x = exact_draws(sampler, 250, 20_000)
    np.testing.assert_allclose(x.mean(0), MEAN.numpy(), atol=0.02)
    np.testing.assert_allclose(x.std(0), [STD, STD], atol=0.02)


def test_dpm_solver_is_second_order_where_ddim_is_first():
    # With the exact noise predictor of N(μ, s²I) data, each solver's error is measured
    # against the ODE's solution from the same x_T (DPM-Solver on all 1,000 steps, whose own
    # error is far below these), so no Monte Carlo noise enters. Halving a second-order
    # solver's steps multiplies its error by about 4 (a first-order one's by 2); at 50 steps
    # DPM-Solver++(2M) must be far closer than DDIM.
    exact = exact_draws("dpm_solver", 1000, 2_000)
    errors = {
        (sampler, steps): np.abs(exact_draws(sampler, steps, 2_000) - exact).max()
        for sampler, steps in [("ddim", 50), ("dpm_solver", 25), ("dpm_solver", 50)]
    }
    assert errors["dpm_solver", 25] / errors["dpm_solver", 50] > 3
    assert errors["dpm_solver", 50] < errors["ddim", 50] / 5


def test_sde_solver_is_accurate_in_its_default_50_steps():
    # The SDE's solution is N(μ, s²I) exactly; with the exact noise predictor and 50 steps
    # SDE-DPM-Solver++(2M) gives s to within about 1 % (DDIM's 50 shrink it by 6 %; asserted:
    # 1.5 %). 200,000 points put the Monte Carlo error of each std near 0.16 %, of each mean
    # near 0.1 % of s.
    x = exact_draws("dpm_solver_sde", 50, 200_000)
    np.testing.assert_allclose(x.mean(0), MEAN.numpy(), atol=0.005)
    np.testing.assert_allclose(x.std(0), [STD, STD], rtol=0.015)


def test_sde_solver_draws_fresh_noise_on_every_step():
    # Same seed, same samples; but unlike the ODE solvers, the samples are not a function of
    # x_T alone: the SDE's paths from one x_T spread out.
    model = DDPM(width=16, depth=1, time_embedding_dim=8, sampler="dpm_solver_sde")
    model._build(seed=1)
    np.testing.assert_array_equal(model.sample(500, seed=3), model.sample(500, seed=3))
    with torch.inference_mode():
        ode = model._solve(500, torch.Generator().manual_seed(0), second_order=True)
        sde = model._solve(500, torch.Generator().manual_seed(0), True, stochastic=True)
    assert (ode - sde).abs().mean() > 0.01


def test_dpm_solver_steps_are_evenly_spaced_in_log_snr():
    model = DDPM(sampler="dpm_solver", sampling_steps=50)
    model._build()
    alpha_bars = model.alpha_bars[model._ode_timesteps("lambda")]
    gaps = np.diff(0.5 * np.log((alpha_bars / (1 - alpha_bars)).numpy()))
    even = (gaps.sum()) / len(gaps)
    # integer timesteps cannot follow λ near t = 0, where it changes fastest: the last few
    # steps are t = 5 … 0; everywhere else the gaps are within 10 % of even
    np.testing.assert_allclose(gaps[:35], even, rtol=0.1)


@pytest.mark.parametrize("steps", [1, 2, 3, 50, 999, 1000])
@pytest.mark.parametrize("uniform_in", ["time", "lambda"])
def test_ode_timesteps_are_distinct_and_run_from_T_to_0(steps, uniform_in):
    model = DDPM(sampling_steps=steps)
    model._build()
    grid = model._ode_timesteps(uniform_in)
    assert len(grid) == steps
    assert grid[0] == 999
    assert np.all(np.diff(grid) < 0)  # distinct, from high noise to low
    if steps > 1:
        assert grid[-1] == 0


@pytest.mark.parametrize("sampler", ["ddim", "dpm_solver", "dpm_solver_sde"])
def test_one_step_is_the_x0_prediction(sampler):
    # x̂_0 = (x_T − √(1 − ᾱ_T) ε_θ(x_T, T)) / √ᾱ_T, from the same x_T the sampler draws.
    model = DDPM(width=16, depth=1, time_embedding_dim=8, sampler=sampler, sampling_steps=1)
    model._build(seed=1)
    x_T = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        eps = model._predict_noise(x_T, torch.full((100,), model.num_timesteps - 1))
        sampled = model._solve(
            100,
            torch.Generator().manual_seed(0),
            second_order=sampler != "ddim",
            stochastic=sampler == "dpm_solver_sde",
        )
    alpha_bar = model.alpha_bars[-1].item()
    expected = (x_T - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)
    torch.testing.assert_close(sampled, expected)


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="sampler"):
        DDPM(sampler="euler")
    with pytest.raises(ValueError, match="sampling_steps"):
        DDPM(sampling_steps=0)


def test_ema_weights_are_the_moving_average_of_the_trained_ones():
    """With decay d the sampled weights after two steps are d·w₁ + (1 − d)·w₂, where w₁ and w₂
    are the trained weights after steps 1 and 2 (the average starts at w₁)."""
    model = tiny_model("ddpm", ema_decay=0.9)
    trained: list[list[torch.Tensor]] = []

    def snapshot(step, loss):  # during fit the network holds the trained (not averaged) weights
        trained.append([p.detach().clone() for p in model.network_.parameters()])

    model.fit(get_target("eight_gaussians"), 2, seed=0, progress=snapshot)
    assert len(trained) == 2
    for w1, w2, averaged in zip(*trained, model.network_.parameters(), strict=True):
        torch.testing.assert_close(averaged, 0.9 * w1 + 0.1 * w2)
        assert not torch.equal(averaged, w2)

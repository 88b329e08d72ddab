"""DDPM: the article's schedule, samplers that are exact given the exact noise predictor, and
samplers selected by name."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genbench.models.ddpm import DDPM
from genbench.models.diffusion_samplers import (
    SAMPLERS,
    Denoiser,
    NoiseSchedule,
    Sampler,
    sample_ddim,
    sample_dpmpp_2m,
    sample_dpmpp_2m_sde,
    timesteps_even_in_log_snr,
    timesteps_even_in_time,
)
from genbench.models.nn import sinusoidal_embedding
from genbench.targets import get_target
from tests.models.tiny import tiny_fit, tiny_model

SCHEDULE = NoiseSchedule.linear(1e-4, 0.02, 1000, "cpu")  # the adapter's default, T = 1,000


def test_linear_schedule_endpoints():
    model = DDPM()
    model._build()
    schedule = model.schedule
    assert schedule.num_timesteps == model.num_timesteps == 1000
    assert schedule.betas.shape == schedule.alpha_bars.shape == (1000,)
    assert schedule.betas[0].item() == pytest.approx(1e-4)
    assert schedule.betas[-1].item() == pytest.approx(0.02)
    assert torch.all(torch.diff(schedule.betas) > 0)
    assert torch.all(torch.diff(schedule.alpha_bars) < 0)
    assert schedule.alpha_bars[-1].item() < 1e-4  # x_T is pure noise to within 1 %


def test_sinusoidal_embedding():
    embedding = sinusoidal_embedding(torch.tensor([0, 1, 999]), 16)
    assert embedding.shape == (3, 16)
    torch.testing.assert_close(embedding[0], torch.cat([torch.zeros(8), torch.ones(8)]))
    assert embedding[1, 0].item() == pytest.approx(math.sin(1.0))  # fastest frequency: 1 rad/step
    assert not torch.allclose(embedding[1], embedding[2])


def exact_noise_predictor(schedule: NoiseSchedule, mean: torch.Tensor, std: float) -> Denoiser:
    """E[ε | x_t] for data N(``mean``, ``std``²I): x_t ~ N(√ᾱ μ, (ᾱ s² + 1 − ᾱ) I), so
    E[ε | x_t] = √(1 − ᾱ) (x_t − √ᾱ μ) / (ᾱ s² + 1 − ᾱ)."""
    alpha_bars = schedule.alpha_bars.float()

    def predict(x_t: torch.Tensor, t: int) -> torch.Tensor:
        alpha_bar = alpha_bars[t, None]
        variance = alpha_bar * std**2 + 1 - alpha_bar
        return (1 - alpha_bar).sqrt() * (x_t - alpha_bar.sqrt() * mean) / variance

    return predict


MEAN, STD = torch.tensor([1.0, -0.5]), 0.5  # the Gaussian data of the exact-predictor tests


def exact_draws(sampler: Sampler, steps: int, count: int, seed: int = 1) -> np.ndarray:
    """``count`` samples by ``sampler`` with N(MEAN, STD²I) data's exact noise predictor, from
    the same x_T for every sampler and step count; stochastic samplers' noise from ``seed``."""
    x_T = torch.randn(count, 2, generator=torch.Generator().manual_seed(0))
    denoiser = exact_noise_predictor(SCHEDULE, MEAN, STD)
    rng = torch.Generator().manual_seed(seed)
    return sampler(denoiser, x_T, SCHEDULE, rng, steps=steps).numpy()


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samplers_are_exact_with_the_exact_noise_predictor(name):
    # With the exact E[ε | x_t] in place of the network every sampler must return N(μ, s²I).
    # (DDIM is a first-order solver of an ODE: with the default 50 steps it shrinks s by about
    # 6 %, with 250 by 1 %.)
    x = exact_draws(SAMPLERS[name], 250, 20_000)
    np.testing.assert_allclose(x.mean(0), MEAN.numpy(), atol=0.02)
    np.testing.assert_allclose(x.std(0), [STD, STD], atol=0.02)


def test_dpm_solver_is_second_order_where_ddim_is_first():
    # With the exact noise predictor of N(μ, s²I) data, each solver's error is measured
    # against the ODE's solution from the same x_T (DPM-Solver on all 1,000 steps, whose own
    # error is far below these), so no Monte Carlo noise enters. Halving a second-order
    # solver's steps multiplies its error by about 4 (a first-order one's by 2); at 50 steps
    # DPM-Solver++(2M) must be far closer than DDIM.
    exact = exact_draws(sample_dpmpp_2m, 1000, 2_000)
    errors = {
        (sampler, steps): np.abs(exact_draws(sampler, steps, 2_000) - exact).max()
        for sampler, steps in [(sample_ddim, 50), (sample_dpmpp_2m, 25), (sample_dpmpp_2m, 50)]
    }
    assert errors[sample_dpmpp_2m, 25] / errors[sample_dpmpp_2m, 50] > 3
    assert errors[sample_dpmpp_2m, 50] < errors[sample_ddim, 50] / 5


def test_sde_solver_is_accurate_in_its_default_50_steps():
    # The SDE's solution is N(μ, s²I) exactly; with the exact noise predictor and 50 steps
    # SDE-DPM-Solver++(2M) gives s to within about 1 % (DDIM's 50 shrink it by 6 %; asserted:
    # 1.5 %). 200,000 points put the Monte Carlo error of each std near 0.16 %, of each mean
    # near 0.1 % of s.
    x = exact_draws(sample_dpmpp_2m_sde, 50, 200_000)
    np.testing.assert_allclose(x.mean(0), MEAN.numpy(), atol=0.005)
    np.testing.assert_allclose(x.std(0), [STD, STD], rtol=0.015)


def test_sde_solver_draws_fresh_noise_on_every_step():
    # Same generator seed, same samples; but unlike the ODE solver's, the samples are not a
    # function of x_T alone: the SDE's paths from one x_T spread out.
    sde = exact_draws(sample_dpmpp_2m_sde, 50, 500, seed=3)
    np.testing.assert_array_equal(sde, exact_draws(sample_dpmpp_2m_sde, 50, 500, seed=3))
    assert np.abs(sde - exact_draws(sample_dpmpp_2m_sde, 50, 500, seed=4)).mean() > 0.01
    assert np.abs(sde - exact_draws(sample_dpmpp_2m, 50, 500)).mean() > 0.01
    # and through the adapter, with a network: the same seed gives the same samples
    model = tiny_model("ddpm", sampler="dpm_solver_sde")
    model._build(seed=1)
    np.testing.assert_array_equal(model.sample(500, seed=3), model.sample(500, seed=3))


def test_dpm_solver_steps_are_evenly_spaced_in_log_snr():
    alpha_bars = SCHEDULE.alpha_bars[timesteps_even_in_log_snr(SCHEDULE, 50)]
    gaps = np.diff(0.5 * np.log((alpha_bars / (1 - alpha_bars)).numpy()))
    even = (gaps.sum()) / len(gaps)
    # integer timesteps cannot follow λ near t = 0, where it changes fastest: the last few
    # steps are t = 5 … 0; everywhere else the gaps are within 10 % of even
    np.testing.assert_allclose(gaps[:35], even, rtol=0.1)


@pytest.mark.parametrize("steps", [1, 2, 3, 50, 999, 1000])
@pytest.mark.parametrize("timesteps", [timesteps_even_in_time, timesteps_even_in_log_snr])
def test_timesteps_are_distinct_and_run_from_T_to_0(steps, timesteps):
    grid = timesteps(SCHEDULE, steps)
    assert len(grid) == steps
    assert grid[0] == 999
    assert np.all(np.diff(grid) < 0)  # distinct, from high noise to low
    if steps > 1:
        assert grid[-1] == 0


@pytest.mark.parametrize("steps", [0, 1001])
@pytest.mark.parametrize("timesteps", [timesteps_even_in_time, timesteps_even_in_log_snr])
def test_timesteps_reject_a_count_outside_1_to_T(steps, timesteps):
    with pytest.raises(ValueError, match=r"steps must be in \[1, T = 1000\]"):
        timesteps(SCHEDULE, steps)


@pytest.mark.parametrize("sampler", [sample_ddim, sample_dpmpp_2m, sample_dpmpp_2m_sde])
def test_one_step_is_the_x0_prediction(sampler):
    # x̂_0 = (x_T − √(1 − ᾱ_T) ε_θ(x_T, T)) / √ᾱ_T, with the adapter's network as ε_θ.
    model = tiny_model("ddpm", num_timesteps=1000)
    model._build(seed=1)
    x_T = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    rng = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        sampled = sampler(model._predict_noise, x_T, model.schedule, rng, steps=1)
        eps = model._predict_noise(x_T, model.num_timesteps - 1)
    alpha_bar = model.schedule.alpha_bars[-1].item()
    expected = (x_T - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)
    torch.testing.assert_close(sampled, expected)


def test_a_sampler_added_to_the_mapping_is_selected_by_name(monkeypatch):
    # Adding a sampler is adding a function to SAMPLERS: the adapter's ``sampler``
    # hyperparameter then selects it, and it receives x_T ~ N(0, I₂), the model's schedule
    # and ``sampling_steps``; what it returns is in standardised units.
    calls = []

    def sample_prior(denoiser, x, schedule, generator, *, steps):
        """x_T itself, moved by ``steps`` in each coordinate: no denoising at all."""
        calls.append((schedule, steps, len(x)))
        return x + steps

    monkeypatch.setitem(SAMPLERS, "prior", sample_prior)
    model = tiny_fit("ddpm", sampler="prior", sampling_steps=7)
    x = model.sample(4_000, seed=0)
    assert calls == [(model.schedule, 7, 4_000)]
    scale, mean = model.standardizer_.scale.item(), model.standardizer_.mean.numpy()
    standardized = (x - mean) / scale
    np.testing.assert_allclose(standardized.mean(0), [7, 7], atol=0.1)  # Monte Carlo error 0.016
    np.testing.assert_allclose(standardized.std(0), [1, 1], atol=0.1)


def test_an_unknown_sampler_is_rejected_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown sampler 'euler'") as error:
        DDPM(sampler="euler")
    assert all(repr(name) in str(error.value) for name in SAMPLERS)
    # a trained model's sampler can be set afterwards (the runner does): sample checks it
    model = tiny_fit("ddpm")
    model.sampler = "euler"
    with pytest.raises(ValueError, match="unknown sampler 'euler'") as error:
        model.sample(10, seed=0)
    assert all(repr(name) in str(error.value) for name in SAMPLERS)


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="sampling_steps"):
        DDPM(sampling_steps=0)
    with pytest.raises(ValueError, match="sampling_steps"):
        DDPM(num_timesteps=50, sampling_steps=51)


def test_ema_weights_are_the_moving_average_of_the_trained_ones():
    """The sampled weights average the initial weights w₀ and the trained ones after each step,
    with the decay warmed up: after step n it is min(d, (1 + n) / (10 + n))."""
    model = tiny_model("ddpm", ema_decay=0.9)
    initial = tiny_model("ddpm", ema_decay=0.9)
    initial._build(seed=0)
    trained: list[list[torch.Tensor]] = []

    def snapshot(step, loss):  # during fit the network holds the trained (not averaged) weights
        trained.append([p.detach().clone() for p in model.network_.parameters()])

    model.fit(get_target("eight_gaussians"), 2, seed=0, progress=snapshot)
    assert len(trained) == 2
    first, second = min(0.9, 2 / 11), min(0.9, 3 / 12)
    for w0, w1, w2, averaged in zip(
        initial.network_.parameters(), *trained, model.network_.parameters(), strict=True
    ):
        expected = second * (first * w0 + (1 - first) * w1) + (1 - second) * w2
        torch.testing.assert_close(averaged, expected)
        assert not torch.equal(averaged, w2)

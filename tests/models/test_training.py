"""The training recipe the families share: standardised data, input features, a warm-up and
cosine learning-rate schedule, and weight averaging."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from genbench.models import get_model_class
from genbench.models.nn import (
    STANDARDIZE_DRAWS,
    Standardizer,
    WeightAverage,
    fourier_features,
    warmup_cosine,
)
from genbench.registry import models
from genbench.targets import get_target
from genbench.targets.spiral import Spiral
from tests.models.tiny import TINY_STEPS, tiny_model

STANDARDIZING = [
    name for name in models.available() if "standardize" in get_model_class(name)().params()
]


@dataclass(frozen=True)
class SpiralInMillimetres(Spiral):
    """The spiral drawn in other units and elsewhere: 1,000 x + (5,000, −3,000)."""

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        return super()._sample(rng, num_samples) * 1000 + np.array([5000.0, -3000.0])


def test_standardizer_centres_and_scales_the_target_by_one_factor():
    target = get_target("spiral")
    standardizer = Standardizer.of_target(target)
    draws = torch.as_tensor(target.sample(STANDARDIZE_DRAWS, 7), dtype=torch.float32)
    standardized = standardizer(draws)
    torch.testing.assert_close(standardized.mean(0), torch.zeros(2), atol=0.02, rtol=0)
    assert standardized.pow(2).mean().sqrt().item() == pytest.approx(1, abs=0.01)
    # one scale for both coordinates: the shape is kept
    ratio = draws.std(0) / standardized.std(0)
    assert ratio[0].item() == pytest.approx(ratio[1].item(), rel=1e-5)
    torch.testing.assert_close(standardizer.inverse(standardized), draws, atol=1e-5, rtol=1e-5)
    assert standardizer.log_abs_det().item() == pytest.approx(-2 * np.log(0.397), abs=0.01)


def test_a_stacked_standardizer_applies_each_models_own():
    first = Standardizer.of_target(get_target("spiral"))
    second = Standardizer.of_target(get_target("eight_gaussians"))
    stacked = Standardizer.stacked([first, second], single=False)
    x = torch.randn(2, 5, 2)
    torch.testing.assert_close(stacked(x), torch.stack([first(x[0]), second(x[1])]))
    assert stacked.log_abs_det().shape == (2, 1)
    assert Standardizer.stacked([first], single=True) is first


@pytest.mark.parametrize("name", STANDARDIZING)
def test_a_standardizing_family_learns_the_same_in_any_units(name):
    """Trained on the spiral in millimetres and shifted, a model draws what it draws on the
    spiral itself, in those units: the learning does not depend on the target's units."""
    millimetres = SpiralInMillimetres()
    plain = tiny_model(name, standardize=True).fit(get_target("spiral"), TINY_STEPS, 0)
    scaled = tiny_model(name, standardize=True).fit(millimetres, TINY_STEPS, 0)
    offset = (
        Standardizer.of_target(millimetres).mean.numpy()
        - 1000 * Standardizer.of_target(get_target("spiral")).mean.numpy()
    )
    np.testing.assert_allclose(
        (scaled.sample(500, 1) - offset) / 1000, plain.sample(500, 1), atol=2e-3
    )


def test_fourier_features_keep_the_input_and_add_sines_and_cosines():
    x = torch.tensor([[0.5, -1.0]])
    features = fourier_features(x, 3, 8.0)
    assert features.shape == (1, 2 * (1 + 2 * 3))
    torch.testing.assert_close(features[:, :2], x)
    frequencies = 8.0 * torch.exp(-np.log(10_000.0) * torch.arange(3) / 3)
    angles = torch.cat([0.5 * frequencies, -1.0 * frequencies])
    torch.testing.assert_close(features[0, 2:], torch.cat([angles.sin(), angles.cos()]))
    assert fourier_features(x, 0, 8.0) is x
    assert fourier_features(torch.zeros(4, 3, 2), 5, 1.0).shape == (4, 3, 22)


def rates(steps: int, warmup: int, final: float) -> list[float]:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=2.0)
    schedule = warmup_cosine(optimizer, steps, warmup, final)
    seen = []
    for _ in range(steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return seen


def test_learning_rate_warms_up_then_decays_to_its_final_fraction():
    seen = rates(1000, warmup=100, final=0.1)
    assert seen[0] == pytest.approx(2.0 / 100)
    assert seen[99] == pytest.approx(2.0)
    assert max(seen) == pytest.approx(2.0)
    assert np.all(np.diff(seen[99:]) <= 1e-12)  # never rises again
    assert seen[-1] == pytest.approx(0.2, rel=1e-3)


def test_warmup_is_at_most_a_tenth_of_a_short_run_and_final_one_is_constant():
    assert rates(50, warmup=100, final=0.1)[5] == pytest.approx(2.0)
    assert rates(50, warmup=0, final=1.0) == [2.0] * 50


def test_weight_average_warms_up_its_decay():
    network = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        network.weight.fill_(0.0)
    average = WeightAverage(network, decay=0.9)
    for value in (1.0, 2.0, 3.0):
        with torch.no_grad():
            network.weight.fill_(value)
        average.update()
    expected = 0.0
    for n, value in enumerate((1.0, 2.0, 3.0), start=1):
        decay = min(0.9, (1 + n) / (10 + n))
        expected = decay * expected + (1 - decay) * value
    average.copy_to_network()
    assert network.weight.item() == pytest.approx(expected)


def test_weight_average_of_zero_decay_leaves_the_network_alone():
    network = torch.nn.Linear(2, 2)
    before = [p.detach().clone() for p in network.parameters()]
    average = WeightAverage(network, decay=0.0)
    average.update()
    average.copy_to_network()
    for old, new in zip(before, network.parameters(), strict=True):
        assert torch.equal(old, new)
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(network, decay=1.0)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("warmup_steps", -1), ("final_lr", 0.0), ("final_lr", 1.5), ("ema_decay", 1.0)],
)
@pytest.mark.parametrize("name", STANDARDIZING)
def test_schedule_settings_out_of_range_are_refused_at_construction(name, setting, value):
    with pytest.raises(ValueError, match=setting):
        get_model_class(name)(**{setting: value})


def test_vae_kl_warmup_is_a_fraction_of_the_run():
    with pytest.raises(ValueError, match="kl_warmup"):
        get_model_class("vae")(kl_warmup=2.0)

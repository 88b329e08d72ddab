"""The PacGAN family follows the paper's 2-D protocol: architecture, packing, optimisers, and
a GAN that learns; and the ``pacgan`` preset describes that experiment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from genbench.config import load_preset
from genbench.models.nn import evaluating, target_batches
from genbench.models.pacgan import Maxout, PacGAN, packed
from genbench.plan import expand, group, validate
from genbench.registry import metrics, targets
from genbench.targets import get_target
from genbench.targets.gaussian import Gaussian

PRESET = Path(__file__).parents[2] / "genbench" / "presets" / "pacgan.toml"
# Narrow networks that train in a fraction of a second, for the tests of the training loop.
SMALL = dict(generator_width=16, generator_depth=2, discriminator_width=16, discriminator_depth=2)


def layers(network: nn.Sequential) -> list[tuple]:
    """Each layer as (kind, sizes...), in order."""
    described: list[tuple] = []
    for layer in network:
        if isinstance(layer, nn.Linear):
            described.append(("linear", layer.in_features, layer.out_features))
        elif isinstance(layer, nn.BatchNorm1d):
            described.append(("batchnorm", layer.num_features))
        elif isinstance(layer, Maxout):
            linear = layer.linear
            described.append(("maxout", linear.in_features, layer.out_features, layer.pieces))
            assert linear.out_features == layer.out_features * layer.pieces
        else:
            described.append((type(layer).__name__.lower(),))
    return described


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_default_architecture_is_the_papers(pack):
    model = PacGAN(pack=pack)
    model._build()
    assert layers(model.generator_) == [
        ("linear", 2, 400), ("batchnorm", 400), ("relu",),
        *[("linear", 400, 400), ("batchnorm", 400), ("relu",)] * 3,
        ("linear", 400, 2),
    ]  # fmt: skip
    assert layers(model.discriminator_) == [
        ("maxout", 2 * pack, 200, 5),  # D reads `pack` points as one vector
        ("maxout", 200, 200, 5),
        ("maxout", 200, 200, 5),
        ("linear", 200, 1),
    ]


def test_init_is_the_papers():
    """Weights N(0, 0.02²), biases 0; G's hidden layers have no bias (BatchNorm's shift is)."""
    model = PacGAN()
    model._build(seed=3)
    linears = [
        layer
        for network in (model.generator_, model.discriminator_)
        for layer in network.modules()
        if isinstance(layer, nn.Linear)
    ]
    for layer in linears:
        if layer.bias is not None:
            assert torch.count_nonzero(layer.bias) == 0
    generator_linears = [layer for layer in model.generator_ if isinstance(layer, nn.Linear)]
    assert [layer.bias is None for layer in generator_linears] == [True] * 4 + [False]
    weights = torch.cat([layer.weight.flatten() for layer in linears])
    assert weights.mean().item() == pytest.approx(0, abs=1e-3)
    assert weights.std().item() == pytest.approx(0.02, rel=0.01)


def test_maxout_takes_the_largest_of_its_pieces():
    """Unit j's pieces are columns j·k … j·k + k − 1 of the linear layer."""
    maxout = Maxout(1, 2, pieces=3)
    with torch.no_grad():
        maxout.linear.weight.copy_(torch.tensor([[1.0], [2.0], [-1.0], [0.0], [0.0], [0.0]]))
        maxout.linear.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0, -1.0, 0.5]))
    x = torch.tensor([[3.0], [-2.0], [0.0]])
    expected = torch.tensor([[6.0, 1.0], [2.0, 1.0], [0.0, 1.0]])  # max(x, 2x, −x), max(1, −1, ½)
    torch.testing.assert_close(maxout(x), expected)


def test_packing_concatenates_consecutive_points():
    x = torch.arange(12.0).view(6, 2)  # points (0, 1), (2, 3), …, (10, 11)
    torch.testing.assert_close(packed(x, 1), x)
    torch.testing.assert_close(
        packed(x, 3), torch.tensor([[0.0, 1, 2, 3, 4, 5], [6.0, 7, 8, 9, 10, 11]])
    )
    with pytest.raises(ValueError, match="groups of 4"):
        packed(x, 4)


def test_d_judges_packs_of_target_draws_then_packs_of_fakes(monkeypatch):
    """One step of PacGAN2 with a batch of 8: D's step sees the 4 pairs of the step's target
    draws and the 4 pairs of G's 8 points; G's step sees the same 4 fake pairs again."""
    seen: dict[str, list[torch.Tensor]] = {"generator": [], "discriminator": []}
    build = PacGAN._build

    def build_with_hooks(self, seed=0):
        build(self, seed)
        for name in seen:
            getattr(self, f"{name}_").register_forward_hook(
                lambda m, i, o, name=name: seen[name].append(i[0].detach().clone())
            )
        self.generator_.register_forward_hook(
            lambda m, i, o: seen.setdefault("fakes", []).append(o.detach().clone())
        )

    monkeypatch.setattr(PacGAN, "_build", build_with_hooks)
    target = get_target("eight_gaussians")
    PacGAN(pack=2, batch_size=8, **SMALL).fit(target, 1, seed=4)

    (z,) = seen["generator"]
    assert z.shape == (8, 2)  # one batch of noise a step
    (fakes,) = seen["fakes"]
    d_step, g_step = seen["discriminator"]
    assert d_step.shape == (8, 4) and g_step.shape == (4, 4)
    real = next(target_batches(target, 8, 1, 4, "cpu"))
    torch.testing.assert_close(d_step[:4], packed(real, 2))
    torch.testing.assert_close(d_step[4:], packed(fakes, 2))
    torch.testing.assert_close(g_step, packed(fakes, 2))


def test_optimisers_are_the_papers(monkeypatch):
    adams: list[dict] = []
    real_adam = torch.optim.Adam

    def recording_adam(params, **kwargs):
        adams.append(kwargs)
        return real_adam(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    PacGAN(**SMALL).fit(get_target("gaussian"), 1, 0)
    assert [(a["lr"], a["betas"]) for a in adams] == [(1e-4, (0.8, 0.999))] * 2  # G, then D


MEAN = np.array([1.5, -1.0])
SCALE = 0.5


@dataclass(frozen=True)
class ShiftedGaussian(Gaussian):
    """N(MEAN, SCALE² I): away from G's start at 0, with a spread G must grow to."""

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        return MEAN + SCALE * rng.standard_normal((num_samples, 2))


@pytest.mark.parametrize("pack", [1, 2])
def test_learns_a_gaussians_mean_and_scale(pack):
    """A narrow GAN, trained briefly at a larger learning rate, puts its samples around the
    target's mean with about its spread (it starts as a point mass at 0)."""
    model = PacGAN(
        pack=pack,
        generator_width=32,
        generator_depth=2,
        discriminator_width=32,
        discriminator_depth=2,
        generator_lr=1e-3,
        discriminator_lr=1e-3,
        adam_beta1=0.5,
    )
    model.fit(ShiftedGaussian(), 800, seed=0)
    x = model.sample(5000, seed=0)
    assert np.linalg.norm(x.mean(0) - MEAN) < 0.3
    spread = np.sqrt(x.var(0).mean())  # root mean of the two variances
    assert 0.6 * SCALE < spread < 1.5 * SCALE


def test_training_and_sampling_are_reproducible():
    target = get_target("eight_gaussians")
    first = PacGAN(pack=2, **SMALL).fit(target, 30, seed=5)
    again = PacGAN(pack=2, **SMALL).fit(target, 30, seed=5)
    other = PacGAN(pack=2, **SMALL).fit(target, 30, seed=6)
    np.testing.assert_array_equal(first.sample(200, seed=1), again.sample(200, seed=1))
    assert not np.array_equal(first.sample(200, seed=1), other.sample(200, seed=1))
    assert not np.array_equal(first.sample(200, seed=1), first.sample(200, seed=2))


def test_sampling_uses_batchnorms_running_statistics():
    """Sampling draws each point on its own (BatchNorm in eval mode), leaves the running
    statistics alone, and puts G back in training mode for a fit still under way."""
    model = PacGAN(**SMALL).fit(get_target("eight_gaussians"), 20, seed=0)
    generator = model.generator_
    assert generator.training
    running = [buffer.clone() for buffer in generator.buffers()]
    assert model.sample(1, seed=0).shape == (1, 2)  # one point: no batch to normalise by
    model.sample(100, seed=0)
    for before, after in zip(running, generator.buffers(), strict=True):
        torch.testing.assert_close(after, before)
    assert generator.training
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), evaluating(generator):
        torch.testing.assert_close(generator(z)[:3], generator(z[:3]))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(pack=0), "pack must be a positive integer"),
        (dict(pack=-2), "pack must be a positive integer"),
        (dict(pack=1.5), "pack must be a positive integer"),
        (dict(pack=3), r"batch_size \(100\) must be a multiple of pack \(3\)"),
        (dict(pack=2, batch_size=101), r"batch_size \(101\) must be a multiple of pack \(2\)"),
        (dict(batch_size=1), "at least 2"),
        (dict(maxout_pieces=0), "maxout_pieces"),
    ],
)
def test_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        PacGAN(**settings)


def test_pack_3_with_a_batch_of_99_trains():
    model = PacGAN(pack=3, batch_size=99, **SMALL).fit(get_target("gaussian"), 2, seed=0)
    assert model.sample(10, seed=0).shape == (10, 2)


def test_the_preset_is_the_papers_experiment():
    preset = load_preset(str(PRESET))
    assert preset == load_preset("pacgan")
    assert preset.targets == ("ring8", "grid25")
    assert preset.seeds == 10 and preset.num_samples == 2500
    assert preset.metrics == ("high_quality", "modes_captured", "modes_kl")
    assert set(preset.models) == {"gan", "pacgan2"}
    for entry, pack in [("gan", 1), ("pacgan2", 2)]:
        plan = preset.models[entry]
        assert plan.family == "pacgan" and plan.params["pack"] == pack
        assert len(plan.steps) >= 2 and max(plan.steps) <= 400_000  # a trend, at most the paper's
        model = PacGAN(**plan.params)  # otherwise the paper's defaults
        # D sees 100 packed vectors per step, as in the paper's code
        assert model.batch_size // model.pack == 100 and model.generator_lr == 1e-4


def test_the_preset_trains_each_run_on_its_own():
    """BatchNorm's parameters cannot be stacked: every run of the grid is a group of one."""
    preset = load_preset(str(PRESET))
    runs = [spec for spec in expand(preset) if spec.family == "pacgan"]
    assert len(runs) == 2 * 2 * len(preset.models["gan"].steps) * 10  # targets·entries·steps·seeds
    assert {spec.latent_dim for spec in runs} == {2}
    groups = [g for g in group(runs) if g.family is PacGAN]
    assert len(groups) == len(runs) and all(len(g.runs) == 1 for g in groups)


def test_the_preset_names_registered_targets_and_metrics():
    assert {"ring8", "grid25"} <= set(targets.available())
    assert {"high_quality", "modes_captured", "modes_kl"} <= set(metrics.available())
    validate(load_preset(str(PRESET)))

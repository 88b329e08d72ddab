"""Training many models at once (``fit_many``) gives what training each alone gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from genbench.metrics import kl_forward
from genbench.models import get_model_class
from genbench.models.nn import mlp
from genbench.models.stack import clip_per_model, stack_modules, unstack_modules
from genbench.registry import models
from genbench.targets import get_target
from tests.models.tiny import TINY_STEPS, tiny_model

STACKED = [name for name in models.available() if get_model_class(name).fits_many]
TARGETS = ["gaussian", "eight_gaussians", "spiral"]


def weights(model) -> list[torch.Tensor]:
    return [
        tensor.float()
        for module in model.modules().values()
        for tensor in module.state_dict().values()
    ]


def test_the_built_in_families_all_train_stacked():
    assert {"gan", "vae", "realnvp", "ddpm"} <= set(STACKED)


def test_a_stack_computes_what_its_members_compute():
    torch.manual_seed(0)
    nets = [nn.ModuleList([mlp(2, [8, 8], 3, nn.SiLU), mlp(1, [4], 2, nn.ReLU)]) for _ in range(3)]
    stacked = stack_modules(nets)
    x, y = torch.randn(3, 5, 2), torch.randn(3, 5, 1)
    for m, net in enumerate(nets):
        torch.testing.assert_close(stacked[0](x)[m], net[0](x[m]))
        torch.testing.assert_close(stacked[1](y)[m], net[1](y[m]))
    with torch.no_grad():
        for parameter in stacked.parameters():
            parameter.add_(1.0)
    unstack_modules(stacked, nets)
    for m, net in enumerate(nets):  # the trained weights go back to each member
        torch.testing.assert_close(stacked[0](x)[m], net[0](x[m]))


def test_stacking_refuses_parameters_outside_linear_layers():
    nets = [nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)) for _ in range(2)]
    with pytest.raises(TypeError, match=r"nn\.Linear"):
        stack_modules(nets)


@pytest.mark.parametrize("name", STACKED)
def test_fit_many_matches_fit_step_for_step(name):
    """After a few steps each stacked model equals the one trained alone up to float rounding:
    the same initial weights, data, noise and optimiser state, only a batched matmul."""
    targets = [get_target(t) for t in TARGETS]
    seeds = [0, 1, 2]
    alone = [
        tiny_model(name, latent_dim=3).fit(t, 3, s) for t, s in zip(targets, seeds, strict=True)
    ]
    together = type(alone[0]).fit_many(
        [tiny_model(name, latent_dim=3) for _ in targets], targets, 3, seeds
    )
    for a, b in zip(alone, together, strict=True):
        for x, y in zip(weights(a), weights(b), strict=True):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)
        if name == "gan":  # the article's prior rule is per target: uniform on gaussian only
            assert a.prior_.kind == b.prior_.kind


@pytest.mark.parametrize("name", STACKED)
def test_a_model_does_not_depend_on_the_rest_of_its_stack(name):
    """Bit for bit: a run's result is the same in any stack, so narrowing or resuming a grid
    (which changes the stacks) never changes a number."""
    targets = [get_target(t) for t in TARGETS] * 2
    seeds = [0, 1, 2, 3, 4, 5]
    cls = get_model_class(name)
    full = cls.fit_many([tiny_model(name) for _ in targets], targets, TINY_STEPS, seeds)
    part = cls.fit_many([tiny_model(name) for _ in range(2)], targets[3:5], TINY_STEPS, seeds[3:5])
    for a, b in zip(full[3:5], part, strict=True):
        for x, y in zip(weights(a), weights(b), strict=True):
            assert torch.equal(x, y)
        np.testing.assert_array_equal(a.sample(200, seed=0), b.sample(200, seed=0))


@pytest.mark.parametrize("name", STACKED)
def test_a_diverging_model_leaves_its_stack_mates_alone(name):
    """One model fed NaN data ruins only itself."""

    class Broken:  # a target whose draws are all NaN
        name = "broken"

        def sample(self, n, seed):
            return np.full((n, 2), np.nan)

    target = get_target("eight_gaussians")
    cls = get_model_class(name)
    clean = cls.fit_many([tiny_model(name) for _ in range(2)], [target] * 2, TINY_STEPS, [0, 1])
    mixed = cls.fit_many(
        [tiny_model(name) for _ in range(3)], [target, Broken(), target], TINY_STEPS, [0, 7, 1]
    )
    assert not all(torch.isfinite(x).all() for x in weights(mixed[1]))
    for a, b in zip(clean, [mixed[0], mixed[2]], strict=True):
        for x, y in zip(weights(a), weights(b), strict=True):
            assert torch.equal(x, y)


def test_gradient_clipping_scales_each_model_of_a_stack_on_its_own():
    """Model m's gradient is clipped by its own norm, as if it trained alone."""
    torch.manual_seed(0)
    nets = [mlp(2, [8], 2, nn.SiLU) for _ in range(3)]
    stacked = stack_modules(nets)
    loss_scales = torch.tensor([1e-3, 1.0, 1e3])  # per model
    (stacked(torch.randn(3, 16, 2)).pow(2).sum((1, 2)) * loss_scales).sum().backward()
    before = [[p.grad[m].clone() for p in stacked.parameters()] for m in range(3)]
    norms = [torch.cat([g.flatten() for g in grads]).norm() for grads in before]
    assert norms[0] < 1 < norms[2]  # one model under the limit, one far over it
    clip_per_model(torch.optim.SGD(stacked.parameters()), 1.0, single=False)
    for m in range(3):
        after = [p.grad[m] for p in stacked.parameters()]
        expected = min(1.0, 1.0 / norms[m].item())  # unchanged under the limit, else scaled to it
        for a, b in zip(after, before[m], strict=True):
            torch.testing.assert_close(a, b * expected)


def test_fit_many_clips_as_fit_does():
    """With a clipping limit every step hits, a stacked RealNVP still matches one trained alone."""
    targets = [get_target(t) for t in TARGETS]
    alone = [
        tiny_model("realnvp", max_grad_norm=0.01).fit(t, 3, s)
        for t, s in zip(targets, [0, 1, 2], strict=True)
    ]
    together = get_model_class("realnvp").fit_many(
        [tiny_model("realnvp", max_grad_norm=0.01) for _ in targets], targets, 3, [0, 1, 2]
    )
    unclipped = tiny_model("realnvp", max_grad_norm=0.0).fit(targets[0], 3, 0)
    pairs = zip(weights(alone[0]), weights(unclipped), strict=True)
    assert not all(torch.equal(x, y) for x, y in pairs)  # the limit was hit
    for a, b in zip(alone, together, strict=True):
        for x, y in zip(weights(a), weights(b), strict=True):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)


def test_fit_many_refuses_models_with_different_hyperparameters():
    cls = get_model_class("vae")
    with pytest.raises(ValueError, match="same hyperparameters"):
        cls.fit_many(
            [tiny_model("vae"), tiny_model("vae", beta=2.0)],
            [get_target("gaussian")] * 2,
            TINY_STEPS,
            [0, 1],
        )


# Enough steps to learn something, and seeds for a two-sample test per family.
STAT_STEPS = 150
STAT_SEEDS = list(range(6))


@pytest.mark.parametrize("name", STACKED)
def test_fit_many_is_statistically_the_same_as_fit(name):
    """Over seeds, stacked and one-at-a-time training reach the same quality: rounding
    differences grow over training (GANs are chaotic), so the runs are compared as samples.
    Welch's test must not tell them apart, and neither may beat the other by much."""
    target = get_target("eight_gaussians")
    cls = get_model_class(name)
    alone = [tiny_model(name).fit(target, STAT_STEPS, s) for s in STAT_SEEDS]
    together = cls.fit_many(
        [tiny_model(name) for _ in STAT_SEEDS], [target] * len(STAT_SEEDS), STAT_STEPS, STAT_SEEDS
    )

    def kls(trained):
        return np.array(
            [kl_forward(target, m.sample(2000, seed=9).astype(np.float64)) for m in trained]
        )

    a, b = kls(alone), kls(together)
    assert stats.ttest_ind(a, b, equal_var=False).pvalue > 0.05, (a, b)
    assert abs(np.median(a) - np.median(b)) < 0.25 * max(np.median(a), np.median(b)), (a, b)

"""The GAN follows the article's protocol: architecture, init, optimisers, batches, prior."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from genbench.models.gan import GAN, LatentPrior
from genbench.targets import get_target


def layers(network: nn.Sequential) -> list[tuple[str, tuple[int, int] | float | None]]:
    """(layer kind, (in, out) for linear layers or the LeakyReLU slope), in order."""
    described = []
    for layer in network:
        if isinstance(layer, nn.Linear):
            described.append(("linear", (layer.in_features, layer.out_features)))
        elif isinstance(layer, nn.LeakyReLU):
            described.append(("leaky_relu", layer.negative_slope))
        else:
            described.append((type(layer).__name__.lower(), None))
    return described


def test_default_architecture_is_the_articles():
    model = GAN(latent_dim=5)
    model._build()
    assert layers(model.generator_) == [
        ("linear", (5, 256)), ("relu", None),
        ("linear", (256, 256)), ("relu", None),
        ("linear", (256, 256)), ("relu", None),
        ("linear", (256, 2)),
    ]  # fmt: skip
    assert layers(model.discriminator_) == [
        ("linear", (2, 128)), ("leaky_relu", 0.01),
        *[("linear", (128, 128)), ("leaky_relu", 0.01)] * 4,
        ("linear", (128, 1)),
    ]  # fmt: skip


def test_init_is_glorot_uniform_with_zero_biases():
    model = GAN(latent_dim=3)
    model._build(seed=7)
    for network in (model.generator_, model.discriminator_):
        for layer in network:
            if isinstance(layer, nn.Linear):
                bound = math.sqrt(6 / (layer.in_features + layer.out_features))
                assert torch.count_nonzero(layer.bias) == 0
                assert layer.weight.abs().max() <= bound
    weight = model.generator_[2].weight  # 256 × 256: U(−b, b) has standard deviation b/√3
    assert weight.std().item() == pytest.approx(math.sqrt(6 / 512) / math.sqrt(3), rel=0.02)


def test_optimisers_and_batches_are_the_articles(monkeypatch):
    adams: list[dict] = []
    real_adam = torch.optim.Adam

    def recording_adam(params, **kwargs):
        adams.append(kwargs)
        return real_adam(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    generator_batches: list[int] = []
    discriminator_batches: list[int] = []
    build = GAN._build

    def build_with_hooks(self, seed=0):
        build(self, seed)
        self.generator_.register_forward_hook(lambda m, i, o: generator_batches.append(len(o)))
        self.discriminator_.register_forward_hook(
            lambda m, i, o: discriminator_batches.append(len(o))
        )

    monkeypatch.setattr(GAN, "_build", build_with_hooks)
    GAN(latent_dim=2, generator_width=8, discriminator_width=8).fit(get_target("spiral"), 2, 0)

    betas = (0.5, 0.999)
    assert adams == [  # G, then D
        dict(lr=2e-4, betas=betas, fused=True),
        dict(lr=1e-3, betas=betas, fused=True),
    ]
    # Per step: G makes 256 fakes for D, which sees them with 256 real points; then G's step
    # pushes 512 fresh latent draws through G and D. One D step per G step.
    assert generator_batches == [256, 512] * 2
    assert discriminator_batches == [512, 512] * 2


@pytest.mark.parametrize(
    ("prior", "target", "expected"),
    [
        ("auto", "gaussian", "uniform"),
        ("auto", "eight_gaussians", "normal"),
        ("auto", "spiral", "normal"),
        ("normal", "gaussian", "normal"),
        ("uniform", "spiral", "uniform"),
    ],
)
def test_prior_rule(prior, target, expected, tmp_path):
    model = GAN(latent_dim=2, prior=prior, generator_width=8, discriminator_width=8, batch_size=8)
    model.fit(get_target(target), 1, 0)
    assert model.prior_.kind == expected
    model.save(tmp_path / "gan.pt")
    assert GAN.load(tmp_path / "gan.pt").prior_.kind == expected  # remembered for sampling


def test_latent_prior_draws():
    rng = torch.Generator().manual_seed(0)
    uniform = LatentPrior(3, uniform=True).sample(10_000, rng)
    normal = LatentPrior(3, uniform=False).sample(10_000, rng)
    assert uniform.shape == normal.shape == (10_000, 3)
    assert uniform.min() >= 0 and uniform.max() < 1
    assert normal.mean().item() == pytest.approx(0, abs=0.03)
    assert normal.std().item() == pytest.approx(1, abs=0.03)


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="prior"):
        GAN(prior="laplace")
    with pytest.raises(ValueError, match="batch_size"):
        GAN(batch_size=5)

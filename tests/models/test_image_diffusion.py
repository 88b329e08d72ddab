"""DDPM and flow matching with a U-Net on image targets: shared training across samplers, and
that a short training on the digits draws digits (the model protocol for images is in
``test_contract.py``)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch

import genbench.metrics  # noqa: F401  (registers the metrics)
from genbench.models import get_model_class
from genbench.models.image_diffusion import ImageDiffusion
from genbench.models.unet import UNet
from genbench.registry import metrics, models
from genbench.targets import get_target
from genbench.targets.base import Target
from genbench.targets.digits import Digits

FAMILIES = ["ddpm_unet", "fm_unet"]
# the smallest U-Net, a short diffusion and few solver steps: a training step in milliseconds
SMALL: dict[str, dict] = {
    "ddpm_unet": dict(width=8, batch_size=16, num_timesteps=50, sampling_steps=5),
    "fm_unet": dict(width=8, batch_size=16, sampling_steps=4),
}
TINY_STEPS = 10
SAMPLERS = {
    "ddpm_unet": ["ancestral", "ddim", "dpm_solver", "dpm_solver_sde"],
    "fm_unet": ["euler", "midpoint"],
}
DIGITS = get_target("digits")


def small(name: str, **overrides) -> ImageDiffusion:
    return get_model_class(name)(**{**SMALL[name], **overrides})  # type: ignore[return-value]


@pytest.fixture(scope="module", params=FAMILIES)
def trained(request) -> ImageDiffusion:
    """Each family, trained for a few steps on the 8 × 8 digits with seed 0 (shared, read-only)."""
    return small(request.param).fit(DIGITS, TINY_STEPS, seed=0)


@dataclass(frozen=True)
class Sixes(Target):
    """6 × 6 images of noise: sides the U-Net cannot halve twice."""

    name: ClassVar[str] = "sixes"
    kind: ClassVar[str] = "images"
    image_shape: ClassVar[tuple[int, int] | None] = (6, 6)
    dim: ClassVar[int] = 36

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        return rng.uniform(-1, 1, (num_samples, 36))

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("an image target has no density")

    region_names: ClassVar[tuple[str, ...]] = ("all",)
    region_masses: ClassVar[np.ndarray] = np.ones(1)

    def region_of(self, x: np.ndarray) -> np.ndarray:
        return np.zeros(len(x), dtype=int)


def test_unet_keeps_the_image_shape_and_starts_at_zero():
    network = UNet(8)
    x, t = torch.randn(3, 1, 16, 12), torch.tensor([0.0, 10.0, 999.0])
    out = network(x, t)
    assert out.shape == (3, 1, 16, 12)
    assert torch.equal(out, torch.zeros_like(out))  # its read-out is zeroed
    with pytest.raises(ValueError, match="multiple of 8"):
        UNet(12)


@pytest.mark.parametrize("name", FAMILIES)
def test_is_registered_as_an_image_family(name):
    cls = get_model_class(name)
    assert name in models.available() and cls.kinds == ("images",)
    assert not cls.has_log_prob and not cls.fits_many
    assert cls.fixed_latent_dim == 64  # the 8 × 8 digits' pixel count
    assert cls.sampling_params == ("sampler", "sampling_steps")


def test_samplers_share_one_trained_network(trained):
    """Entries that differ only in the sampler sample one trained network, set on a shallow
    copy as the runner's ``with_sampling`` does: each gives valid images, each different."""
    weights = {k: v.clone() for k, v in trained.network_.state_dict().items()}
    drawn = []
    for sampler in SAMPLERS[trained.name]:
        shallow = copy.copy(trained)
        shallow.sampler = sampler
        drawn.append(shallow.sample(30, seed=0))
        assert drawn[-1].shape == (30, 64) and np.isfinite(drawn[-1]).all()
    for first, second in itertools.combinations(drawn, 2):
        assert not np.array_equal(first, second)
    state = trained.network_.state_dict()
    assert all(torch.equal(state[k], weights[k]) for k in weights)  # sampling trains nothing


@pytest.mark.parametrize("name", FAMILIES)
def test_bad_settings_and_targets_are_refused(name):
    with pytest.raises(ValueError, match="divisible by 4"):
        small(name).fit(Sixes(), TINY_STEPS, 0)
    with pytest.raises(ValueError, match="built for 16×16"):  # a shape set must be the target's
        small(name, image_height=16, image_width=16).fit(DIGITS, TINY_STEPS, 0)
    with pytest.raises(ValueError, match="sampler"):
        small(name, sampler="nonsense")
    with pytest.raises(ValueError, match="multiple of 8"):
        small(name, width=12)


@pytest.mark.parametrize("name", FAMILIES)
def test_learns_16_by_16_images(name):
    model = small(name).fit(Digits(size=16), 3, 0)
    x = model.sample(10, seed=0)
    assert x.shape == (10, 256) and np.isfinite(x).all()
    assert (model.image_height, model.image_width) == (16, 16)


@pytest.mark.parametrize("name", FAMILIES)
def test_a_short_training_draws_digits(name):
    """400 steps of a narrow U-Net (at a doubled learning rate, averaged over a short window)
    draw every class and bring KID far below noise's, which misses class 8 (2 %) and scores 21.

    Training seeds 0 and 1: ddpm_unet KID 1.5 and 2.0, fm_unet 0.7 and 0.6 (held-out digits
    score 0); every class at least 5 % of the samples. The untrained ddpm_unet scores 14.
    """
    kid = metrics.get("kid")
    steps = 10 if name == "ddpm_unet" else 5  # DPM-Solver++ or midpoint steps
    model = get_model_class(name)(
        width=16, batch_size=64, lr=2e-3, ema_decay=0.99, sampling_steps=steps
    )
    x = model.fit(DIGITS, 400, 0).sample(500, seed=0)
    shares = np.bincount(DIGITS.region_of(x), minlength=10) / len(x)
    assert shares.min() >= 0.03
    noise = np.random.default_rng(0).uniform(-1, 1, x.shape)
    assert kid(DIGITS, x, seed=0) < 0.2 * kid(DIGITS, noise, seed=0)

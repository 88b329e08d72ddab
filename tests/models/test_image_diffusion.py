"""DDPM and flow matching with a U-Net on image targets: the model protocol for images, shared
training across samplers, and that a short training on the digits draws digits."""

from __future__ import annotations

import copy
import dataclasses
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
    fields = dataclasses.fields(cls)
    assert [f.name for f in fields[:2]] == ["latent_dim", "device"]
    assert all(f.default is not dataclasses.MISSING for f in fields)


@pytest.mark.parametrize("name", FAMILIES)
def test_fit_returns_self_and_reports_progress(name):
    model = small(name)
    calls: list[tuple[int, float]] = []
    assert model.fit(DIGITS, TINY_STEPS, 0, progress=lambda *call: calls.append(call)) is model
    steps = [step for step, _ in calls]
    assert steps == sorted(set(steps)) and steps[0] >= 1 and steps[-1] == TINY_STEPS
    assert all(np.isfinite(loss) for _, loss in calls)


def test_samples_are_float32_images_in_range(trained):
    x = trained.sample(100, seed=0)
    assert x.shape == (100, 64) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    assert trained.sample(0, seed=0).shape == (0, 64)


def test_same_seed_same_samples_and_other_seeds_differ(trained):
    np.testing.assert_array_equal(trained.sample(50, seed=3), trained.sample(50, seed=3))
    assert not np.array_equal(trained.sample(50, seed=3), trained.sample(50, seed=4))


@pytest.mark.parametrize("name", FAMILIES)
def test_fit_is_reproducible_and_leaves_global_random_state_alone(name):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = small(name).fit(DIGITS, TINY_STEPS, seed=0).sample(20, seed=1)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    again = small(name).fit(DIGITS, TINY_STEPS, seed=0).sample(20, seed=1)
    other = small(name).fit(DIGITS, TINY_STEPS, seed=1).sample(20, seed=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_save_load_round_trip(trained, tmp_path):
    trained.save(tmp_path / "model.pt")
    loaded = type(trained).load(tmp_path / "model.pt")
    assert loaded.params() == trained.params()
    assert (loaded.image_height, loaded.image_width) == (8, 8)
    np.testing.assert_array_equal(loaded.sample(50, seed=2), trained.sample(50, seed=2))


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
def test_untrained_model_says_so(name):
    with pytest.raises(RuntimeError, match="not trained"):
        small(name).sample(10, seed=0)


@pytest.mark.parametrize("name", FAMILIES)
def test_bad_settings_and_targets_are_refused(name):
    with pytest.raises(ValueError, match=f"{name} learns image targets; spiral is a 2-D target"):
        small(name).fit(get_target("spiral"), TINY_STEPS, 0)
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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", FAMILIES)
def test_runs_on_cuda(name, tmp_path):
    model = small(name, device="cuda").fit(DIGITS, TINY_STEPS, 0)
    x = model.sample(300, seed=0)
    assert x.dtype == np.float32 and x.shape == (300, 64) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(300, seed=0), x)
    model.save(tmp_path / "model.pt")
    on_cpu = type(model).load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(300, seed=0).shape == (300, 64)

"""The model protocol on images, checked for every registered family that learns image targets
(plug-ins included), as ``test_contract.py`` checks it on 2-D points: each family's own tests
keep only what is particular to it."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from genbench.models import GenerativeModel, get_model_class
from genbench.registry import models
from genbench.targets import get_target

NAMES = [name for name in models.available() if "images" in get_model_class(name).kinds]
# Per family: settings that train in a fraction of a second on the 8 × 8 digits. A plug-in
# family not listed here is tested with its defaults.
TINY: dict[str, dict[str, Any]] = {
    "dcgan": dict(width=16, latent_dim=10, batch_size=64),
    "conv_vae": dict(width=16, latent_dim=10, batch_size=64, log_prob_samples=8),
    "ddpm_unet": dict(width=8, batch_size=16, num_timesteps=50, sampling_steps=5),
    "fm_unet": dict(width=8, batch_size=16, sampling_steps=4),
    "pca_gmm": dict(latent_dim=5, max_components=2),
    "bayesnet": dict(bins=4),
}
TINY_STEPS = 10
DIGITS = get_target("digits")
PIXELS = 64


def tiny_model(name: str, **overrides: Any) -> GenerativeModel:
    return get_model_class(name)(**{**TINY.get(name, {}), **overrides})


def tiny_fit(name: str, seed: int = 0) -> GenerativeModel:
    return tiny_model(name).fit(DIGITS, TINY_STEPS, seed)


@pytest.fixture(scope="module", params=NAMES)
def trained(request) -> GenerativeModel:
    """Each image family, trained briefly on the digits with seed 0 (shared, read-only)."""
    return tiny_fit(request.param)


def test_the_image_families_are_registered():
    assert {"dcgan", "conv_vae", "ddpm_unet", "fm_unet", "pca_gmm", "bayesnet"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_is_a_dataclass_with_latent_dim_and_device_first(name):
    cls = get_model_class(name)
    assert issubclass(cls, GenerativeModel) and cls.name == name
    fields = dataclasses.fields(cls)
    assert [f.name for f in fields[:2]] == ["latent_dim", "device"]
    assert all(f.default is not dataclasses.MISSING for f in fields)


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_reports_progress(name):
    model = tiny_model(name)
    calls: list[tuple[int, float]] = []
    assert model.fit(DIGITS, TINY_STEPS, 0, progress=lambda *call: calls.append(call)) is model
    steps = [step for step, _ in calls]
    assert steps == sorted(set(steps)) and steps[0] >= 1 and steps[-1] == TINY_STEPS
    assert all(np.isfinite(loss) for _, loss in calls)


def test_samples_are_float32_images(trained):
    x = trained.sample(300, seed=0)
    assert x.shape == (300, PIXELS) and x.dtype == np.float32 and np.isfinite(x).all()
    assert trained.sample(0, seed=0).shape == (0, PIXELS)


def test_samples_stay_in_the_pixel_range(trained):
    if trained.name == "bayesnet":  # dequantised within bins that reach 5 % past the data
        pytest.skip("bayesnet's bins reach past the pixel range (test_image_baselines.py)")
    x = trained.sample(300, seed=0)
    assert x.min() >= -1 and x.max() <= 1


def test_same_seed_same_samples_and_other_seeds_differ(trained):
    np.testing.assert_array_equal(trained.sample(50, seed=3), trained.sample(50, seed=3))
    assert not np.array_equal(trained.sample(50, seed=3), trained.sample(50, seed=4))


def test_fit_is_reproducible(trained):
    again = tiny_fit(trained.name, seed=0)
    np.testing.assert_array_equal(again.sample(50, seed=1), trained.sample(50, seed=1))
    if trained.reference:  # a reference (the oracle) learns nothing: its fit has no randomness
        return
    other = tiny_fit(trained.name, seed=1)
    assert not np.array_equal(other.sample(50, seed=1), trained.sample(50, seed=1))


@pytest.mark.parametrize("name", NAMES)
def test_global_random_state_is_left_alone(name):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    tiny_fit(name).sample(10, seed=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()


def test_save_load_round_trip(trained, tmp_path):
    path = tmp_path / f"{trained.name}.pt"
    trained.save(path)
    loaded = type(trained).load(path)
    assert loaded.params() == trained.params()
    np.testing.assert_array_equal(loaded.sample(50, seed=2), trained.sample(50, seed=2))
    if trained.has_log_prob and not trained.reference:  # the digits have no density
        images = DIGITS.held_out_images[:20]
        np.testing.assert_array_equal(loaded.log_prob(images), trained.log_prob(images))


@pytest.mark.parametrize("name", NAMES)
def test_untrained_model_says_so(name):
    with pytest.raises(RuntimeError, match="not trained"):
        tiny_model(name).sample(10, seed=0)


@pytest.mark.parametrize("name", [n for n in NAMES if "points" not in get_model_class(n).kinds])
def test_a_family_of_images_only_refuses_a_2d_target(name):
    with pytest.raises(ValueError, match=f"{name} learns image targets; spiral is a 2-D target"):
        tiny_model(name).fit(get_target("spiral"), TINY_STEPS, 0)


@pytest.mark.parametrize("name", [n for n in NAMES if get_model_class(n).interpolates])
def test_interpolations_are_paths_of_images(name):
    paths = tiny_fit(name).interpolate(3, 5, seed=0)
    assert paths.shape == (3, 5, PIXELS) and paths.dtype == np.float32
    assert np.isfinite(paths).all()
    np.testing.assert_array_equal(tiny_fit(name).interpolate(3, 5, seed=0), paths)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_runs_on_cuda(name, tmp_path):
    model = tiny_model(name, device="cuda").fit(DIGITS, TINY_STEPS, 0)
    x = model.sample(100, seed=0)
    assert x.dtype == np.float32 and x.shape == (100, PIXELS) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(100, seed=0), x)
    model.save(tmp_path / "model.pt")
    on_cpu = type(model).load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(100, seed=0).shape == (100, PIXELS)

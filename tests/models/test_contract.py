"""The model protocol, checked for every registered model (plug-ins included)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from genbench.models import GenerativeModel, get_model_class
from genbench.registry import models
from genbench.targets import get_target
from tests.models.tiny import TINY_STEPS, tiny_fit, tiny_model

# The families of 2-D points, checked here on 2-D targets; a family of images only (``dcgan``)
# has the same checks on an image target in its own tests.
NAMES = [name for name in models.available() if "points" in get_model_class(name).kinds]


@pytest.fixture(scope="module", params=NAMES)
def trained(request) -> GenerativeModel:
    """Each registered model, trained briefly on eight_gaussians with seed 0 (shared, read-only)."""
    return tiny_fit(request.param)


def test_every_family_is_registered():
    assert {"gan", "vae", "realnvp", "ddpm"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_is_a_dataclass_with_latent_dim_and_device_first(name):
    cls = get_model_class(name)
    assert issubclass(cls, GenerativeModel)
    assert cls.name == name
    fields = dataclasses.fields(cls)
    assert [f.name for f in fields[:2]] == ["latent_dim", "device"]
    assert all(f.default is not dataclasses.MISSING for f in fields)  # every field has a default
    assert cls.log_prob_is_bound <= cls.has_log_prob


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_reports_progress(name):
    model = tiny_model(name)
    calls: list[tuple[int, float]] = []
    assert model.fit(
        get_target("gaussian"), TINY_STEPS, 0, progress=lambda *c: calls.append(c)
    ) is (model)
    steps = [step for step, _ in calls]
    assert steps == sorted(set(steps)) and steps[0] >= 1 and steps[-1] == TINY_STEPS
    assert all(np.isfinite(loss) for _, loss in calls)


def test_sample_is_float32_points(trained):
    x = trained.sample(1000, seed=0)
    assert x.shape == (1000, 2)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()
    assert trained.sample(0, seed=0).shape == (0, 2)


def test_sample_is_reproducible(trained):
    np.testing.assert_array_equal(trained.sample(500, seed=3), trained.sample(500, seed=3))
    assert not np.array_equal(trained.sample(500, seed=3), trained.sample(500, seed=4))


def test_fit_is_reproducible(trained):
    again = tiny_fit(trained.name, seed=0)
    np.testing.assert_array_equal(again.sample(300, seed=1), trained.sample(300, seed=1))
    if trained.reference:  # a reference (the oracle) learns nothing: its fit has no randomness
        return
    other = tiny_fit(trained.name, seed=1)
    assert not np.array_equal(other.sample(300, seed=1), trained.sample(300, seed=1))


@pytest.mark.parametrize("name", NAMES)
def test_global_random_state_is_left_alone(name):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    tiny_fit(name).sample(10, seed=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()


def test_log_prob_matches_the_capability_flag(trained):
    x = get_target("eight_gaussians").sample(200, seed=5)
    if not trained.has_log_prob:
        with pytest.raises(NotImplementedError):
            trained.log_prob(x)
        return
    log_q = trained.log_prob(x)
    assert log_q.shape == (200,)
    assert np.isfinite(log_q).all()
    np.testing.assert_array_equal(trained.log_prob(x), log_q)  # deterministic, bound or not
    with pytest.raises(ValueError):
        trained.log_prob(np.zeros((3, 3)))


def test_save_load_round_trip(trained, tmp_path):
    path = tmp_path / f"{trained.name}.pt"
    trained.save(path)
    loaded = type(trained).load(path)
    assert loaded.params() == trained.params()
    np.testing.assert_array_equal(loaded.sample(500, seed=2), trained.sample(500, seed=2))
    if trained.has_log_prob:
        x = get_target("eight_gaussians").sample(100, seed=6)
        np.testing.assert_array_equal(loaded.log_prob(x), trained.log_prob(x))


def test_load_refuses_another_family(trained, tmp_path):
    path = tmp_path / "model.pt"
    trained.save(path)
    other = next(name for name in NAMES if name != trained.name)
    with pytest.raises(ValueError, match=trained.name):
        get_model_class(other).load(path)


@pytest.mark.parametrize("name", NAMES)
def test_untrained_model_says_so(name):
    model = tiny_model(name)
    with pytest.raises(RuntimeError, match="not trained"):
        model.sample(10, seed=0)


@pytest.mark.parametrize("name", NAMES)
def test_params_rebuild_the_same_model(name):
    model = tiny_model(name, latent_dim=3)
    assert type(model)(**model.params()).params() == model.params()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_runs_on_cuda(name, tmp_path):
    model = tiny_fit(name, device="cuda")
    x = model.sample(300, seed=0)
    assert x.dtype == np.float32 and x.shape == (300, 2) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(300, seed=0), x)
    if model.has_log_prob:
        assert np.isfinite(model.log_prob(x)).all()
    model.save(tmp_path / "model.pt")
    on_cpu = type(model).load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(300, seed=0).shape == (300, 2)

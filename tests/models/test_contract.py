"""The model protocol, checked for every registered model (plug-ins included) on each kind of
target it learns: 2-D points (``eight_gaussians``) and images (the 8 × 8 digits). Each family's
own tests keep only what is particular to it."""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import numpy as np
import pytest
import torch

from genbench.models import GenerativeModel, get_model_class
from genbench.registry import models
from genbench.targets import Target, get_target
from tests.models.tiny import TINY_IMAGE_STEPS, TINY_STEPS, tiny_model


class Case(NamedTuple):
    """A family on one kind of target."""

    name: str
    kind: str  # "points" or "images"

    @property
    def family(self) -> type[GenerativeModel]:
        return get_model_class(self.name)

    @property
    def target(self) -> Target:
        return get_target("eight_gaussians" if self.kind == "points" else "digits")

    @property
    def dim(self) -> int:
        return self.target.dim

    @property
    def steps(self) -> int:
        return TINY_STEPS if self.kind == "points" else TINY_IMAGE_STEPS

    def model(self, **overrides) -> GenerativeModel:
        return tiny_model(self.name, kind=self.kind, **overrides)

    def fit(self, seed: int = 0, **overrides) -> GenerativeModel:
        return self.model(**overrides).fit(self.target, self.steps, seed)

    def data(self, n: int) -> np.ndarray:
        """``n`` points of the target that the model did not train on."""
        if self.kind == "points":
            return self.target.sample(n, seed=5)
        return self.target.held_out_images[:n]

    def __str__(self) -> str:
        return f"{self.name}-{self.kind}"


NAMES = models.available()
CASES = [Case(name, kind) for name in NAMES for kind in get_model_class(name).kinds]
IMAGES = [case for case in CASES if case.kind == "images"]
N = 100  # samples drawn per check


@functools.cache
def fitted(case: Case) -> GenerativeModel:
    """The case's model, trained briefly with seed 0 (shared, read-only)."""
    return case.fit()


@pytest.fixture(scope="module", params=CASES, ids=str)
def case(request) -> Case:
    return request.param


@pytest.fixture(scope="module")
def trained(case) -> GenerativeModel:
    return fitted(case)


def test_every_family_is_registered_with_its_kinds():
    points = {case.name for case in CASES if case.kind == "points"}
    images = {case.name for case in IMAGES}
    assert {"gan", "vae", "realnvp", "ddpm", "fm", "gmm", "kde", "bayesnet"} <= points
    assert {"dcgan", "conv_vae", "ddpm_unet", "fm_unet", "pca_gmm", "bayesnet"} <= images
    assert all(set(get_model_class(name).kinds) <= {"points", "images"} for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_is_a_dataclass_with_latent_dim_and_device_first(name):
    cls = get_model_class(name)
    assert issubclass(cls, GenerativeModel)
    assert cls.name == name
    fields = dataclasses.fields(cls)
    assert [f.name for f in fields[:2]] == ["latent_dim", "device"]
    assert all(f.default is not dataclasses.MISSING for f in fields)  # every field has a default
    assert cls.log_prob_is_bound <= cls.has_log_prob


def test_fit_returns_self_and_reports_progress(case):
    model = case.model()
    calls: list[tuple[int, float]] = []
    assert model.fit(case.target, case.steps, 0, progress=lambda *c: calls.append(c)) is model
    steps = [step for step, _ in calls]
    assert steps == sorted(set(steps)) and steps[0] >= 1 and steps[-1] == case.steps
    assert all(np.isfinite(loss) for _, loss in calls)


def test_samples_are_float32_points_of_the_target(case, trained):
    x = trained.sample(N, seed=0)
    assert x.shape == (N, case.dim)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()
    assert trained.sample(0, seed=0).shape == (0, case.dim)


@pytest.mark.parametrize("case", [c for c in IMAGES if c.name != "bayesnet"], ids=str)
def test_image_samples_stay_in_the_pixel_range(case):
    # (bayesnet's bins reach 5 % past the data's range: see test_image_baselines.py)
    x = fitted(case).sample(N, seed=0)
    assert x.min() >= -1 and x.max() <= 1


def test_sample_is_reproducible(trained):
    np.testing.assert_array_equal(trained.sample(N, seed=3), trained.sample(N, seed=3))
    assert not np.array_equal(trained.sample(N, seed=3), trained.sample(N, seed=4))


def test_fit_is_reproducible(case, trained):
    again = case.fit(seed=0)
    np.testing.assert_array_equal(again.sample(N, seed=1), trained.sample(N, seed=1))
    if trained.reference:  # a reference (the oracle) learns nothing: its fit has no randomness
        return
    other = case.fit(seed=1)
    assert not np.array_equal(other.sample(N, seed=1), trained.sample(N, seed=1))


def test_global_random_state_is_left_alone(case):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    case.fit().sample(10, seed=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()


# the digits have no density for the oracle to give
DENSITIES = [case for case in CASES if case.kind == "points" or case.name != "oracle"]


@pytest.mark.parametrize("case", DENSITIES, ids=str)
def test_log_prob_matches_the_capability_flag(case):
    trained, x = fitted(case), case.data(20)
    if not trained.has_log_prob:
        with pytest.raises(NotImplementedError):
            trained.log_prob(x)
        return
    log_q = trained.log_prob(x)
    assert log_q.shape == (20,)
    assert np.isfinite(log_q).all()
    np.testing.assert_array_equal(trained.log_prob(x), log_q)  # deterministic, bound or not
    with pytest.raises(ValueError):
        trained.log_prob(np.zeros((3, 3)))


def test_save_load_round_trip(case, trained, tmp_path):
    path = tmp_path / f"{trained.name}.pt"
    trained.save(path)
    loaded = type(trained).load(path)
    assert loaded.params() == trained.params()
    np.testing.assert_array_equal(loaded.sample(N, seed=2), trained.sample(N, seed=2))
    if trained.has_log_prob and case in DENSITIES:
        x = case.data(20)
        np.testing.assert_array_equal(loaded.log_prob(x), trained.log_prob(x))


def test_load_refuses_another_family(trained, tmp_path):
    path = tmp_path / "model.pt"
    trained.save(path)
    other = next(name for name in NAMES if name != trained.name)
    with pytest.raises(ValueError, match=trained.name):
        get_model_class(other).load(path)


def test_untrained_model_says_so(case):
    with pytest.raises(RuntimeError, match="not trained"):
        case.model().sample(10, seed=0)


def test_params_rebuild_the_same_model(case):
    model = case.model(latent_dim=3) if case.kind == "points" else case.model()
    assert type(model)(**model.params()).params() == model.params()


IMAGES_ONLY = [case for case in IMAGES if "points" not in case.family.kinds]


@pytest.mark.parametrize("case", IMAGES_ONLY, ids=str)
def test_a_family_of_images_only_refuses_a_2d_target(case):
    with pytest.raises(ValueError, match=f"{case.name} learns image targets; spiral is a 2-D"):
        case.model().fit(get_target("spiral"), case.steps, 0)


@pytest.mark.parametrize("case", [c for c in IMAGES if c.family.interpolates], ids=str)
def test_interpolations_are_paths_of_images(case):
    paths = fitted(case).interpolate(3, 5, seed=0)
    assert paths.shape == (3, 5, case.dim) and paths.dtype == np.float32
    assert np.isfinite(paths).all()
    np.testing.assert_array_equal(case.fit().interpolate(3, 5, seed=0), paths)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda(case, tmp_path):
    model = case.fit(device="cuda")
    x = model.sample(N, seed=0)
    assert x.dtype == np.float32 and x.shape == (N, case.dim) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(N, seed=0), x)
    if model.has_log_prob and case in DENSITIES:
        assert np.isfinite(model.log_prob(case.data(20))).all()
    model.save(tmp_path / "model.pt")
    on_cpu = type(model).load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(N, seed=0).shape == (N, case.dim)

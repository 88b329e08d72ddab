"""The DCGAN on a small planted image target: that a short training learns the images and,
conditioned, their classes (the model protocol for images is in ``test_contract.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch

from genbench.models import get_model_class
from genbench.models.dcgan import DCGAN
from genbench.registry import models
from genbench.targets.base import Target

SMALL = dict(width=16, latent_dim=10, batch_size=64)  # trains at a few ms a step
TINY_STEPS = 20


def prototypes(side: int = 8) -> np.ndarray:
    """Four 8 × 8 images on a background of −1, flattened, (4, 64); blown up to ``side``."""
    images = -np.ones((4, 8, 8))
    images[0, 3:5, :] = 1  # a horizontal bar
    images[1, :, 3:5] = 1  # a vertical bar
    images[2][np.eye(8, dtype=bool)] = 1  # the diagonal
    images[3, [0, -1], :] = images[3, :, [0, -1]] = 1  # a frame
    scale = side // 8
    return np.kron(images, np.ones((scale, scale))).reshape(4, side * side)


@dataclass(frozen=True)
class Planted(Target):
    """One of four prototype images, chosen uniformly, plus pixel noise clipped to [-1, 1];
    its classes (regions) are the prototypes, each image in its nearest one's."""

    noise: float = 0.2  # standard deviation of each pixel's noise

    name: ClassVar[str] = "planted"
    kind: ClassVar[str] = "images"
    image_shape: ClassVar[tuple[int, int] | None] = (8, 8)
    dim: ClassVar[int] = 64

    @property
    def prototypes(self) -> np.ndarray:
        assert self.image_shape is not None
        return prototypes(self.image_shape[0])

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        chosen = self.prototypes[rng.integers(0, 4, size=num_samples)]
        return np.clip(chosen + self.noise * rng.standard_normal(chosen.shape), -1, 1)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("an image target has no density")

    @property
    def region_names(self) -> tuple[str, ...]:
        return ("horizontal", "vertical", "diagonal", "frame")

    def region_of(self, x: np.ndarray) -> np.ndarray:
        return distances(self, x).argmin(1)

    @property
    def region_masses(self) -> np.ndarray:
        return np.full(4, 0.25)


@dataclass(frozen=True)
class Planted16(Planted):
    image_shape: ClassVar[tuple[int, int] | None] = (16, 16)
    dim: ClassVar[int] = 256


@dataclass(frozen=True)
class Planted6(Planted):  # sides not divisible by 4
    image_shape: ClassVar[tuple[int, int] | None] = (6, 6)
    dim: ClassVar[int] = 36


PLANTED = Planted()


def distances(target: Planted, x: np.ndarray) -> np.ndarray:
    """The Euclidean distance of each image of ``x`` (n, h · w) to each prototype, (n, 4)."""
    return np.sqrt(((np.asarray(x)[:, None, :] - target.prototypes[None]) ** 2).sum(-1))


@pytest.fixture(scope="module")
def trained() -> DCGAN:
    return DCGAN(**{**SMALL, "width": 32}).fit(PLANTED, 300, seed=0)


@pytest.fixture(scope="module")
def conditional() -> DCGAN:
    model = DCGAN(**SMALL, conditional=True, label_input="concat")
    return model.fit(PLANTED, 300, seed=0)


def test_is_registered_as_an_image_family():
    assert get_model_class("dcgan") is DCGAN and "dcgan" in models.available()
    assert DCGAN.kinds == ("images",) and not DCGAN.has_log_prob


@pytest.mark.parametrize("name", ["trained", "conditional"])
def test_save_load_round_trip(name, request, tmp_path):
    model = request.getfixturevalue(name)
    model.save(tmp_path / "dcgan.pt")
    loaded = DCGAN.load(tmp_path / "dcgan.pt")
    assert loaded.params() == model.params()
    assert (loaded.image_height, loaded.image_width) == (8, 8)
    np.testing.assert_array_equal(loaded.sample(300, seed=2), model.sample(300, seed=2))
    if model.conditional:
        labels = np.arange(4).repeat(10)
        np.testing.assert_array_equal(
            loaded.sample_given(labels, seed=2), model.sample_given(labels, seed=2)
        )


def test_a_bad_image_shape_is_refused():
    with pytest.raises(ValueError, match="divisible by 4"):
        DCGAN(**SMALL).fit(Planted6(), TINY_STEPS, 0)
    with pytest.raises(ValueError, match="divisible by 4"):
        DCGAN(image_height=6, image_width=8)
    with pytest.raises(ValueError, match="built for 16×16"):  # a shape set must be the target's
        DCGAN(**SMALL, image_height=16, image_width=16).fit(PLANTED, TINY_STEPS, 0)


def test_learns_16_by_16_images():
    model = DCGAN(**SMALL).fit(Planted16(), TINY_STEPS, 0)
    x = model.sample(50, seed=0)
    assert x.shape == (50, 256) and np.isfinite(x).all()
    assert (model.image_height, model.image_width) == (16, 16)


def test_a_short_training_draws_near_the_prototypes(trained):
    untrained = DCGAN(**{**SMALL, "width": 32}).fit(PLANTED, 0, seed=0)
    before = distances(PLANTED, untrained.sample(1000, seed=0)).min(1).mean()
    after = distances(PLANTED, trained.sample(1000, seed=0)).min(1).mean()
    real = distances(PLANTED, PLANTED.sample(1000, seed=0)).min(1).mean()
    # seed 0: 8.0 untrained (pixels near 0 where the images are ±1), 2.6 after 300 steps (3.0
    # to 3.4 with seeds 1 to 4), 1.1 for the target's own draws
    assert after < 0.5 * before and after > real


def test_conditional_samples_land_near_their_labels_prototype(conditional):
    labels = np.arange(4).repeat(250)  # one label at a time, as label fidelity draws them
    hits = PLANTED.region_of(conditional.sample_given(labels, seed=0)) == labels
    # chance: 0.25; seed 0 hits 0.98 to 1 per label, seeds 1 to 4 0.90 to 1 on average
    assert hits.mean() >= 0.75


def test_sample_given_checks_the_model_and_labels(trained, conditional):
    with pytest.raises(ValueError, match="conditional"):
        trained.sample_given(np.zeros(3, dtype=int), seed=0)
    with pytest.raises(ValueError, match="region indices"):
        conditional.sample_given(np.array([0, 4]), seed=0)


@pytest.mark.parametrize(
    "overrides",
    [
        dict(latent_dim=1),
        dict(latent_dim=100),
        dict(latent_dim=2, prior="uniform"),
        dict(latent_dim=3, prior="sphere"),
        dict(latent_dim=1, conditional=True, label_input="product"),
    ],
)
def test_latent_sizes_priors_and_label_inputs_run(overrides):
    model = DCGAN(**{**SMALL, **overrides}).fit(PLANTED, TINY_STEPS, 0)
    x = model.sample(100, seed=0)
    assert x.shape == (100, 64) and np.isfinite(x).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_conditional_dcgan_runs_on_cuda(tmp_path):
    model = DCGAN(**SMALL, device="cuda", conditional=True).fit(PLANTED, TINY_STEPS, 0)
    x = model.sample(300, seed=0)
    assert x.dtype == np.float32 and x.shape == (300, 64) and np.isfinite(x).all()
    np.testing.assert_array_equal(model.sample(300, seed=0), x)
    model.save(tmp_path / "model.pt")
    on_cpu = DCGAN.load(tmp_path / "model.pt", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.sample(300, seed=0).shape == (300, 64)

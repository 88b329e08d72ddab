"""Handwritten digits: scikit-learn's 1,797 bundled 8×8 images, an image target with no density.

The images are split once, by ``split_seed``, into a training half, which models learn from
(``sample`` and ``training_points``), and a held-out half, which samples are compared with
(``reference_sample``): a model that copies its training images is then told apart from one
that draws new digits (``memorisation``), and the oracle, which returns training images, is a
real-against-real floor. A small classifier trained on the training half (``digit_classifier``)
supplies what the metrics read: its predicted class is an image's region, its penultimate layer
the feature space of FID, KID and the k-NN metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from genbench.registry import targets
from genbench.targets.base import Target
from genbench.targets.digit_classifier import NUM_CLASSES, DigitClassifier, train_digit_classifier

SIZES = (8, 16)  # image sides: the original 8×8, or upsampled bilinearly to 16×16
MAX_PIXEL = 16  # the bundled images' pixels are counts 0..16
HELD_OUT = 0.5  # share of the images held out, in every class
CLASSIFIER_SEED = 0  # the classifier's weights, batches and shifts


class Split(NamedTuple):
    """The images of one split, each (m, size²) float64 in [-1, 1], and their classes (m,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    held_out_images: np.ndarray
    held_out_labels: np.ndarray


@cache
def _bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 bundled images, (n, 8, 8) float64 pixels 0..16, and their classes, (n,) int64."""
    digits = load_digits()
    return digits.images.astype(np.float64), digits.target.astype(np.int64)


@cache
def _split(size: int, split_seed: int) -> Split:
    images, labels = _bundled_digits()
    if size != images.shape[1]:  # bilinear: no overshoot, so pixels stay in [0, 16]
        images = zoom(images, (1, size / images.shape[1], size / images.shape[2]), order=1)
    pixels = (images / (MAX_PIXEL / 2) - 1).reshape(len(images), size * size)  # [-1, 1]
    parts = train_test_split(
        pixels, labels, test_size=HELD_OUT, stratify=labels, random_state=split_seed
    )
    for part in parts:
        part.setflags(write=False)  # shared by every caller: nobody may change them
    train_images, held_out_images, train_labels, held_out_labels = parts
    return Split(train_images, train_labels, held_out_images, held_out_labels)


@cache
def _classifier(size: int, split_seed: int) -> DigitClassifier:
    split = _split(size, split_seed)
    return train_digit_classifier(
        split.train_images, split.train_labels, (size, size), seed=CLASSIFIER_SEED
    )


@targets.register("digits")
@dataclass(frozen=True)
class Digits(Target):
    """The training half of the digits images: draws are training images picked uniformly with
    replacement, (n, size²) float64, pixels in [-1, 1] row by row.

    Regions: the 10 classes as the classifier predicts them, with masses the class frequencies
    of the held-out half (about 1/10 each). No density: ``log_prob`` and the highest-density
    region raise NotImplementedError, and only the metrics of images score it.
    """

    size: int = 8  # side of the images: 8, or 16 (the 8×8 images upsampled bilinearly)
    split_seed: int = 0  # which images fall in the training half and which are held out

    name = "digits"
    kind = "images"
    plot_range = 1.0  # the pixels' range [-1, 1]; unused: the 2-D figures do not draw images
    bandwidth = 1.0  # unused: the KDE-based KL metrics need a density

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"digits: size must be one of {SIZES}, got {self.size!r}")

    # ------------------------------------------------------------------ the images
    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.size * self.size

    @property
    def image_shape(self) -> tuple[int, int]:  # type: ignore[override]
        return (self.size, self.size)

    @property
    def train_images(self) -> np.ndarray:
        """The training half, (898, size²), read-only."""
        return _split(self.size, self.split_seed).train_images

    @property
    def train_labels(self) -> np.ndarray:
        """The classes of the training half, (898,) int64, read-only."""
        return _split(self.size, self.split_seed).train_labels

    @property
    def held_out_images(self) -> np.ndarray:
        """The held-out half, (899, size²), read-only: what samples are compared with."""
        return _split(self.size, self.split_seed).held_out_images

    @property
    def held_out_labels(self) -> np.ndarray:
        """The classes of the held-out half, (899,) int64, read-only."""
        return _split(self.size, self.split_seed).held_out_labels

    def _sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        train = self.train_images
        return train[rng.integers(0, len(train), size=num_samples)]

    def reference_sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` held-out images, (n, size²): without replacement while there are
        enough (all of them, shuffled, for n = 899), with replacement beyond."""
        if int(num_samples) != num_samples or num_samples < 0:
            raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
        held_out = self.held_out_images
        rng = np.random.default_rng(seed)
        replace = num_samples > len(held_out)
        return held_out[rng.choice(len(held_out), int(num_samples), replace=replace)]

    @property
    def training_points(self) -> np.ndarray:
        return self.train_images

    # ------------------------------------------------------------------ the classifier's view
    @property
    def classifier(self) -> DigitClassifier:
        """The classifier trained on the training half, trained once per process at first use
        (a few seconds on one core)."""
        return _classifier(self.size, self.split_seed)

    @property
    def classifier_accuracy(self) -> float:
        """The classifier's accuracy on the held-out half (about 0.98)."""
        predicted = self.classifier.classify(self.held_out_images)
        return float(np.mean(predicted == self.held_out_labels))

    def features(self, x: np.ndarray) -> np.ndarray:
        """The classifier's penultimate layer, (n, 128) float64, for images ``x`` (n, size²)."""
        return self.classifier.features(self._as_images(x))

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(str(digit) for digit in range(NUM_CLASSES))

    def region_of(self, x: np.ndarray) -> np.ndarray:
        """The classifier's predicted class of each image of ``x`` (n, size²), (n,) int64:
        every image is in some region."""
        return self.classifier.classify(self._as_images(x))

    @property
    def region_masses(self) -> np.ndarray:
        return np.bincount(self.held_out_labels, minlength=NUM_CLASSES) / len(self.held_out_labels)

    def _as_images(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected images of shape (n, {self.dim}), got {x.shape}")
        return x

    # ------------------------------------------------------------------ no density
    def log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "digits is a set of images with no known density: its metrics compare samples "
            "with the held-out images through a classifier"
        )

    @property
    def hdr_threshold(self) -> float:  # type: ignore[override]
        raise NotImplementedError("digits has no density, so no highest-density region")

    @property
    def hdr_region_masses(self) -> np.ndarray:  # type: ignore[override]
        raise NotImplementedError("digits has no density, so no highest-density region")

    def in_hdr(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("digits has no density, so no highest-density region")


@targets.register("digits16")
@dataclass(frozen=True)
class Digits16(Digits):
    """The digits upsampled bilinearly to 16 × 16: the same images, split and classes, for
    networks that need room to downsample (a U-Net's three levels, say)."""

    size: int = 16  # side of the images

    name = "digits16"

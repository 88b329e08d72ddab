"""Classical density estimators as models: the references a neural model should beat.

- ``gmm``: a Gaussian mixture with full covariances (scikit-learn's ``GaussianMixture``), its
  number of components chosen by BIC.
- ``kde``: a Gaussian kernel density estimate, its bandwidth chosen by cross-validated
  likelihood (evaluated exactly by ``genbench.kde.log_kde``, the KL metrics' dense sum: about 8
  times faster here than scikit-learn's tree-based ``KernelDensity``, with the same bandwidths).

Neither has a latent space or an optimiser: ``fit`` draws ``steps`` points from the target (one
per "step") and estimates from them once; from a finite training set, ``steps`` of its
distinct points (without the repeats that resampling would bring into the cross-validation).
Both have an exact ``log_prob``, so the opt-in ``kl_exact`` metric scores them without a KDE of
their samples. They draw with their own seeded generator: scikit-learn's
``GaussianMixture.sample`` returns its points grouped by component and the same points for the
same ``random_state``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold

from genbench.kde import log_kde
from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.nn import check_fitted
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target, as_points


class Estimator(GenerativeModel):
    """What the two share: training points from the target, saving the fitted state as arrays."""

    fixed_latent_dim: ClassVar[int | None] = 2  # no latent space; listed with the data's size
    has_log_prob: ClassVar[bool] = True
    state_names: ClassVar[tuple[str, ...]]  # the fitted attributes that save/load keep

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> Estimator:
        """Estimate from ``steps`` fresh target draws (at least 2); from a finite training set,
        from ``steps`` of its distinct points (all of them when it has fewer)."""
        if steps < 2:
            raise ValueError(f"{self.name} needs at least 2 training points (steps), got {steps}")
        # a finite training set (a TrainingSet, an image target's training half): no repeated
        # point, which would leak across the cross-validation folds and the held-out share
        # that choose a bandwidth or bins
        pool = target.training_points
        if pool is not None:
            rng = np.random.default_rng(derive_seed(seed, "train"))
            data = pool[rng.permutation(len(pool))[:steps]]
            if len(data) < 2:
                raise ValueError(f"{self.name} needs at least 2 training points, got {len(data)}")
        else:
            data = target.sample(steps, derive_seed(seed, "train"))
        loss = self._estimate(data, derive_seed(seed, "estimate"))
        if progress is not None:
            progress(steps, loss)
        return self

    def _estimate(self, data: np.ndarray, seed: int) -> float:
        """Fit to ``data`` (n, 2); returns the mean negative log-likelihood of the data (of
        held-out points where the estimate chose a hyperparameter on them)."""
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        check_fitted(self, self.state_names[0])
        state = {name: torch.from_numpy(np.asarray(value)) for name, value in self._state().items()}
        torch.save({"model": self.name, "params": self.params(), "state": state}, path)

    def _state(self) -> dict[str, Any]:
        """The fitted state to save, one array per name of ``state_names``."""
        return {name: getattr(self, name) for name in self.state_names}

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> Estimator:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved["model"] != cls.name:
            raise ValueError(f"{path} holds a {saved['model']!r} model, not {cls.name!r}")
        params = dict(saved["params"]) | ({"device": device} if device is not None else {})
        model = cls(**params)
        model._restore({name: value.numpy() for name, value in saved["state"].items()})
        return model

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


EVERY_COUNT_UP_TO = 16  # the mixture tries every component count up to this one
BIC_PATIENCE = 2  # past those, it stops after this many candidates in a row worse than the best


def component_counts(limit: int) -> list[int]:
    """The component counts ``gmm`` tries, up to ``limit``: every one to 16, then steps of
    about a quarter, rounded to multiples of 4, and ``limit`` itself."""
    counts = list(range(1, min(limit, EVERY_COUNT_UP_TO) + 1))
    count = EVERY_COUNT_UP_TO
    while count < limit:
        count = min(limit, count + max(4, count // 16 * 4))
        counts.append(count)
    return counts


@models.register("gmm")
@dataclass(eq=False)
class GMM(Estimator):
    """A Gaussian mixture, q(x) = Σ_k w_k N(x; μ_k, Σ_k), fitted by EM at candidate component
    counts up to ``max_components``; the count of lowest BIC is kept.

    The candidates are every count up to 16, then steps of about a quarter (20, 24, 28, 32, 40,
    48, 60, …), where the search stops at the second candidate in a row that scores worse than
    the best so far (BIC is bumpy at small counts, where EM's local optima differ most: those
    are all tried). A curved target needs many components (the spiral's arm takes 24–40 as the data
    grows from 1,000 to 30,000 points), well-separated modes one each.
    """

    latent_dim: int = 2  # unused: a mixture has no continuous latent space
    device: str = "cpu"  # unused: scikit-learn runs on the CPU
    max_components: int = 64  # the largest component count tried
    restarts: int = 1  # EM runs per count (k-means initialisations); the best is kept

    name: ClassVar[str] = "gmm"
    state_names: ClassVar[tuple[str, ...]] = ("weights_", "means_", "covariances_")

    def __post_init__(self) -> None:
        if self.max_components < 1 or self.restarts < 1:
            raise ValueError("max_components and restarts must be at least 1")

    def _estimate(self, data: np.ndarray, seed: int) -> float:
        best, best_bic, worse = None, np.inf, 0  # worse: candidates past 16 since the best
        for count in component_counts(min(self.max_components, len(data))):
            if worse == BIC_PATIENCE:
                break
            mixture = GaussianMixture(
                count, covariance_type="full", n_init=self.restarts, random_state=seed % 2**32
            ).fit(data)
            bic = mixture.bic(data)
            if bic < best_bic:
                best, best_bic, worse = mixture, bic, 0
            elif count > EVERY_COUNT_UP_TO:
                worse += 1
        assert best is not None
        self._restore(
            {"weights_": best.weights_, "means_": best.means_, "covariances_": best.covariances_}
        )
        return float(-self.mixture_.score_samples(data).mean())

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        super()._restore(state)
        self.cholesky_ = np.linalg.cholesky(self.covariances_)  # (K, 2, 2)
        self.mixture_ = GaussianMixture(len(self.weights_), covariance_type="full")
        self.mixture_.weights_, self.mixture_.means_ = self.weights_, self.means_
        self.mixture_.covariances_ = self.covariances_
        self.mixture_.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(self.covariances_))

    @property
    def components(self) -> int:
        """The component count BIC chose."""
        check_fitted(self, "weights_")
        return len(self.weights_)

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "weights_")
        rng = np.random.default_rng(derive_seed(seed, "gmm"))
        picks = rng.choice(len(self.weights_), size=num_samples, p=self.weights_)
        noise = rng.standard_normal((num_samples, self.means_.shape[1], 1))
        points = self.means_[picks] + (self.cholesky_[picks] @ noise)[..., 0]
        return points.astype(np.float32)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        check_fitted(self, "weights_")
        return self.mixture_.score_samples(as_points(x))


@models.register("pca_gmm")
@dataclass(eq=False)
class PCAGMM(GMM):
    """Images: a Gaussian mixture (chosen by BIC, as ``gmm``) on the first ``latent_dim``
    principal components of the training images; a sample is a draw of the mixture mapped back
    through the components, its pixels clipped to [−1, 1]. The number of components is its
    latent size, capped at the pixel count (a sweep's 100 is 64 on 8 × 8 digits)."""

    latent_dim: int = 10  # principal components kept: the latent space the mixture lives in
    device: str = "cpu"  # unused: scikit-learn runs on the CPU
    max_components: int = 16  # the largest mixture component count tried
    restarts: int = 1  # EM runs per count (k-means initialisations); the best is kept

    name: ClassVar[str] = "pca_gmm"
    kinds: ClassVar[tuple[str, ...]] = ("images",)
    fixed_latent_dim: ClassVar[int | None] = None
    has_log_prob: ClassVar[bool] = False  # the mixture lives on a subspace: no pixel density
    state_names: ClassVar[tuple[str, ...]] = (
        "weights_",
        "means_",
        "covariances_",
        "pixel_mean_",
        "components_",
    )

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> PCAGMM:
        if target.kind != "images":
            raise ValueError(f"pca_gmm learns image targets; {target.name} is a 2-D target")
        return super().fit(target, steps, seed, progress)  # type: ignore[return-value]

    def _estimate(self, data: np.ndarray, seed: int) -> float:
        from sklearn.decomposition import PCA

        pca = PCA(min(self.latent_dim, *data.shape), random_state=seed % 2**32).fit(data)
        self.pixel_mean_, self.components_ = pca.mean_, pca.components_
        return super()._estimate(pca.transform(data), seed)

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "components_")
        codes = super().sample(num_samples, seed).astype(np.float64)
        images = codes @ self.components_ + self.pixel_mean_
        return np.clip(images, -1.0, 1.0).astype(np.float32)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("pca_gmm has no density over the pixels")


@models.register("kde")
@dataclass(eq=False)
class KDE(Estimator):
    """q(x) = (1/n) Σ_i N(x; x_i, h² I): a Gaussian kernel on each training point, with the
    bandwidth h of the highest ``folds``-fold cross-validated log-likelihood among
    ``candidates`` values spaced geometrically between ``smallest`` and ``largest`` times the
    data's standard deviation (chosen on at most ``selection_points`` of the points)."""

    latent_dim: int = 2  # unused: a kernel density estimate has no latent space
    device: str = "cpu"  # unused: the estimate runs on the CPU
    smallest: float = 0.002  # the smallest bandwidth tried, in data standard deviations
    largest: float = 0.5  # the largest
    candidates: int = 16  # bandwidths tried
    folds: int = 5  # cross-validation folds
    selection_points: int = 3000  # points the bandwidth is chosen on (all are kernel centres)

    name: ClassVar[str] = "kde"
    state_names: ClassVar[tuple[str, ...]] = ("points_", "bandwidth_")

    def __post_init__(self) -> None:
        if not 0 < self.smallest < self.largest:
            raise ValueError("need 0 < smallest < largest")
        if self.candidates < 1 or self.folds < 2 or self.selection_points < self.folds:
            raise ValueError("need candidates ≥ 1, folds ≥ 2 and selection_points ≥ folds")

    def _estimate(self, data: np.ndarray, seed: int) -> float:
        rng = np.random.default_rng(seed)
        chosen = data[rng.permutation(len(data))[: self.selection_points]]
        scale = float(np.sqrt(data.var(axis=0).mean()))
        folds = KFold(min(self.folds, len(chosen)), shuffle=True, random_state=seed % 2**32)
        scores = []
        for bandwidth in scale * np.geomspace(self.smallest, self.largest, self.candidates):
            total = 0.0
            for fit_index, test_index in folds.split(chosen):
                total += float(log_kde(chosen[test_index], chosen[fit_index], bandwidth).sum())
            scores.append((total, bandwidth))
        # chosen with (folds − 1)/folds of ``chosen`` as kernel centres, used with all of
        # ``data``: scaled by the 2-D rate n^(−1/6) to that many centres
        centres = len(chosen) * (folds.get_n_splits() - 1) / folds.get_n_splits()
        best, chosen_bandwidth = max(scores)
        bandwidth = chosen_bandwidth * (centres / len(data)) ** (1 / 6)
        self._restore({"points_": data, "bandwidth_": np.array(bandwidth)})
        # the held-out loss of the chosen bandwidth: the in-sample one would count each
        # point's own kernel (and cost a pass over every pair of points)
        return float(-best / len(chosen))

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "points_")
        rng = np.random.default_rng(derive_seed(seed, "kde"))
        centres = self.points_[rng.integers(0, len(self.points_), size=num_samples)]
        points = centres + float(self.bandwidth_) * rng.standard_normal((num_samples, 2))
        return points.astype(np.float32)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        check_fitted(self, "points_")
        return log_kde(as_points(x), self.points_, float(self.bandwidth_))

"""The classical baselines: a Gaussian mixture whose component count BIC chooses, and a kernel
density estimate whose bandwidth cross-validation chooses; both with exact densities."""

import numpy as np
import pytest
from scipy.special import logsumexp

from genbench.metrics.exact_kl import kl_exact
from genbench.models.baselines import GMM, KDE, component_counts
from genbench.targets import get_target


@pytest.fixture(scope="module")
def mixture_of_eight():
    return GMM(max_components=10).fit(get_target("eight_gaussians"), 2000, seed=0)


def test_bic_finds_the_eight_modes_and_the_exact_density(mixture_of_eight):
    assert mixture_of_eight.components == 8
    target = get_target("eight_gaussians")
    distance = np.linalg.norm(target.means[:, None] - mixture_of_eight.means_[None], axis=-1)
    assert sorted(distance.argmin(axis=1)) == list(range(8))  # one component per mode
    assert distance.min(axis=1).max() < 0.05
    # its exact KL to the target is within 0.02 nats of 0 (2,000 training points)
    assert kl_exact(target, np.zeros((0, 2)), seed=0, model=mixture_of_eight) < 0.02


def test_bic_looks_past_16_components_where_the_target_needs_them():
    grid = get_target("grid25")  # 25 modes: more than every count tried one by one
    mixture = GMM().fit(grid, 500, seed=0)
    assert mixture.components >= 25
    distance = np.linalg.norm(grid.means[:, None] - mixture.means_[None], axis=-1)
    assert distance.min(axis=1).max() < 0.1  # a component on every mode


def test_the_component_counts_tried_are_every_one_to_16_then_quarter_steps():
    assert component_counts(10) == list(range(1, 11))
    assert component_counts(64) == [*range(1, 17), 20, 24, 28, 32, 40, 48, 60, 64]
    assert component_counts(18)[-2:] == [16, 18]  # the limit itself is always tried


@pytest.mark.parametrize(
    "bic, chosen, tried",
    [
        # worse at 15 and 16 does not stop the search: past 16 it goes on while it improves
        ({14: 10, 15: 30, 16: 20, 20: 5, 24: 4, 28: 6, 32: 7}, 24, [*range(1, 17), 20, 24, 28, 32]),
        # eight modes: two candidates past 16 worse than 8, and the search stops
        ({8: 1}, 8, [*range(1, 17), 20, 24]),
    ],
)
def test_bic_search_stops_at_the_second_worse_candidate_past_16(monkeypatch, bic, chosen, tried):
    fitted = []

    class Scripted:  # a GaussianMixture whose BIC at each count is the script's (else 100)
        def __init__(self, count, **options):
            self.count = count
            self.weights_ = np.full(count, 1 / count)
            self.means_ = np.zeros((count, 2))
            self.covariances_ = np.tile(np.eye(2), (count, 1, 1))

        def fit(self, data):
            fitted.append(self.count)
            return self

        def bic(self, data):
            return bic.get(self.count, 100)

        def score_samples(self, data):
            return np.zeros(len(data))

    monkeypatch.setattr("genbench.models.baselines.GaussianMixture", Scripted)
    assert GMM().fit(get_target("spiral"), 100, seed=0).components == chosen
    assert fitted == tried


def test_gmm_samples_are_not_grouped_by_component(mixture_of_eight):
    first = mixture_of_eight.sample(80, seed=1)
    modes = get_target("eight_gaussians").region_of(first)
    assert len(set(modes[:20])) >= 4  # scikit-learn's own sample() gives one component first
    assert not np.array_equal(first, mixture_of_eight.sample(80, seed=2))


def test_gmm_log_prob_is_the_mixture_density(mixture_of_eight):
    x = np.array([[2.0, 0.0], [0.3, -0.4]])
    m = mixture_of_eight
    by_component = [
        np.log(w)
        - np.log(2 * np.pi)
        - 0.5 * np.linalg.slogdet(c)[1]
        - 0.5 * np.einsum("ni,ij,nj->n", x - mu, np.linalg.inv(c), x - mu)
        for w, mu, c in zip(m.weights_, m.means_, m.covariances_, strict=True)
    ]
    np.testing.assert_allclose(m.log_prob(x), logsumexp(by_component, axis=0), rtol=1e-10)


def test_kde_is_the_average_kernel_on_its_points():
    kde = KDE().fit(get_target("gaussian"), 50, seed=0)
    x = np.array([[0.1, 0.2], [-1.0, 0.5]])
    h = float(kde.bandwidth_)
    squared = ((x[:, None, :] - kde.points_[None]) ** 2).sum(-1)  # (2, 50)
    expected = logsumexp(-squared / (2 * h**2), axis=1) - np.log(50 * 2 * np.pi * h**2)
    np.testing.assert_allclose(kde.log_prob(x), expected, rtol=1e-10)


def test_kde_bandwidth_is_near_silvermans_on_a_gaussian():
    # for N(0, I₂) and n points the rule-of-thumb bandwidth is n^(−1/6)
    kde = KDE().fit(get_target("gaussian"), 2000, seed=0)
    assert 0.5 < float(kde.bandwidth_) / 2000 ** (-1 / 6) < 2


def test_kde_samples_are_its_points_plus_kernel_noise():
    kde = KDE().fit(get_target("spiral"), 500, seed=0)
    x = kde.sample(4000, seed=3)
    nearest = np.sqrt(((x[:, None, :] - kde.points_[None]) ** 2).sum(-1)).min(axis=1)
    # the distance to the nearest centre is at most the kernel's: Rayleigh(h) has mean 1.25 h
    assert np.mean(nearest) < 1.26 * float(kde.bandwidth_)


@pytest.mark.parametrize("family", [GMM, KDE])
def test_too_few_points_or_bad_settings_are_one_clear_error(family):
    with pytest.raises(ValueError, match="at least 2"):
        family().fit(get_target("gaussian"), 1, seed=0)
    bad = {"max_components": 0} if family is GMM else {"smallest": 1.0, "largest": 0.5}
    with pytest.raises(ValueError):
        family(**bad)


def test_on_a_finite_training_set_the_baselines_see_each_point_once():
    """Resampled repeats would sit on both sides of the cross-validation and pick the
    smallest bandwidth: from a training set, an estimator takes its distinct points."""
    from genbench.targets.training import TrainingSet

    training = TrainingSet(get_target("eight_gaussians"), 200, seed=0)
    kde = KDE().fit(training, 3000, seed=0)
    assert len(kde.points_) == 200 and len(np.unique(kde.points_, axis=0)) == 200
    assert np.isin(kde.points_, training.points).all()
    assert kde.bandwidth_ > 0.01  # fresh draws of the same size choose about 0.08
    fewer = KDE().fit(training, 50, seed=0)
    assert len(fewer.points_) == 50

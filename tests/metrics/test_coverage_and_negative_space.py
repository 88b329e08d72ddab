"""Mode coverage and negative space on planted sample sets with known answers."""

import numpy as np
import pytest

from genbench.metrics import kl_forward, mode_coverage, negative_space
from genbench.targets import get_target


@pytest.fixture(scope="module")
def eight():
    return get_target("eight_gaussians")


def draws_from_modes(target, modes, n, seed=0):
    rng = np.random.default_rng(seed)
    chosen = rng.choice(modes, size=n)
    return target.means[chosen] + target.std * rng.standard_normal((n, 2))


def test_five_of_eight_modes_cover_five_eighths(eight):
    assert mode_coverage(eight, draws_from_modes(eight, [0, 1, 3, 4, 6], 5_000)) == 5 / 8


def test_all_modes_covered_by_the_target_itself(eight):
    assert mode_coverage(eight, eight.sample(5_000, seed=1)) == 1.0


def test_a_single_point_covers_one_mode_and_misses_the_rest(eight):
    collapsed = np.tile(eight.means[2], (5_000, 1))
    assert mode_coverage(eight, collapsed) == 1 / 8
    assert kl_forward(eight, collapsed) > 50  # nearly all of p is far from the point


def test_an_underfilled_mode_does_not_count(eight):
    # mode 0 gets 10 % of what a perfect sampler gives it: below the 20 % bar
    full = draws_from_modes(eight, list(range(1, 8)), 7_000, seed=2)
    thin = draws_from_modes(eight, [0], 100, seed=3)  # perfect would be ~1,000
    assert mode_coverage(eight, np.vstack([full, thin])) == 7 / 8


def test_samples_between_modes_cover_nothing(eight):
    between = np.tile([0.0, 0.0], (1_000, 1))  # the origin lies outside every mode's HDR disk
    assert mode_coverage(eight, between) == 0.0


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5])
def test_negative_space_counts_planted_outliers(eight, fraction):
    n = 20_000
    outliers = int(fraction * n)
    rng = np.random.default_rng(4)
    # the square |x|, |y| < 0.5 is more than 1.29 from every mean: far outside the HDR
    planted = rng.uniform(-0.5, 0.5, size=(outliers, 2))
    samples = np.vstack([eight.sample(n - outliers, seed=5), planted])
    expected = (1 - fraction) * 0.01 + fraction
    assert negative_space(eight, samples) == pytest.approx(expected, abs=0.004)


def test_negative_space_of_a_perfect_sampler_is_one_percent():
    for name in ["gaussian", "eight_gaussians", "spiral"]:
        target = get_target(name)
        assert negative_space(target, target.sample(50_000, seed=6)) == pytest.approx(
            0.01, abs=0.002
        )

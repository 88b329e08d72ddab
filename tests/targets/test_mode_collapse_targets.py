"""The mode-collapse targets ``ring8`` and ``grid25`` against their closed forms."""

import numpy as np
import pytest
from scipy.special import logsumexp

from genbench.targets import HDR_MASS, EightGaussians, get_target
from genbench.targets.grid25 import Grid25

NAMES = ["ring8", "grid25"]
NUM_DRAWS = 200_000
# E[x xᵀ] = (1/K) Σₖ μₖμₖᵀ + std²·I: r²/2 for 8 means on a circle of radius 1, and the variance
# 8 of the uniform law on {−4, −2, 0, 2, 4} for the grid; E[x] = 0 for both.
SECOND_MOMENT = {"ring8": 0.5 + 0.01**2, "grid25": 8.0 + 0.05**2}


@pytest.fixture(scope="module", params=NAMES)
def target(request):
    return get_target(request.param)


@pytest.fixture(scope="module")
def draws(target):
    return target.sample(NUM_DRAWS, seed=11)


def test_ring8_is_eight_gaussians_on_the_unit_circle_with_std_001():
    ring = get_target("ring8")
    assert isinstance(ring, EightGaussians)
    assert (ring.radius, ring.std, ring.num_modes) == (1.0, 0.01, 8)
    angles = 2 * np.pi * np.arange(8) / 8
    np.testing.assert_allclose(ring.means, np.column_stack([np.cos(angles), np.sin(angles)]))
    assert ring.fingerprint != get_target("eight_gaussians").fingerprint


def test_grid25_means_are_the_grid_with_std_005():
    grid = get_target("grid25")
    axis = [-4.0, -2.0, 0.0, 2.0, 4.0]
    np.testing.assert_array_equal(grid.means, [(a, b) for a in axis for b in axis])
    assert grid.std == 0.05 and len(grid.region_names) == 25


def test_sample_moments_match_the_closed_form(target, draws):
    standard_error = draws.std(axis=0) / np.sqrt(NUM_DRAWS)
    assert np.all(np.abs(draws.mean(axis=0)) < 5 * standard_error)
    products = draws[:, :, None] * draws[:, None, :]  # (n, 2, 2)
    expected = SECOND_MOMENT[target.name] * np.eye(2)
    standard_error = products.std(axis=0) / np.sqrt(NUM_DRAWS)
    assert np.all(np.abs(products.mean(axis=0) - expected) < 5 * standard_error)


def test_draws_scatter_around_their_nearest_mean_with_the_stated_std(target, draws):
    residual = draws - target.means[target.region_of(draws)]  # (n, 2), ~ N(0, std² I)
    assert np.all(np.abs(residual.mean(axis=0)) < 5 * target.std / np.sqrt(NUM_DRAWS))
    # the sample variance of N(0, σ²) has standard error σ²·√(2/n)
    variance_error = target.std**2 * np.sqrt(2 / NUM_DRAWS)
    assert np.all(np.abs(residual.var(axis=0) - target.std**2) < 5 * variance_error)


def test_log_prob_is_the_log_sum_exp_over_the_modes(target, draws):
    rng = np.random.default_rng(0)
    spread = rng.uniform(-target.plot_range, target.plot_range, size=(1_000, 2))
    x = np.concatenate([draws[:1_000], spread, [[100.0, -100.0]]])
    means, std = target.means, target.std
    squared = ((x[:, None, :] - means[None]) ** 2).sum(axis=2)  # (n, K)
    expected = logsumexp(-squared / (2 * std**2), axis=1) - np.log(2 * np.pi * std**2 * len(means))
    np.testing.assert_allclose(target.log_prob(x), expected, rtol=1e-10, atol=1e-8)


def test_log_prob_integrates_to_one(target):
    # cells of half a std: the midpoint rule is then exact for these Gaussians to far below 1e-9
    size = int(np.ceil(2 * target.plot_range / (target.std / 2)))
    points, cell = target.grid(size)
    assert np.sum(target.prob(points)) * cell == pytest.approx(1.0, abs=1e-9)


def test_each_mean_lies_in_its_own_region_which_is_the_nearest_mean(target):
    modes = np.arange(len(target.means))
    assert target.region_of(target.means).tolist() == modes.tolist()
    x = np.random.default_rng(1).uniform(-target.plot_range, target.plot_range, size=(20_000, 2))
    nearest = np.linalg.norm(x[:, None, :] - target.means[None], axis=2).argmin(axis=1)
    assert np.array_equal(target.region_of(x), nearest)


def test_regions_hold_equal_masses(target, draws):
    num_modes = len(target.means)
    np.testing.assert_array_equal(target.region_masses, np.full(num_modes, 1 / num_modes))
    frequency = np.bincount(target.region_of(draws), minlength=num_modes) / NUM_DRAWS
    standard_error = np.sqrt((1 / num_modes) * (1 - 1 / num_modes) / NUM_DRAWS)
    assert np.all(np.abs(frequency - 1 / num_modes) < 5 * standard_error)


def test_hdr_is_the_union_of_the_99_percent_disks(target, draws):
    # alone in its region, each mode's HDR is the disk ‖x − μ‖² <= −2σ² ln(1 − HDR_MASS), where
    # the density is (1/K)·N(μ, σ²I) at that radius
    num_modes = len(target.means)
    closed_form = np.log(1 - HDR_MASS) - np.log(2 * np.pi * target.std**2 * num_modes)
    assert target.hdr_threshold == pytest.approx(closed_form, abs=1e-3)
    np.testing.assert_allclose(target.hdr_region_masses, HDR_MASS / num_modes, atol=1e-5)
    inside = target.in_hdr(draws)
    assert inside.mean() == pytest.approx(HDR_MASS, abs=5 * np.sqrt(0.01 * 0.99 / NUM_DRAWS))
    frequency = np.bincount(target.region_of(draws[inside]), minlength=num_modes) / NUM_DRAWS
    masses = target.hdr_region_masses
    assert np.all(np.abs(frequency - masses) < 5 * np.sqrt(masses / NUM_DRAWS))


def test_grid25_hdr_matches_grid_integration():
    grid = get_target("grid25")
    threshold, masses = grid._grid_hdr()  # the generic numerical fallback, over the plot range
    assert grid.hdr_threshold == pytest.approx(threshold, abs=0.01)
    np.testing.assert_allclose(grid.hdr_region_masses, masses, atol=1e-3)


def test_grid25_refuses_overlapping_modes():
    with pytest.raises(ValueError, match="overlap"):
        Grid25(std=0.5)

"""Every target's density, sampler, regions and HDR, checked against each other and closed forms."""

import numpy as np
import pytest

from genbench.registry import UnknownNameError, targets
from genbench.targets import HDR_MASS, EightGaussians, Spiral, get_target

SPEC_NAMES = ["gaussian", "eight_gaussians", "spiral"]
# the density tests below run over every 2-D target, plug-ins included (tests/targets/
# test_digits.py checks the image target)
NAMES = [name for name in targets.available() if targets.get(name).kind == "points"]
NUM_DRAWS = 200_000


@pytest.fixture(scope="module", params=NAMES)
def target(request):
    return get_target(request.param)


@pytest.fixture(scope="module")
def draws(target):
    return target.sample(NUM_DRAWS, seed=123)


def test_registry_holds_the_spec_targets():
    assert set(SPEC_NAMES) <= set(NAMES)


def test_unknown_target_names_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown target .moons. \(available: .*spiral"):
        get_target("moons")


def test_log_prob_integrates_to_one(target):
    # an even size puts no cell centre on the origin, where the spiral's density is singular;
    # 2,000 cells a side resolve the narrowest target (ring8, std 0.01) to 1e-6 and the spiral
    # to 3e-4
    points, cell = target.grid(2000)
    assert np.sum(target.prob(points)) * cell == pytest.approx(1.0, abs=1e-3)


def test_log_prob_agrees_with_histogram_of_samples(target, draws):
    bins = 24
    edges = np.linspace(-target.plot_range, target.plot_range, bins + 1)
    counts, _, _ = np.histogram2d(draws[:, 0], draws[:, 1], bins=[edges, edges])
    # exact bin masses: integrate the density on a 30 × 30 sub-grid inside every bin
    points, cell = target.grid(bins * 30)
    sub = target.prob(points).reshape(bins, 30, bins, 30) * cell
    exact = sub.sum(axis=(1, 3))
    total_variation = 0.5 * np.abs(counts / NUM_DRAWS - exact).sum()
    assert total_variation < 0.02


def test_samples_have_finite_log_prob(target, draws):
    assert draws.shape == (NUM_DRAWS, 2) and draws.dtype == np.float64
    assert np.isfinite(target.log_prob(draws)).all()


def test_sampling_is_reproducible(target):
    assert np.array_equal(target.sample(100, seed=5), target.sample(100, seed=5))
    assert not np.array_equal(target.sample(100, seed=5), target.sample(100, seed=6))
    assert target.sample(0, seed=1).shape == (0, 2)


def test_regions_have_their_stated_masses(target, draws):
    masses = target.region_masses
    assert len(masses) == len(target.region_names)
    assert masses.sum() == pytest.approx(1.0)
    regions = target.region_of(draws)
    assert (regions >= 0).all()  # the regions partition all of the target's mass
    frequency = np.bincount(regions, minlength=len(masses)) / NUM_DRAWS
    standard_error = np.sqrt(masses * (1 - masses) / NUM_DRAWS)
    assert np.all(np.abs(frequency - masses) < 5 * standard_error)


def test_hdr_holds_99_percent_and_its_region_masses(target, draws):
    inside = target.in_hdr(draws)
    assert inside.mean() == pytest.approx(HDR_MASS, abs=5 * np.sqrt(0.01 * 0.99 / NUM_DRAWS))
    masses = target.hdr_region_masses
    assert masses.sum() == pytest.approx(HDR_MASS, abs=1e-4)
    regions = target.region_of(draws[inside])
    frequency = np.bincount(regions, minlength=len(masses)) / NUM_DRAWS
    assert np.all(np.abs(frequency - masses) < 5 * np.sqrt(masses / NUM_DRAWS))


@pytest.mark.parametrize("name", ["gaussian", "spiral"])
def test_closed_form_hdr_matches_grid_integration(name):
    target = get_target(name)
    threshold, masses = target._grid_hdr()  # the generic numerical fallback
    assert target.hdr_threshold == pytest.approx(threshold, abs=0.01)
    # the grid is least accurate next to the spiral's 1/‖x‖ singularity, in its first segment
    np.testing.assert_allclose(target.hdr_region_masses, masses, atol=2.5e-3)


def test_known_density_values():
    gaussian, eight, spiral = (get_target(n) for n in SPEC_NAMES)
    origin = np.zeros((1, 2))
    assert gaussian.log_prob(origin)[0] == pytest.approx(-np.log(2 * np.pi))
    # at a mode's mean the other modes are more than 7 std away: p = 1/8 · N(0; 0, 0.04 I)
    assert eight.log_prob(np.array([[2.0, 0.0]]))[0] == pytest.approx(
        np.log(1 / 8 / (2 * np.pi * 0.04)), abs=1e-6
    )
    # spiral: the arm passes θ = 0 at u₀ = 0, radius 0.5; p = 1/(0.6π r) there
    assert spiral.log_prob(np.array([[0.5, 0.0]]))[0] == pytest.approx(-np.log(0.6 * np.pi * 0.5))
    # between turns (radius 0.65 at θ = 0) and beyond the arm the density is exactly 0
    off_arm = np.array([[0.65, 0.0], [1.5, 0.0]])
    assert np.all(spiral.log_prob(off_arm) == -np.inf)
    assert np.all(spiral.region_of(off_arm) == -1)


def test_spiral_segments_follow_the_arm():
    spiral = get_target("spiral")
    u = np.linspace(-0.99, 0.99, 12)  # one point in each segment, centred on the arm
    radius = 0.05 + 0.45 * (u + 1)
    theta = 3 * np.pi * u
    points = np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])
    assert spiral.region_of(points).tolist() == list(range(12))


def test_fingerprint_identifies_the_parameters():
    assert EightGaussians().fingerprint == get_target("eight_gaussians").fingerprint
    assert EightGaussians(std=0.1).fingerprint != EightGaussians().fingerprint
    assert len({get_target(n).fingerprint for n in SPEC_NAMES}) == 3


def test_spiral_refuses_overlapping_turns():
    with pytest.raises(ValueError, match="overlap"):
        Spiral(half_width=0.2)


def test_log_prob_rejects_wrong_shapes(target):
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        target.log_prob(np.zeros((5, 3)))

"""The PacGAN/VEEGAN mode metrics on planted sample sets with closed-form values."""

import math

import numpy as np
import pytest
from scipy.stats import chi2

from genbench.api import score
from genbench.metrics.base import default_metrics
from genbench.metrics.modes import (
    NUM_COUNTED,
    QUALITY_MASS,
    high_quality,
    mode_counts,
    mode_shares,
    modes_captured,
    modes_kl,
)
from genbench.targets import get_target

MIXTURES = ["ring8", "grid25"]
MODE_METRICS = ["high_quality", "modes_captured", "modes_kl"]


@pytest.fixture(scope="module", params=MIXTURES)
def target(request):
    return get_target(request.param)


def on_modes(target, modes, per_mode, distance_in_std, seed=0):
    """``per_mode`` points on each mode of ``modes``, each ``distance_in_std`` stds from its
    mean in a random direction, (len(modes)·per_mode, 2)."""
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(modes) * per_mode)
    offset = distance_in_std * target.std * np.column_stack([np.cos(angle), np.sin(angle)])
    return np.repeat(target.means[modes], per_mode, axis=0) + offset


def test_a_perfect_sampler_within_3_stds_is_chi2_2_below_9():
    np.testing.assert_allclose(QUALITY_MASS, chi2.cdf(9, df=2), rtol=1e-12)


def test_the_targets_own_samples_score_the_perfect_sampler_values(target):
    num_samples = 20_000
    samples = target.sample(num_samples, seed=2)
    tolerance = 5 * np.sqrt(QUALITY_MASS * (1 - QUALITY_MASS) / num_samples)
    assert high_quality(target, samples) == pytest.approx(QUALITY_MASS, abs=tolerance)
    assert modes_captured(target, samples, seed=0) == 1.0
    # 2m·KL is the G statistic of a multinomial histogram against its own law, close to
    # χ²_{K−1}: the oracle's small-sample bias stays below its 99.9 % quantile over 2m.
    num_quality = mode_counts(target, samples, seed=0).sum()
    assert NUM_COUNTED * 0.97 < num_quality <= NUM_COUNTED
    bias_bound = chi2.ppf(0.999, df=len(target.means) - 1) / (2 * num_quality)
    assert 0 < modes_kl(target, samples, seed=0) < bias_bound


@pytest.mark.parametrize(("name", "kept"), [("ring8", 6), ("grid25", 20)])
def test_samples_on_some_modes_capture_those_and_split_kl_in_closed_form(name, kept):
    target = get_target(name)
    num_modes = len(target.means)
    per_mode = NUM_COUNTED // num_modes  # n below 2,500: every sample counts, the split is even
    samples = on_modes(target, np.arange(kept), per_mode, distance_in_std=2.0)
    assert high_quality(target, samples) == 1.0
    assert modes_captured(target, samples) == kept / num_modes
    assert modes_kl(target, samples) == pytest.approx(math.log(num_modes) - math.log(kept))


def test_a_dropped_mode_shows_in_a_subset_of_many_samples():
    ring = get_target("ring8")
    samples = on_modes(ring, np.arange(7), 2_000, distance_in_std=1.0)  # 14,000 > 2,500
    assert modes_captured(ring, samples, seed=4) == 7 / 8
    # the seeded subset of 2,500 splits them nearly evenly over the 7 modes
    assert modes_kl(ring, samples, seed=4) == pytest.approx(math.log(8 / 7), abs=0.01)


def test_collapse_onto_one_mode(target):
    samples = on_modes(target, np.array([3]), 1_000, distance_in_std=0.5)
    assert high_quality(target, samples) == 1.0
    assert modes_captured(target, samples) == 1 / len(target.means)
    assert modes_kl(target, samples) == pytest.approx(math.log(len(target.means)))


def test_samples_off_every_mode_capture_nothing(target):
    if target.name == "ring8":  # on the ring, halfway between neighbouring means
        angle = 2 * np.pi * (np.arange(8) + 0.5) / 8
        samples = np.repeat(np.column_stack([np.cos(angle), np.sin(angle)]), 50, axis=0)
    else:  # the corners where four cells meet, 28 stds from every mean
        axis = np.array([-3.0, -1.0, 1.0, 3.0])
        samples = np.repeat([(a, b) for a in axis for b in axis], 25, axis=0)
    assert high_quality(target, samples) == 0.0
    assert modes_captured(target, samples) == 0.0
    assert modes_kl(target, samples) == pytest.approx(math.log(len(target.means)))  # the worst


@pytest.mark.parametrize(("distance_in_std", "quality"), [(2.5, 1.0), (2.99, 1.0), (3.5, 0.0)])
def test_high_quality_means_within_3_stds_of_a_mean(target, distance_in_std, quality):
    modes = np.arange(len(target.means))
    samples = on_modes(target, modes, 20, distance_in_std)
    assert high_quality(target, samples) == quality
    assert modes_captured(target, samples) == quality


def test_values_are_reproducible_and_the_subset_follows_the_seed():
    ring = get_target("ring8")
    samples = ring.sample(10_000, seed=7)
    for metric in [high_quality, modes_captured, modes_kl]:
        assert metric(ring, samples, seed=1) == metric(ring, samples, seed=1)
    assert high_quality(ring, samples, seed=1) == high_quality(ring, samples, seed=2)  # all n
    assert modes_kl(ring, samples, seed=1) != modes_kl(ring, samples, seed=2)  # other subsets


def test_the_mode_metrics_are_opt_in():
    samples = get_target("ring8").sample(500, seed=3)
    assert not set(MODE_METRICS) & set(default_metrics())
    assert not set(MODE_METRICS) & set(score("ring8", samples))
    asked = score("ring8", samples, seed=5, metrics=MODE_METRICS)
    assert asked["high_quality"] == high_quality(get_target("ring8"), samples)
    assert asked["modes_captured"] == 1.0
    assert asked["modes_kl"] == modes_kl(get_target("ring8"), samples, seed=5)


# Targets without means: high quality is the highest-density region of mass 1 − e^(−4.5).


def test_on_the_standard_gaussian_high_quality_is_the_3_std_disk():
    gaussian = get_target("gaussian")
    angle = np.linspace(0, 2 * np.pi, 160, endpoint=False)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])  # (160, 2) on the unit circle
    assert high_quality(gaussian, 2.95 * circle) == 1.0
    assert high_quality(gaussian, 3.05 * circle) == 0.0
    # the inner shell lies inside the disk; the outer one loses the e^(−4.5) beyond it. The
    # shares come from a grid whose cells on sector edges go whole to one side, which moves
    # mass between sectors by about 1 % but not between the shells.
    shares = mode_shares(gaussian)
    assert shares[:8].sum() == pytest.approx(0.5 / QUALITY_MASS, abs=2e-4)
    assert shares[8:].sum() == pytest.approx((0.5 - math.exp(-4.5)) / QUALITY_MASS, abs=2e-4)
    np.testing.assert_allclose(shares[:8], 0.5 / 8 / QUALITY_MASS, rtol=0.02)


def test_on_the_spiral_the_oracle_scores_the_perfect_sampler_values():
    spiral = get_target("spiral")
    num_samples = 20_000
    samples = spiral.sample(num_samples, seed=2)
    tolerance = 5 * np.sqrt(QUALITY_MASS * (1 - QUALITY_MASS) / num_samples)
    assert high_quality(spiral, samples) == pytest.approx(QUALITY_MASS, abs=tolerance)
    assert modes_captured(spiral, samples) == 1.0
    assert modes_kl(spiral, samples) < chi2.ppf(0.999, df=11) / (2 * 0.97 * NUM_COUNTED)
    first_segment = samples[spiral.region_of(samples) == 0]
    assert modes_captured(spiral, first_segment) == 1 / 12
    assert modes_kl(spiral, first_segment) == pytest.approx(-math.log(mode_shares(spiral)[0]))

"""Flow matching: the optimal-transport pairing, an exact density that integrates to one and
that the samples follow, solvers that share one trained network, and a flow that learns."""

import numpy as np
import pytest
import torch
from scipy import stats

from genbench.metrics.exact_kl import kl_exact
from genbench.models.flow_matching import FlowMatching, integrate, ot_pairs
from genbench.models.stack import Streams
from genbench.plan import group_key
from genbench.targets import get_target
from tests.models.tiny import tiny_model

SMALL = dict(width=32, depth=2, input_frequencies=8, batch_size=128, likelihood_steps=40)


@pytest.fixture(scope="module")
def gaussian_flow():
    """A small flow trained on N(0, I): quick, and with a known answer."""
    torch.set_num_threads(1)
    return FlowMatching(**SMALL).fit(get_target("gaussian"), 800, seed=0)


def test_ot_pairs_is_the_cheapest_permutation():
    rng = torch.Generator().manual_seed(0)
    noise, data = torch.randn(64, 2, generator=rng), torch.randn(64, 2, generator=rng) + 3
    paired = ot_pairs(noise, data)
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, data.tolist()))
    cost = ((noise - paired) ** 2).sum()
    for _ in range(20):  # no random permutation does better
        other = data[torch.randperm(64, generator=rng)]
        assert cost <= ((noise - other) ** 2).sum()


def test_the_solvers_take_their_textbook_steps():
    # dx/dt = −x: one Euler step multiplies x by 1 − h, one midpoint step by 1 − h + h²/2
    ones, h = torch.ones(1, 2, dtype=torch.float64), 1 / 50
    euler = integrate(lambda x, t: -x, ones, 0.0, 1.0, 50, "euler")
    midpoint = integrate(lambda x, t: -x, ones, 0.0, 1.0, 50, "midpoint")
    assert euler[0, 0].item() == pytest.approx((1 - h) ** 50, rel=1e-12)
    assert midpoint[0, 0].item() == pytest.approx((1 - h + h**2 / 2) ** 50, rel=1e-12)
    assert abs(midpoint[0, 0].item() - np.exp(-1)) < 3e-5  # second order: error ≈ e⁻¹h²/6
    back = integrate(lambda x, t: -x, ones, 1.0, 0.0, 50, "midpoint")  # backwards in time
    assert back[0, 0].item() == pytest.approx((1 + h + h**2 / 2) ** 50, rel=1e-12)


def test_its_density_integrates_to_one_and_learns_the_gaussian(gaussian_flow):
    grid = np.linspace(-6, 6, 121)
    xx, yy = np.meshgrid(grid, grid)
    density = np.exp(gaussian_flow.log_prob(np.column_stack([xx.ravel(), yy.ravel()])))
    assert density.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=0.02)
    assert kl_exact(get_target("gaussian"), np.zeros((0, 2)), seed=0, model=gaussian_flow) < 0.05


def test_samples_follow_the_density(gaussian_flow):
    # the mean log-density of its own samples is the entropy's negative: for N(0, I₂) about
    # −(1 + ln 2π) = −2.84
    x = gaussian_flow.sample(4000, seed=1)
    assert gaussian_flow.log_prob(x).mean() == pytest.approx(-(1 + np.log(2 * np.pi)), abs=0.1)


def test_the_solvers_share_one_trained_network():
    euler = tiny_model("fm", sampler="euler", sampling_steps=10)
    midpoint = tiny_model("fm", sampler="midpoint", sampling_steps=40, likelihood_steps=7)
    assert group_key_of(euler) == group_key_of(midpoint)
    assert group_key_of(euler) != group_key_of(tiny_model("fm", coupling="ot"))


def group_key_of(model):
    from genbench.plan import RunSpec

    spec = RunSpec("gaussian", "fm", "fm", 2, 0, 100, 500, model.params())
    return group_key(spec, FlowMatching)


@pytest.mark.parametrize(
    "bad",
    [
        {"coupling": "sinkhorn"},
        {"sampler": "rk4"},
        {"activation": "tanh"},
        {"sampling_steps": 0},
        {"time_sampling": "beta"},
        {"time_uniform": 1.5},
        {"time_location": float("nan")},
    ],
)
def test_bad_settings_are_one_clear_error(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        FlowMatching(**bad)


@pytest.mark.parametrize("location", [0.0, 1.0])
def test_logit_normal_times_have_their_law(location):
    flow = FlowMatching(
        time_sampling="logit_normal", time_location=location, time_uniform=0, batch_size=5000
    )
    t = flow._times(Streams([0], "cpu", single=True)).double().numpy()
    assert t.shape == (5000,) and ((t > 0) & (t < 1)).all()
    logits = np.log(t / (1 - t))  # N(location, 1) by construction
    assert stats.kstest(logits - location, "norm").pvalue > 0.01
    if location:  # the path's end near the data is drawn more often than its start
        assert stats.kstest(logits, "norm").pvalue < 1e-6
        assert np.median(t) == pytest.approx(1 / (1 + np.exp(-location)), abs=0.02)


def test_uniform_times_are_uniform():
    flow = FlowMatching(time_sampling="uniform", batch_size=5000)
    t = flow._times(Streams([0], "cpu", single=True)).double().numpy()
    assert stats.kstest(t, "uniform").pvalue > 0.01


def test_the_default_times_mix_uniform_and_logit_normal_ones():
    flow = FlowMatching(batch_size=20000)
    assert (flow.time_sampling, flow.time_location, flow.time_uniform) == ("logit_normal", 1.5, 0.5)
    t = flow._times(Streams([0], "cpu", single=True)).double().numpy()

    def mixture_cdf(x: np.ndarray) -> np.ndarray:
        logit = np.log(x / (1 - x))
        return 0.5 * x + 0.5 * stats.norm.cdf(logit - 1.5)

    assert stats.kstest(t, mixture_cdf).pvalue > 0.01
    assert stats.kstest(t, "uniform").pvalue < 1e-6
    # the start of the paths keeps half the density of uniform times (0.05 of the draws below
    # 0.1), where logit-normal times alone would leave it almost untrained (0.0001)
    assert (t < 0.1).mean() == pytest.approx(0.05, abs=0.006)

"""RealNVP is a bijection whose log-density is exact: invertible, right Jacobian, normalised."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genbench.models.realnvp import RealNVP
from genbench.targets import get_target


@pytest.fixture
def random_flow() -> RealNVP:
    """An untrained flow with random (not identity) couplings."""
    flow = RealNVP(num_couplings=4, width=16)
    flow._build(seed=3)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in flow.couplings_.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return flow


@pytest.fixture(scope="module")
def trained_flow() -> RealNVP:
    return RealNVP(num_couplings=6, width=32, lr=3e-3).fit(get_target("eight_gaussians"), 150, 0)


def test_starts_as_the_identity():
    flow = RealNVP()
    flow._build()
    x = torch.randn(100, 2)
    z, log_det = flow.to_latent(x)
    assert torch.equal(z, x) and torch.equal(log_det, torch.zeros(100))


def test_is_invertible(random_flow):
    x = torch.randn(1000, 2, dtype=torch.float32) * 2
    z, _ = random_flow.to_latent(x)
    assert not torch.allclose(z, x)
    torch.testing.assert_close(random_flow.to_data(z), x, atol=1e-4, rtol=1e-4)


def test_log_det_is_the_jacobians(random_flow):
    for point in torch.randn(5, 2):
        jacobian = torch.autograd.functional.jacobian(
            lambda x: random_flow.to_latent(x[None])[0][0], point
        )
        _, log_det = random_flow.to_latent(point[None])
        assert log_det.item() == pytest.approx(
            torch.linalg.det(jacobian).abs().log().item(), abs=1e-4
        )


@pytest.mark.parametrize("flow", ["random_flow", "trained_flow"])
def test_density_integrates_to_one(flow, request):
    model: RealNVP = request.getfixturevalue(flow)
    edges = np.linspace(-10, 10, 501)  # 0.04 cells; the modes' std is 0.2
    centres = (edges[:-1] + edges[1:]) / 2
    grid = np.stack(np.meshgrid(centres, centres, indexing="ij"), axis=-1).reshape(-1, 2)
    mass = np.exp(model.log_prob(grid)).sum() * (edges[1] - edges[0]) ** 2
    assert mass == pytest.approx(1, abs=2e-3)


def test_maximum_likelihood_approaches_the_target(trained_flow):
    target = get_target("eight_gaussians")
    x = target.sample(5000, seed=1)
    log_q, log_p = trained_flow.log_prob(x).mean(), target.log_prob(x).mean()
    base = RealNVP()  # the identity flow: log N(x; 0, I)
    base._build()
    assert base.log_prob(x).mean() < log_q < log_p  # better than the base; no better than p


def test_a_negative_clipping_norm_is_refused():
    with pytest.raises(ValueError, match="max_grad_norm"):
        RealNVP(max_grad_norm=-1.0)

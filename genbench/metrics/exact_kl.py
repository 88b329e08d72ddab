"""KL(p ‖ q) from the model's own log-density: the one KL with no kernel and no bandwidth in it.

For a model with a density, KL(p ‖ q) = E_{x~p}[log p(x) − log q(x)] is a plain mean over fresh
target draws of the target's exact log-density minus the model's ``log_prob`` at the same points
(the paired estimator): no KDE smooths the samples, so there is no smoothing floor, and the
target's own sampler (the oracle, whose ``log_prob`` is the target's) scores exactly 0. It
reads the trained model, not its samples, so it is scored in a grid's runs, not by
``genbench score``; all three metrics are opt-in (a preset's ``metrics``, or ``--metrics``).

- ``kl_exact``: for models whose ``log_prob`` is exact (RealNVP, flow matching, the classical
  baselines ``gmm``, ``kde`` and ``bayesnet``, the oracle). NaN for the others.
- ``kl_upper``: for every model with a ``log_prob``. Where it is a lower bound on log q (the
  VAE's importance-weighted ELBO), E_p[log p − bound] is an *upper bound* on KL(p ‖ q), as tight
  as the bound; where it is exact, it is the KL itself. NaN for models without a density (the
  GAN, DDPM).
- ``kl_elbo``: the same upper bound from the plain ELBO, for models that have one (the VAE):
  looser than ``kl_upper``'s, never below it, and what the VAE's training objective says of its
  fit. Their gap is what importance weighting gains. NaN for the others.

Set them beside ``kl_forward``, which estimates KL(p ‖ q̂) for the KDE q̂ of the samples: a model
can be near 0 here and still pay ``kl_forward``'s smoothing floor there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

from genbench.metrics.base import metric
from genbench.seeding import derive_seed
from genbench.targets.base import Target

NUM_REFERENCE = 10_000  # fresh target draws per estimate: a standard error of s/100 nats


class DensityModel(Protocol):
    """What these metrics read of a trained model (a ``GenerativeModel``); a model with an
    ELBO (the VAE) also has ``elbo(x)``, a lower bound on log q(x) like ``log_prob``."""

    has_log_prob: bool
    log_prob_is_bound: bool

    def log_prob(self, x: np.ndarray) -> np.ndarray: ...


def paired_kl(target: Target, log_density: Callable[[np.ndarray], np.ndarray], seed: int) -> float:
    """E_{x~p}[log p(x) − log_density(x)] over ``NUM_REFERENCE`` fresh target draws, in nats;
    +∞ if ``log_density`` gives some draw no density at all."""
    # the same draws for every metric here: for an exact density they are the same number
    reference = target.sample(NUM_REFERENCE, derive_seed(seed, "exact_kl"))
    log_p = target.log_prob(reference)
    log_q = np.asarray(log_density(reference), dtype=np.float64)
    if np.isneginf(log_q).any():
        return math.inf
    return float(np.mean(log_p - log_q))


@metric(
    "kl_exact",
    ideal=0.0,
    description="KL(p ‖ q), nats, from the model's exact log-density (no KDE); NaN without one",
    label="KL(p ‖ q), exact density",
    short_label="KL exact",
    unit="nats",
    # a paired mean: it can stray a hair below 0 for a model as good as the target, so a
    # linear axis (a log one cannot show 0, which the oracle scores exactly)
    bounds=(0.0, math.inf),
    practical_change=0.02,
    default=False,
    uses_model=True,
    beside="kl_forward",  # the same divergence without the KDE's smoothing
)
def kl_exact(target: Target, samples: np.ndarray, *, seed: int = 0, model: DensityModel) -> float:
    """KL(p ‖ q) of a model with an exact ``log_prob`` (see the module); NaN for a model
    without one, or whose ``log_prob`` is only a bound. ``samples`` are not read."""
    if not model.has_log_prob or model.log_prob_is_bound:
        return math.nan
    return paired_kl(target, model.log_prob, seed)


@metric(
    "kl_upper",
    ideal=0.0,
    description="upper bound on KL(p ‖ q), nats, from the model's log-density or its lower "
    "bound (the VAE's); equal to the KL for an exact density; NaN without one",
    label="KL(p ‖ q), upper bound",
    short_label="KL ≤",
    unit="nats",
    bounds=(0.0, math.inf),
    practical_change=0.02,
    default=False,
    uses_model=True,
    beside="kl_exact",
)
def kl_upper(target: Target, samples: np.ndarray, *, seed: int = 0, model: DensityModel) -> float:
    """E_p[log p − log_prob]: KL(p ‖ q) where ``log_prob`` is exact, an upper bound on it where
    ``log_prob`` is a lower bound on log q (see the module); NaN for a model without a density.
    ``samples`` are not read."""
    if not model.has_log_prob:
        return math.nan
    return paired_kl(target, model.log_prob, seed)


@metric(
    "kl_elbo",
    ideal=0.0,
    description="upper bound on KL(p ‖ q), nats, from the model's ELBO (the VAE's; looser "
    "than kl_upper's); NaN for a model without one",
    label="KL(p ‖ q), ELBO bound",
    short_label="KL ≤ ELBO",
    unit="nats",
    bounds=(0.0, math.inf),
    practical_change=0.02,
    default=False,
    uses_model=True,
    beside="kl_upper",
)
def kl_elbo(target: Target, samples: np.ndarray, *, seed: int = 0, model: DensityModel) -> float:
    """E_p[log p − ELBO]: an upper bound on KL(p ‖ q), at least ``kl_upper``'s for a VAE (see
    the module); NaN for a model without an ELBO. ``samples`` are not read."""
    elbo = getattr(model, "elbo", None)
    if elbo is None:
        return math.nan
    return paired_kl(target, elbo, seed)

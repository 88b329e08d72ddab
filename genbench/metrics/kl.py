"""KL divergences between the target and a Gaussian KDE of the generated samples.

Both directions smooth with the target's fixed ``bandwidth`` h, so what they estimate is a KL
to the *smoothed* sample distribution q̂ = q * N(0, h²I), and a perfect sampler scores the
smoothing floor rather than 0: the leaderboard's oracle row shows that floor at the same sizes.
"""

from __future__ import annotations

import math

import numpy as np

from genbench.kde import log_kde
from genbench.metrics.base import metric
from genbench.seeding import derive_seed
from genbench.targets.base import Target

NUM_REFERENCE = 10_000  # fresh target draws per estimate


@metric(
    "kl_forward",
    ideal=0.0,
    description="KL(p ‖ q̂), nats: mass of p that q misses",
    label="KL(p ‖ q̂)",
    short_label="KL(p‖q)",
    unit="nats",
    scale="log",
    bounds=(0.0, math.inf),
    headline=True,
    # The article's measure and the steadiest over seeds: on the quick preset the oracle's 95 %
    # interval is ±10 % for it and ±60 % for w2 on eight_gaussians.
    ranks=True,
    practical_change=0.2,
)
def kl_forward(
    target: Target, samples: np.ndarray, *, seed: int = 0, num_reference: int = NUM_REFERENCE
) -> float:
    """KL(p ‖ q̂) = E_{x~p}[log p(x) − log q̂(x)], in nats.

    p is the target's exact density, q̂ a Gaussian KDE (bandwidth ``target.bandwidth``) of
    ``samples`` (n, 2), and the expectation a mean over ``num_reference`` fresh target draws.
    Large when the samples miss part of the target (mode dropping).
    """
    reference = target.sample(num_reference, derive_seed(seed, "kl_forward"))
    log_p = target.log_prob(reference)
    log_q = log_kde(reference, samples, target.bandwidth)
    return float(np.mean(log_p - log_q))


@metric(
    "kl_reverse",
    ideal=0.0,
    description="KL(q̂ ‖ p̂), nats: mass of q where p has none",
    label="KL(q̂ ‖ p̂)",
    short_label="KL(q‖p)",
    unit="nats",
    scale="log",
    bounds=(0.0, math.inf),
    practical_change=0.2,
)
def kl_reverse(
    target: Target, samples: np.ndarray, *, seed: int = 0, num_reference: int = NUM_REFERENCE
) -> float:
    """KL(q̂ ‖ p̂) = E_{x~q̂}[log q̂(x) − log p̂(x)], in nats.

    q̂ and p̂ are Gaussian KDEs with the same bandwidth h of ``samples`` (n, 2) and of
    ``num_reference`` fresh target draws. Smoothing p keeps the value finite where samples
    fall outside the target's support. The expectation is a mean over ``num_reference`` exact
    draws from q̂: a resampled generated point plus h·ε. Large when samples land off the target.
    """
    rng = np.random.default_rng(derive_seed(seed, "kl_reverse", "draws"))
    h = target.bandwidth
    draws = samples[rng.integers(0, len(samples), num_reference)]
    draws = draws + h * rng.standard_normal(draws.shape)
    reference = target.sample(num_reference, derive_seed(seed, "kl_reverse", "reference"))
    return float(np.mean(log_kde(draws, samples, h) - log_kde(draws, reference, h)))

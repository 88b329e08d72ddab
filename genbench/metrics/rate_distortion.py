"""A VAE's rate and distortion: the two terms of its bound, which β trades against each other.

The negative ELBO of a VAE splits into the *rate* R = E_p KL(q(z | x) ‖ p(z)), the nats its code
carries about a point, and the *distortion* D = −E_p E_q log p(x | z), how poorly the decoder
reconstructs the point from that code. Training on the β-ELBO minimises D + β·R: a small β buys
a low distortion with a high rate (an informative, less regular code), a large β the reverse
(Alemi et al., "Fixing a Broken ELBO", 2018). Neither has a better value on its own, so both are
diagnostics: recorded per run with their intervals, never ranked and never judged by ``compare``;
set them beside the sample-quality metrics (the report's rate–distortion figure does).

Both are means over fresh target draws (an image target's held-out images), one draw of z per
point, with the distortion in the target's units (nats of a density over the plane, or over an
image's pixels); a conditional VAE codes each point given its region (an image given its
class). They read the trained model, so they are opt-in metrics of a grid's runs (a preset's
``metrics``, or ``--metrics rate distortion``); NaN for a model without a rate and a
distortion (every family but the VAEs, ``vae`` and ``conv_vae``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from genbench.metrics.base import metric
from genbench.seeding import derive_seed
from genbench.targets.base import Target

NUM_POINTS = 10_000  # fresh target draws per estimate


def _terms(target: Target, model: Any, seed: int) -> tuple[float, float]:
    """(rate, distortion) of ``model`` on fresh draws of ``target``; NaNs without them."""
    if not hasattr(model, "rate_distortion"):
        return math.nan, math.nan
    points = target.reference_sample(NUM_POINTS, derive_seed(seed, "rate_distortion", "points"))
    labels = target.label_of(points) if getattr(model, "conditional", False) else None
    codes = derive_seed(seed, "rate_distortion", "codes")
    return model.rate_distortion(points, seed=codes, labels=labels)


@metric(
    "rate",
    ideal=None,
    description="a VAE's rate E_p KL(q(z|x) ‖ p(z)), nats: what its code carries; NaN for "
    "other families",
    label="rate  E KL(q(z|x) ‖ p(z))",
    short_label="rate",
    unit="nats",
    bounds=(0.0, math.inf),
    default=False,
    uses_model=True,
    kinds=("points", "images"),
)
def rate(target: Target, samples: np.ndarray, *, seed: int = 0, model: Any) -> float:
    """The rate of a VAE on ``target`` (see the module); ``samples`` are not read."""
    return _terms(target, model, seed)[0]


@metric(
    "distortion",
    ideal=None,
    description="a VAE's distortion −E_p E_q log p(x|z), nats: how poorly its code "
    "reconstructs; NaN for other families",
    label="distortion  −E log p(x | z)",
    short_label="distortion",
    unit="nats",
    default=False,
    uses_model=True,
    kinds=("points", "images"),
)
def distortion(target: Target, samples: np.ndarray, *, seed: int = 0, model: Any) -> float:
    """The distortion of a VAE on ``target`` (see the module); ``samples`` are not read."""
    return _terms(target, model, seed)[1]

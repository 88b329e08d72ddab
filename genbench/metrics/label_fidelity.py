"""Label fidelity: does a conditional model draw from the region it is asked for?

A conditional GAN or VAE (``conditional=True``) learns p(x | y) for y a region of the target
(``Target.region_of``: the modes of ``eight_gaussians``, the spiral's segments, the Gaussian's
cells, the class that an image target's classifier sees). For each label k, ``NUM_PER_LABEL``
samples are drawn given k and

    label_fidelity = (1/K) Σ_k P(region_of(x) = k | x ~ q(x | y = k)),

the share of the samples drawn for label k that land in region k, averaged over the K labels
with equal weight (a model cannot hide a label it ignores behind the frequent ones). 1 is a
model that always honours its label; one that ignores its label draws from its unconditional
law for every k and scores (1/K) Σ_k q(region k): 1/K whatever the masses, less the share
of its samples that fall in no region. A target draw of region k lies in region k by
definition, so the ideal is 1; on an image target a real image of class k is classified as k
only as often as the classifier is right, so real images score its accuracy per class, about
0.98 on ``digits``. The model's unconditional samples (labels drawn from their masses) are
scored by every other metric as any model's are. Opt-in, it reads the trained model; NaN for a
model that is not conditional.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from genbench.metrics.base import metric
from genbench.seeding import derive_seed
from genbench.targets.base import Target

NUM_PER_LABEL = 1_000  # samples drawn for each label: a standard error of at most 0.016


@metric(
    "label_fidelity",
    ideal=1.0,
    description="share of a conditional model's samples for label k that land in region k, "
    "mean over labels; NaN for an unconditional model",
    label="label fidelity",
    short_label="label fid.",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
    uses_model=True,
    kinds=("points", "images"),
)
def label_fidelity(target: Target, samples: np.ndarray, *, seed: int = 0, model: Any) -> float:
    """The label fidelity of ``model`` on ``target`` (see the module); ``samples`` are not
    read."""
    if not getattr(model, "conditional", False):
        return math.nan
    count = len(target.region_masses)
    labels = np.repeat(np.arange(count), NUM_PER_LABEL)
    drawn = model.sample_given(labels, derive_seed(seed, "label_fidelity"))
    hits = (target.region_of(drawn) == labels).reshape(count, NUM_PER_LABEL)
    return float(hits.mean(axis=1).mean())

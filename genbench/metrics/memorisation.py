"""Memorisation: do the samples sit closer to the training points than new data does?

A model trained on a finite training set T can learn the distribution, or learn T: copy its
points, or put small blobs around them. Meehan, Chaudhuri and Dasgupta (2020, "A non-parametric
test to detect data-copying in generative models") tell the two apart by the distance of a
point to its nearest training point, d(x, T) = min_{t ∈ T} ‖x − t‖: fresh target draws, which T
never saw, set how close new data comes to T, and samples that come closer than that copy it.
The probability form of their Mann–Whitney statistic is

    memorisation = P(d(x_gen, T) < d(x_fresh, T)) + ½ P(d(x_gen, T) = d(x_fresh, T))

over a sample x_gen and an independent fresh draw x_fresh: U / (n·m), with U the Mann–Whitney
statistic of the fresh draws' distances against the samples' (pooled over the whole plane; the
paper also tests it cell by cell). 0.5: the samples are as close to T as new data is, the
ideal; 1: every sample is nearer T than every fresh draw, copies of T; below 0.5: farther than
new data, as blurred samples or samples off the target are. It reads the training set, so it
is scored where there is one: in a grid with ``train_points``, or by ``genbench score
--training``.

On an image target the distances are between images, in pixel space, T is its training half
(``Target.training_points``) and the held-out images stand for the fresh draws: they are the
new data of the same distribution that T never saw.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import mannwhitneyu

from genbench.metrics.base import metric
from genbench.metrics.reference import as_samples, reference_size
from genbench.seeding import derive_seed
from genbench.targets.base import Target

# Fresh target draws per estimate, at most: with n samples and m = min(n, MAX_FRESH) draws the
# statistic's standard error for a perfect sampler is √((n + m + 1) / (12·n·m)), 0.004 at
# n = m = 10,000. A nearest-neighbour tree makes it O((n + m) log |T|): 10,000 of each against
# 10,000 training points take a few hundredths of a second on one core. An image target has
# fewer held-out images (899 for digits): at most all of them are used, each once.
MAX_FRESH = 10_000


@metric(
    "memorisation",
    ideal=0.5,
    description="P(a sample is nearer the training set than a fresh target draw) "
    "(new data: 0.5, copies: 1)",
    label="P(closer to training)",
    short_label="memo.",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
    uses_training=True,
    kinds=("points", "images"),
)
def memorisation(
    target: Target, samples: np.ndarray, *, seed: int = 0, training: np.ndarray
) -> float:
    """P(d(x_gen, T) < d(x_fresh, T)) + ½ P(equal), T = ``training`` (m, d), over the
    ``samples`` (n, d) and min(n, 10,000) fresh target draws (see the module); on an image
    target, d is the number of pixels and the fresh draws are held-out images, at most all
    of them.

    >>> from genbench.targets import get_target
    >>> target = get_target("gaussian")
    >>> training = target.sample(500, seed=1)
    >>> memorisation(target, training, training=training)  # copies of the training set
    1.0
    """
    samples, training = as_samples(target, samples), as_samples(target, training)
    if not len(training):
        raise ValueError("memorisation needs a training set of at least one point")
    count = int(min(len(samples), MAX_FRESH, reference_size(target)))
    fresh = target.reference_sample(count, derive_seed(seed, "memorisation"))
    tree = cKDTree(training)
    generated_distance = tree.query(samples)[0]  # (n,) d(x_gen, T)
    fresh_distance = tree.query(fresh)[0]  # (m,) d(x_fresh, T)
    # U of the first set counts the pairs where its value is the larger, ties counting ½: the
    # pairs where the sample is the nearer one
    u = mannwhitneyu(fresh_distance, generated_distance, method="asymptotic").statistic
    return float(u / (len(fresh_distance) * len(generated_distance)))

"""Classifier two-sample test (C2ST): how well a classifier tells the samples from the target.

A small neural network is trained to separate generated samples from fresh target draws, and
scored by 5-fold cross-validation, as in sbibm (Lueckmann et al., 2021). If the two sets come
from the same distribution no classifier beats chance: accuracy and ROC AUC are 0.5. If they
do not overlap at all, both reach 1. The classifier is trained once per (samples, target, seed);
``c2st`` and ``c2st_auc`` read the same cross-validated predictions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier

from genbench.metrics.base import metric
from genbench.metrics.reference import ReferenceComparison
from genbench.seeding import derive_seed
from genbench.targets.base import Target, as_points

# One call trains NUM_FOLDS networks on 2·MAX_POINTS·(1 − 1/NUM_FOLDS) points. At 3,000 points
# per set that is about 1 s of one CPU core whatever n is, and at most about 3 s, when every
# fold trains MAX_EPOCHS epochs. Larger sample sets are subsampled without replacement.
MAX_POINTS = 3_000
NUM_FOLDS = 5
HIDDEN_UNITS = (20, 20)  # sbibm's 10·dim units in each of two hidden layers
# sbibm trains to convergence (max_iter 10,000). Most fits here stop by sklearn's tolerance
# within 20-80 epochs; the cap bounds the time of the slow ones (a small shift on the spiral).
MAX_EPOCHS = 100


@dataclass(frozen=True)
class C2STScores:
    """Cross-validated scores of a classifier that tells samples (label 1) from reference (0)."""

    accuracy: float  # mean over the folds of the held-out accuracy; 0.5 is chance
    auc: float  # ROC AUC of the held-out probabilities of all folds pooled; 0.5 is chance


def classifier_two_sample_test(
    reference: np.ndarray, samples: np.ndarray, *, seed: int = 0
) -> C2STScores:
    """Train an MLP to tell ``samples`` (n, 2) from ``reference`` (m, 2), by cross-validation.

    Both sets are z-scored with the reference's per-axis mean and standard deviation, so that
    the classifier sees the target at unit scale. The classifier is sklearn's
    ``MLPClassifier`` with two ReLU layers of 20 units, trained by Adam; the folds are
    stratified and shuffled. Every held-out point is predicted by the network that did not see
    it: the accuracy averages the folds, the AUC pools their probabilities.

    Deterministic in ``seed`` (fold assignment and network initialisation).
    """
    reference, samples = as_points(reference), as_points(samples)
    if min(len(reference), len(samples)) < NUM_FOLDS:
        raise ValueError(f"c2st needs at least {NUM_FOLDS} points per set for its folds")
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a target that is a point along one axis: no rescaling
    points = (np.concatenate([reference, samples]) - mean) / std  # (m + n, 2)
    labels = np.concatenate([np.zeros(len(reference)), np.ones(len(samples))])  # (m + n,)

    folds = StratifiedKFold(NUM_FOLDS, shuffle=True, random_state=derive_seed(seed, "folds"))
    probability = np.empty(len(points))  # (m + n,) held-out P(label 1)
    accuracies = []
    for fold, (train, test) in enumerate(folds.split(points, labels)):
        classifier = MLPClassifier(
            hidden_layer_sizes=HIDDEN_UNITS,
            activation="relu",
            solver="adam",
            max_iter=MAX_EPOCHS,
            random_state=derive_seed(seed, "classifier", fold),
        )
        with warnings.catch_warnings():  # stopping at MAX_EPOCHS is by design, not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(points[train], labels[train])
        probability[test] = classifier.predict_proba(points[test])[:, 1]
        accuracies.append(np.mean((probability[test] > 0.5) == labels[test]))
    return C2STScores(float(np.mean(accuracies)), float(roc_auc_score(labels, probability)))


# computed once per scoring, read by each of the metrics below
_scores = ReferenceComparison(
    "c2st",
    lambda reference, samples, seed: classifier_two_sample_test(
        reference, samples, seed=derive_seed(seed, "c2st", "classifier")
    ),
)


@metric(
    "c2st",
    ideal=0.5,
    description="classifier two-sample test accuracy (perfect: 0.5, disjoint: 1)",
    label="C2ST accuracy",
    short_label="C2ST",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
)
def c2st(target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS) -> float:
    """Cross-validated accuracy of a classifier telling ``samples`` (n, 2) from target draws.

    Both sets have min(n, ``size``) points (3,000 by default): a seeded subset of the samples
    and as many fresh target draws; see :func:`classifier_two_sample_test` for the classifier.
    0.5 when the classifier cannot tell them apart, 1 when the sets are disjoint; a dropped
    mode of eight_gaussians gives at most 0.5 + 1/16 (the Bayes classifier's accuracy,
    1/2 + TV/2 with total variation 1/8). A perfect sampler scatters around 0.5 by about
    ±0.5/√(2·size) (±0.01 at 3,000) and may fall slightly below it: cross-validation of a
    classifier with nothing to learn is slightly pessimistic. Costs about 1 s of one core
    (at most about 3 s).
    """
    return _scores(target, samples, seed, size).accuracy


@metric(
    "c2st_auc",
    ideal=0.5,
    description="classifier two-sample test ROC AUC (perfect: 0.5, disjoint: 1)",
    label="C2ST ROC AUC",
    short_label="C2ST AUC",
    bounds=(0.0, 1.0),
    practical_change=0.02,
    default=False,
)
def c2st_auc(
    target: Target, samples: np.ndarray, *, seed: int = 0, size: int = MAX_POINTS
) -> float:
    """ROC AUC of the cross-validated probabilities of the :func:`c2st` classifier.

    The probability that a held-out sample gets a higher "generated" probability than a
    held-out target draw. Unlike the accuracy it uses the classifier's confidence, not only
    which side of 0.5 it falls on. 0.5 for indistinguishable sets, 1 for disjoint ones; shares
    the classifier, and so the cost, of :func:`c2st` when both are scored.
    """
    return _scores(target, samples, seed, size).auc

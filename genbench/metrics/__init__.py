# ruff: noqa: I001  -- modules register in import order, which is the column order of SPEC §3
"""Metrics: pure functions ``metric(target, samples, *, seed) -> float``, one per module.

Each registers itself in ``registry.metrics`` under the name of its results column, with the
metadata (ideal value, bounds, labels, scale) that the leaderboard, tables and figures read.
"""

from genbench.metrics.kl import kl_forward, kl_reverse
from genbench.metrics.wasserstein import w1, w2
from genbench.metrics.coverage import mode_coverage
from genbench.metrics.negative_space import negative_space
from genbench.metrics.images import class_coverage, class_kl, classifier_accuracy, fid, kid
from genbench.metrics.base import Metric, metric, ranking_metric, registered
from genbench.metrics.score import MIN_SAMPLES, check_samples, score
from genbench.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = [
    "MIN_SAMPLES",
    "Metric",
    "check_samples",
    "class_coverage",
    "class_kl",
    "classifier_accuracy",
    "fid",
    "kid",
    "kl_forward",
    "kl_reverse",
    "metric",
    "mode_coverage",
    "negative_space",
    "ranking_metric",
    "registered",
    "score",
    "w1",
    "w2",
]

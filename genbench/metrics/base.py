"""What every metric declares: its name (the CSV column), its ideal value and its function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genbench.registry import metrics
from genbench.targets.base import Target

MetricFunction = Callable[..., float]  # (target, samples (n, 2), *, seed) -> value


@dataclass(frozen=True)
class Metric:
    """A registered metric. Smaller distance to ``ideal`` is better (see :meth:`improvement`)."""

    name: str
    function: MetricFunction
    ideal: float  # the value of a perfect sampler in the limit of infinite samples
    description: str
    # Positive, with a long right tail over seeds (divergences, distances): a model that
    # misses a mode scores 100× its neighbour, not 100 more. Its confidence interval is then
    # computed on the log scale (see ``genbench.leaderboard``).
    positive: bool = False

    def __call__(self, target: Target, samples: np.ndarray, *, seed: int = 0) -> float:
        return float(self.function(target, samples, seed=seed))

    def improvement(self, old: float, new: float) -> float:
        """How much closer to the ideal ``new`` is than ``old``; positive means better."""
        return abs(old - self.ideal) - abs(new - self.ideal)


def metric(
    name: str, *, ideal: float, description: str, positive: bool = False
) -> Callable[[MetricFunction], Metric]:
    """Decorator registering a pure function ``f(target, samples, *, seed) -> float``."""

    def decorate(function: MetricFunction) -> Metric:
        return metrics.register(name)(Metric(name, function, ideal, description, positive))

    return decorate

"""What every metric declares: its function, and the metadata that tables and figures read.

A metric is a pure function ``f(target, samples, *, seed) -> float`` wrapped in a :class:`Metric`
that says what its value means: the ideal value, the range it can take, how to label and scale
it, and whether it is a headline number or the one that ranks the leaderboard. The leaderboard,
the terminal table and the figures read this metadata instead of keeping lists of metric names,
so that adding a metric is one new module::

    @metric(
        "mmd",
        ideal=0.0,
        description="maximum mean discrepancy, Gaussian kernel",
        label="MMD²",
        short_label="MMD²",
        scale="log",
        bounds=(0.0, math.inf),
    )
    def mmd(target: Target, samples: np.ndarray, *, seed: int = 0) -> float: ...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from genbench.registry import UnknownNameError, metrics
from genbench.targets.base import KINDS, Target

MetricFunction = Callable[..., float]  # (target, samples (n, 2), *, seed) -> value
Scale = Literal["log", "linear"]
SCALES = get_args(Scale)


@dataclass(frozen=True)
class Metric:
    """A registered metric. Smaller distance to ``ideal`` is better (see :meth:`improvement`).

    A metric without an ideal (``ideal=None``) is a *diagnostic*: a quantity recorded per run
    that no value of is better than another, such as a VAE's rate and distortion, which trade
    against each other. The leaderboard gives it a mean and an interval but no rank, ``compare``
    reports no change in it, and it can be neither a headline nor the ranking metric.
    """

    name: str  # the results column, and the registry key
    function: MetricFunction
    # the value of a perfect sampler in the limit of infinite samples; None: a diagnostic
    ideal: float | None
    description: str  # one line for ``genbench list`` and ``genbench score``
    label: str  # axis title without the unit: "KL(p ‖ q̂)"
    short_label: str  # table header and sample-panel corner: "KL(p‖q)"
    unit: str = ""  # "nats"; empty for fractions and for lengths in the target's coordinates
    # "log": positive, spread over orders of magnitude and with a long right tail over seeds
    # (divergences, distances): a model that misses a mode scores 100× its neighbour, not 100
    # more. Such a metric is drawn on a log axis and its confidence interval is computed on the
    # log scale (see ``genbench.leaderboard``). "linear": everything else (fractions, accuracies).
    scale: Scale = "linear"
    # (lowest, highest) value of the quantity estimated; ±inf where unbounded. An estimate may
    # stray past a bound by its noise (a KL estimate a hair below 0). Figures end a linear
    # metric's intervals at its bounds, and draw a range bounded on both sides whole when the
    # ideal is its top, else from its low end up to the values.
    bounds: tuple[float, float] = (-math.inf, math.inf)
    headline: bool = False  # shown in the terminal leaderboard and in sample-panel corners
    ranks: bool = False  # the leaderboard's ``rank`` column; exactly one metric has it
    # The smallest change a user cares about, below which ``compare`` never calls a change
    # significant: relative for a log-scale metric (0.2: 20 % farther from the ideal), in the
    # metric's units for a linear one. None: any significant change counts.
    practical_change: float | None = None
    # Scored for every run (True), or only where asked: a preset's ``metrics = [...]``,
    # ``score --metrics`` or ``score(..., metrics=...)``. Opt-in metrics are the costly ones
    # and those that answer a narrower question; a results folder has columns for the default
    # metrics and for each opt-in metric that some run of it was scored with.
    default: bool = True
    # The function also takes the trained model, ``f(target, samples, *, seed, model)``, and
    # reads more than its samples (its ``log_prob``). Such a metric is scored where a model is
    # at hand, in a grid's runs; ``genbench score`` of bare samples leaves it out.
    uses_model: bool = False
    # The function also takes the training set the samples' model learned from,
    # ``f(target, samples, *, seed, training)`` with ``training`` (m, 2): a question about a
    # finite training set (memorisation), not about the target alone. Such a metric is opt-in;
    # a grid scores it where its runs train on one (``train_points``), ``genbench score`` where
    # ``--training`` gives one.
    uses_training: bool = False
    # The kinds of target it scores (``Target.kind``): "points", the exactly known 2-D
    # densities, or "images", whose metrics read a classifier's features. A run is scored with
    # the metrics of its target's kind; each kind has its own ranking metric.
    kinds: tuple[str, ...] = ("points",)
    # The metric it is read against: tables and figures show it right after that one, where
    # both are scored (``kl_exact`` beside ``kl_forward``). None: its registration order.
    beside: str | None = None

    def __post_init__(self) -> None:
        # A plug-in's mistake shows where it is declared, not as a wrong axis in a report.
        low, high = self.bounds
        if self.scale not in SCALES:
            raise ValueError(f"metric {self.name!r}: scale must be one of {SCALES}")
        if not low < high:
            raise ValueError(f"metric {self.name!r}: bounds {self.bounds} are empty")
        if self.scale == "log" and low < 0:
            raise ValueError(f"metric {self.name!r}: a log-scale metric cannot be negative")
        if self.diagnostic:
            if self.ranks or self.headline or self.practical_change is not None:
                raise ValueError(
                    f"metric {self.name!r}: a diagnostic (no ideal) cannot rank, be a headline "
                    "or have a practical change"
                )
        elif not low <= self.ideal <= high:
            raise ValueError(f"metric {self.name!r}: ideal {self.ideal} is outside {self.bounds}")
        if self.ranks and (not self.default or self.uses_model or self.uses_training):
            raise ValueError(f"metric {self.name!r}: the ranking metric must score every run")
        if self.default and self.uses_training:
            raise ValueError(f"metric {self.name!r}: a metric of the training set must be opt-in")
        if not self.kinds or any(kind not in KINDS for kind in self.kinds):
            raise ValueError(f"metric {self.name!r}: kinds must be some of {KINDS}")
        if self.practical_change is not None and not self.practical_change >= 0:
            raise ValueError(f"metric {self.name!r}: practical_change must be 0 or more")

    def __call__(
        self,
        target: Target,
        samples: np.ndarray,
        *,
        seed: int = 0,
        model: Any = None,
        training: np.ndarray | None = None,
    ) -> float:
        """The metric of ``samples`` (n, 2) against ``target``; ``model`` and ``training``
        (m, 2) are passed on to the metrics that read them, and ignored by the others."""
        needs: dict[str, Any] = {}
        if self.uses_model:
            if model is None:
                raise ValueError(f"metric {self.name!r} needs the trained model, not only samples")
            needs["model"] = model
        if self.uses_training:
            if training is None:
                raise ValueError(
                    f"metric {self.name!r} needs the training set the samples' model learned "
                    "from, not only samples"
                )
            needs["training"] = training
        return float(self.function(target, samples, seed=seed, **needs))

    @property
    def diagnostic(self) -> bool:
        """Whether this metric has no ideal value: recorded, never ranked or judged."""
        return self.ideal is None

    def improvement(self, old: float, new: float) -> float:
        """How much closer to the ideal ``new`` is than ``old``; positive means better."""
        if self.ideal is None:
            raise ValueError(f"metric {self.name!r} is a diagnostic: no value is better")
        return abs(old - self.ideal) - abs(new - self.ideal)

    @property
    def axis_label(self) -> str:
        """``label`` with its unit, for axes and table columns: "KL(p ‖ q̂)  [nats]"."""
        return f"{self.label}  [{self.unit}]" if self.unit else self.label


def metric(
    name: str,
    *,
    ideal: float | None,
    description: str,
    label: str,
    short_label: str,
    unit: str = "",
    scale: Scale = "linear",
    bounds: tuple[float, float] = (-math.inf, math.inf),
    headline: bool = False,
    ranks: bool = False,
    practical_change: float | None = None,
    default: bool = True,
    uses_model: bool = False,
    uses_training: bool = False,
    kinds: tuple[str, ...] = ("points",),
    beside: str | None = None,
) -> Callable[[MetricFunction], Metric]:
    """Decorator registering a pure function ``f(target, samples, *, seed) -> float`` under
    ``name``, with the metadata documented on :class:`Metric`."""

    def decorate(function: MetricFunction) -> Metric:
        return metrics.register(name)(
            Metric(
                name,
                function,
                ideal,
                description,
                label,
                short_label,
                unit=unit,
                scale=scale,
                bounds=bounds,
                headline=headline,
                ranks=ranks,
                practical_change=practical_change,
                default=default,
                uses_model=uses_model,
                uses_training=uses_training,
                kinds=tuple(kinds),
                beside=beside,
            )
        )

    return decorate


def display_order(names: Sequence[str]) -> list[str]:
    """``names`` as tables and figures show them: in the order given, except that a metric
    declared ``beside`` another among them comes right after it (and after any placed there
    before it), so chains stay together: kl_forward, kl_exact, kl_upper, kl_elbo."""
    names = list(dict.fromkeys(names))
    followers: dict[str, list[str]] = {name: [] for name in names}
    leaders = []
    for name in names:
        anchor = metrics.get(name).beside
        (followers[anchor] if anchor in followers and anchor != name else leaders).append(name)
    order: list[str] = []

    def place(name: str) -> None:
        order.append(name)
        for follower in followers[name]:
            place(follower)

    for name in leaders:
        place(name)
    return order + [name for name in names if name not in order]  # a cycle keeps its order


# Names that ask for several metrics at once wherever metrics are named (a preset's ``metrics``,
# ``--metrics``, ``metrics=`` in Python): metrics read together, as their papers report them.
GROUPS: dict[str, tuple[str, ...]] = {
    # PacGAN's and VEEGAN's mode-collapse metrics
    "modes": ("high_quality", "modes_captured", "modes_kl"),
    # Naeem et al. (2020): precision, recall, density and coverage of k-NN balls
    "prdc": ("precision", "recall", "density", "coverage_prdc"),
    # KL(p ‖ q) from a model's own density, and the VAE's two upper bounds on it
    "density_kl": ("kl_exact", "kl_upper", "kl_elbo"),
}
# a metric, built-in or plug-in, named like a group could never be asked for
metrics.reserve(
    {group: f"the group of metrics {', '.join(members)}" for group, members in GROUPS.items()}
)


def expand_groups(names: Iterable[str]) -> list[str]:
    """``names`` with each group's name (``GROUPS``) replaced by its metrics, once each, in
    the order asked.

    >>> expand_groups(["c2st", "modes", "modes_kl"])
    ['c2st', 'high_quality', 'modes_captured', 'modes_kl']
    """
    return list(dict.fromkeys(member for name in names for member in GROUPS.get(name, (name,))))


def metric_names(names: Iterable[str]) -> list[str]:
    """The metrics ``names`` (metrics or groups of them) stand for, once each, in the order
    asked (:func:`expand_groups`); UnknownNameError (a KeyError) listing the registered
    metrics and the groups for a name that is neither."""
    expanded = expand_groups(names)
    for name in expanded:
        try:
            metrics.get(name)
        except UnknownNameError as error:  # it lists the metrics: add the groups
            raise UnknownNameError(f"{error}; groups: {', '.join(GROUPS)}") from None
    return expanded


def registered(kind: str | None = None) -> list[Metric]:
    """Every registered metric, plug-ins included, in registration order (the column order);
    with ``kind``, those that score targets of that kind."""
    every = [metrics.get(name) for name in metrics.available()]
    return every if kind is None else [m for m in every if kind in m.kinds]


def default_metrics(kind: str = "points") -> list[str]:
    """The names of the metrics every run on a target of ``kind`` is scored with, in
    registration order."""
    return [m.name for m in registered(kind) if m.default]


def selected_metrics(extra: Sequence[str] = (), kind: str = "points") -> list[str]:
    """The default metrics of ``kind`` and the opt-in metrics ``extra`` names (metrics or
    groups of them) that score that kind, in registration order; UnknownNameError (a
    KeyError) listing the registered metrics for a name that is not one."""
    extra = metric_names(extra)
    return [m.name for m in registered(kind) if m.default or m.name in extra]


def ranking_metric(kind: str = "points") -> Metric:
    """The metric that ranks the leaderboard's rows of targets of ``kind``: the one of that
    kind registered with ``ranks=True``."""
    ranking = [m for m in registered(kind) if m.ranks]
    if len(ranking) != 1:
        names = ", ".join(m.name for m in ranking) or "none"
        raise ValueError(f"exactly one metric must rank the leaderboard of {kind}, found: {names}")
    return ranking[0]

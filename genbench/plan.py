"""The plan: a preset and the command line's overrides become the run groups to execute.

Pure: nothing here trains, samples or touches a file. A *run* (:class:`RunSpec`) is one cell of
the grid, (target, model, latent size, seed). A *group* (:class:`RunGroup`) is the runs that
train together as one stack (``fit_many``): every run of one adapter, latent size, step count
and training hyperparameters, all its targets and seeds, and entries that differ only in how
they sample (DDPM's samplers share one trained network per target and seed). What a run
computes never depends on which other runs are in flight, so groups are fixed by the grid
alone, whatever is already done or how many workers there are.

The reference models (the ``oracle``: the target's own sampler, the estimators' floor) are
registered models whose class says so; every grid runs them first, once per target and seed.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genbench.config import ConfigError, ModelPlan, Preset
from genbench.metrics import MIN_SAMPLES
from genbench.metrics.base import metric_names, selected_metrics
from genbench.metrics.score import MAX_SAMPLES, MIN_TRAINING_POINTS
from genbench.models import reference_models
from genbench.models.base import GenerativeModel
from genbench.registry import metrics, models, targets
from genbench.registry import models as model_registry  # where an argument is called models
from genbench.results import run_key

MAX_RUNS = 100_000  # a grid larger than this is a typo, not a plan
# The runs whose training `run` records as an animation by default, seed 0 on every target,
# by entry name: the GAN with a latent curve that cannot fill the plane (1) and a map that can
# (3); the DCGAN with a latent plane (2) and the paper's 100.
ANIMATED = {"gan": (1, 3), "dcgan": (2, 100)}
ANIMATED_SEED = 0


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: train one model on one target with one seed, sample, score."""

    target: str
    model: str  # the leaderboard entry, e.g. "ddpm_ddim"
    family: str  # registry name of the adapter, e.g. "ddpm"
    latent_dim: int  # the family's fixed size where it has one (0 for the oracle)
    seed: int
    steps: int
    num_samples: int
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()  # opt-in metrics to score besides the default ones
    # target draws in the run's finite training set (``TrainingSet``); None: fresh draws
    train_points: int | None = None

    @property
    def key(self) -> str:
        return run_key(self.target, self.model, self.latent_dim, self.steps, self.seed)

    def config(self) -> dict[str, Any]:
        """Everything that determines this run's result (the device aside), as JSON data;
        ``metrics`` only when it names some and ``train_points`` only when it is set, so that
        runs scored with the default metrics on fresh draws have the configuration they always
        had (and their folders resume)."""
        config = dataclasses.asdict(self) | {"params": dict(self.params)}
        if not self.metrics:
            del config["metrics"]
        if self.train_points is None:
            del config["train_points"]
        return json.loads(json.dumps(config))


@dataclass(frozen=True)
class RunGroup:
    """Runs that train together, and the adapter class that trains them.

    The class travels with the group (it pickles by reference), so a worker process can run a
    model that was registered in the client only. ``record`` holds the keys of the runs whose
    training is recorded, frame by frame, for an animation.
    """

    runs: tuple[RunSpec, ...]
    family: type[GenerativeModel]
    record: tuple[str, ...] = ()

    @property
    def steps(self) -> int:
        return self.runs[0].steps

    @property
    def shared(self) -> list[list[int]]:
        """The runs (indices into ``runs``) that each trained model serves: one model per
        target and seed, whatever samples it (entries that differ only in sampling share
        one)."""
        serves: dict[tuple[str, int], list[int]] = {}
        for index, spec in enumerate(self.runs):
            serves.setdefault((spec.target, spec.seed), []).append(index)
        return list(serves.values())

    @property
    def trainings(self) -> int:
        """The models it trains (see ``shared``)."""
        return len(self.shared)

    def without(self, done: set[str] | Mapping[str, Any]) -> RunGroup | None:
        """The group less its runs in ``done`` (keys), or None when nothing is left."""
        left = tuple(spec for spec in self.runs if spec.key not in done)
        if not left:
            return None
        record = tuple(key for key in self.record if key not in done)
        return dataclasses.replace(self, runs=left, record=record)


def narrow(
    preset: Preset,
    *,
    models: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    latent_dims: Sequence[int] | None = None,
    seeds: int | None = None,
    steps: Sequence[int] | None = None,
    num_samples: int | None = None,
    metrics: Sequence[str] | None = None,
    train_points: int | None = None,
    priors: Sequence[str] | None = None,
    betas: Sequence[float] | None = None,
) -> Preset:
    """The preset with the command line's selections and overrides applied (``metrics``:
    opt-in metrics added to the preset's own; ``train_points`` replaces the preset's;
    ``priors`` and ``betas`` replace the swept latent priors and KL weights of the entries
    whose family has that hyperparameter). ``models`` may name a sweep's entry
    (``gan_sphere``, ``vae_beta4``): its entry with that prior or β; several such names of one
    entry run every combination of the priors and βs they name."""
    swept = {  # a sweep's entry name → (its preset entry, its swept values)
        name: (entry, values)
        for entry, plan in preset.models.items()
        for name, values in entry_variants(entry, plan)
        if values
    }
    chosen: dict[str, dict[str, list[Any]]] = {}  # entries asked for by some variants only
    for name in models or ():
        if name in swept and name not in preset.models:
            entry, values = swept[name]
            for axis, value in values.items():
                chosen.setdefault(entry, {}).setdefault(axis, []).append(value)
    whole = set(models or ()) & set(preset.models)  # entries asked for by their own name
    overrides = {"prior": priors, "beta": betas}

    def axis_values(entry: str, plan: ModelPlan, axis: str, field: str) -> tuple[Any, ...]:
        if overrides[axis] and takes(model_registry.get(plan.family), axis):
            return tuple(dict.fromkeys(overrides[axis]))
        if entry in chosen and entry not in whole and axis in chosen[entry]:
            return tuple(dict.fromkeys(chosen[entry][axis]))
        return getattr(plan, field)

    models = [swept[m][0] if m in swept and m not in preset.models else m for m in models or ()]
    for asked, known, what in [
        (models, [*preset.models, *swept], "model"),
        (targets, preset.targets, "target"),
    ]:
        unknown = [name for name in asked or () if name not in known]
        if unknown:
            raise ConfigError(
                f"{what} {unknown[0]!r} is not in preset {preset.name!r} "
                f"(it has: {', '.join(known)})"
            )
    plans = {
        entry: dataclasses.replace(
            plan,
            latent_dims=tuple(latent_dims) if latent_dims else plan.latent_dims,
            steps=tuple(sorted(set(steps))) if steps else plan.steps,
            target_steps={}  # --steps sets every target's
            if steps
            else {t: s for t, s in plan.target_steps.items() if not targets or t in targets},
            priors=axis_values(entry, plan, "prior", "priors"),
            betas=axis_values(entry, plan, "beta", "betas"),
        )
        for entry, plan in preset.models.items()
        if not models or entry in models
    }
    return dataclasses.replace(
        preset,
        targets=tuple(t for t in preset.targets if not targets or t in targets),
        models=plans,
        seeds=seeds if seeds is not None else preset.seeds,
        num_samples=num_samples if num_samples is not None else preset.num_samples,
        metrics=opt_in_metrics([*preset.metrics, *(metrics or ())]),
        train_points=train_points if train_points is not None else preset.train_points,
    )


def opt_in_metrics(names: Sequence[str]) -> tuple[str, ...]:
    """The opt-in metrics among ``names``, once each, in registration order (the columns'
    order): the order they were asked in, and a default metric named among them, change
    nothing, so neither stops ``--resume``. UnknownNameError for a name not registered."""
    return tuple(name for name in selected_metrics(names) if not metrics.get(name).default)


def validate(preset: Preset) -> None:
    """Refuse, before any work, a grid that cannot run (ConfigError, one line)."""
    kinds = {name: targets.get(name).kind for name in preset.targets}  # UnknownNameError
    for name in metric_names(preset.metrics):
        metric = metrics.get(name)
        if not set(metric.kinds) & set(kinds.values()):
            raise ConfigError(
                f"{name} scores {' or '.join(metric.kinds)}; none of the targets "
                f"({', '.join(kinds)}) is one"
            )
        # an image target has its own training half; a 2-D one is drawn afresh at every step
        if metric.uses_training and preset.train_points is None and "points" in kinds.values():
            raise ConfigError(
                f"{name} needs a finite training set: set train_points in the preset or pass "
                "--train-points N"
            )
    if preset.train_points is not None and "points" not in kinds.values():
        raise ConfigError(
            f"train_points is for the 2-D targets; {next(iter(kinds))} trains on its own "
            "training half"
        )
    if preset.train_points is not None and not (
        MIN_TRAINING_POINTS <= preset.train_points <= MAX_SAMPLES
    ):
        raise ConfigError(
            f"train_points must be between {MIN_TRAINING_POINTS} and {MAX_SAMPLES:,}, "
            f"got {preset.train_points:,}"
        )
    for entry, model_plan in preset.models.items():
        if entry in reference_models():  # every grid runs it already, under that name
            raise ConfigError(f"model {entry!r}: that name is the reference model's, run anyway")
        models.get(model_plan.family)
        for counts in [model_plan.steps, *model_plan.target_steps.values()]:
            if not counts or min(counts) < 1:
                raise ConfigError(f"model {entry!r}: steps must be positive")
        if stray := [t for t in model_plan.target_steps if t not in preset.targets]:
            raise ConfigError(
                f"model {entry!r}: target_steps names {stray[0]!r}, which is not one of the "
                f"preset's targets ({', '.join(preset.targets)})"
            )
        if not model_plan.latent_dims or min(model_plan.latent_dims) < 1:
            raise ConfigError(f"model {entry!r}: latent dims must be positive integers")
        family = models.get(model_plan.family)
        if not set(family.kinds) & set(kinds.values()):
            raise ConfigError(
                f"model {entry!r}: family {model_plan.family!r} learns "
                f"{' or '.join(KIND_WORDS[k] for k in family.kinds)}; none of the targets "
                f"({', '.join(kinds)}) is one"
            )
        for axis, values, what in SWEEPS:
            if getattr(model_plan, values) and not takes(family, axis):
                raise ConfigError(
                    f"model {entry!r}: family {model_plan.family!r} has no {what} to sweep"
                )
            if getattr(model_plan, values) and axis in model_plan.params:
                raise ConfigError(
                    f"model {entry!r}: give either {values} (or --{values}) or params.{axis}, "
                    "not both"
                )
        for beta in model_plan.betas:
            number = isinstance(beta, (int, float)) and not isinstance(beta, bool)
            if not (number and beta > 0 and math.isfinite(beta)):
                raise ConfigError(f"model {entry!r}: betas must be positive numbers, got {beta!r}")
        names = entry_names(entry, model_plan)
        if len(set(names)) < len(names):
            twice = next(name for name in names if names.count(name) > 1)
            raise ConfigError(f"model {entry!r}: two of its sweep's values are both {twice!r}")
        for name in names:
            if name != entry and name in preset.models:
                raise ConfigError(f"model {entry!r}: its sweep's entry {name!r} is taken")
    if not preset.targets or not preset.models:
        raise ConfigError("the grid is empty: no target or no model selected")
    if preset.seeds < 1:
        raise ConfigError("seeds must be at least 1")
    if preset.num_samples < MIN_SAMPLES:
        raise ConfigError(f"num_samples must be at least {MIN_SAMPLES}, got {preset.num_samples}")
    if preset.num_samples > MAX_SAMPLES:
        raise ConfigError(
            f"num_samples can be at most {MAX_SAMPLES:,} (the scoring limit), "
            f"got {preset.num_samples:,}"
        )


def expand(preset: Preset) -> list[RunSpec]:
    """Every run of the grid, in the grid's order: per target, the reference models' runs
    first for each seed, then each entry's latent sizes, step counts and seeds. A fixed-latent
    family runs at its own size whatever the sweep says."""
    runs = []
    for target in preset.targets:
        kind = targets.get(target).kind
        # an image target trains on its own training half
        train_points = preset.train_points if kind == "points" else None
        for name in reference_models():
            fixed = models.get(name).fixed_latent_dim or 0
            for seed in range(preset.seeds):
                runs.append(
                    RunSpec(
                        target,
                        name,
                        name,
                        fixed,
                        seed,
                        0,
                        preset.num_samples,
                        {},
                        preset.metrics,
                        train_points,  # not trained on, but scored against
                    )
                )
        for entry, plan in preset.models.items():
            if kind not in models.get(plan.family).kinds:
                continue  # a family of images on a 2-D target, or the other way round
            fixed = models.get(plan.family).fixed_latent_dim
            for name, params in zip(entry_names(entry, plan), entry_params(plan), strict=True):
                for latent_dim in (fixed,) if fixed is not None else plan.latent_dims:
                    for steps in plan.steps_for(target):
                        for seed in range(preset.seeds):
                            runs.append(
                                RunSpec(
                                    target,
                                    name,
                                    plan.family,
                                    latent_dim,
                                    seed,
                                    steps,
                                    preset.num_samples,
                                    params,
                                    preset.metrics,
                                    train_points,
                                )
                            )
    return runs


KIND_WORDS = {"points": "2-D targets", "images": "image targets"}

# The hyperparameters a preset can sweep like the latent size: (the adapter's field, the
# ModelPlan's and the flag's name, what it is), in the order their labels join an entry's name.
SWEEPS = (("prior", "priors", "latent prior"), ("beta", "betas", "KL weight beta"))


def takes(family: type[GenerativeModel], name: str) -> bool:
    """Whether ``family`` has the hyperparameter ``name`` (the GAN and the VAE a ``prior``,
    the VAE a ``beta``)."""
    return dataclasses.is_dataclass(family) and any(
        f.name == name for f in dataclasses.fields(family)
    )


def sweep_label(axis: str, value: Any) -> str:
    """How a swept value names its entry: the prior itself (``sphere``), ``beta0.5``."""
    return f"beta{value:g}" if axis == "beta" else str(value)


def entry_variants(entry: str, plan: ModelPlan) -> list[tuple[str, dict[str, Any]]]:
    """The leaderboard entries of ``plan``, each with the values of its swept hyperparameters:
    one per combination of the swept priors and βs (``gan_sphere``, ``vae_sphere_beta4``), or
    the entry itself with none."""
    variants: list[tuple[str, dict[str, Any]]] = [(entry, {})]
    for axis, plural, _ in SWEEPS:
        if values := getattr(plan, plural):
            variants = [
                (f"{name}_{sweep_label(axis, value)}", swept | {axis: value})
                for name, swept in variants
                for value in values
            ]
    return variants


def entry_names(entry: str, plan: ModelPlan) -> list[str]:
    """The leaderboard entries of ``plan``: one per swept prior and β, or itself."""
    return [name for name, _ in entry_variants(entry, plan)]


def entry_params(plan: ModelPlan) -> list[dict[str, Any]]:
    """The hyperparameters of each of ``entry_names``: the plan's, with its swept values."""
    return [dict(plan.params) | swept for _, swept in entry_variants("", plan)]


def build(family: type[GenerativeModel], spec: RunSpec, device: str) -> GenerativeModel:
    """The untrained adapter of ``spec`` on ``device``."""
    kwargs = dict(spec.params)
    if family.fixed_latent_dim is None:
        kwargs["latent_dim"] = spec.latent_dim
    return family(device=device, **kwargs)


class ResolvedParams:
    """``resolved_params``, built once per distinct configuration (family, latent size and
    hyperparameters): the runs of a stack or a sweep share a handful. Each call returns a
    copy of its own."""

    def __init__(self) -> None:
        self._built: dict[str, str] = {}  # configuration → resolved_params as JSON

    def __call__(self, family: type[GenerativeModel], spec: RunSpec) -> dict[str, Any]:
        key = json.dumps(
            [f"{family.__module__}.{family.__qualname__}", spec.latent_dim, spec.params],
            sort_keys=True,
            default=repr,  # a plug-in's function or set: its own configuration
        )
        if key not in self._built:
            self._built[key] = json.dumps(resolved_params(family, spec))
        return json.loads(self._built[key])


def resolved_params(family: type[GenerativeModel], spec: RunSpec) -> dict[str, Any]:
    """Every hyperparameter the spec's adapter is built with, its defaults included (the device
    aside), as JSON data: what the run's result depends on in this version of the adapter,
    where ``spec.config()`` holds only what the preset sets. A value that is not JSON data (a
    plug-in's function or set) is left out: it could not be compared across processes."""
    resolved: dict[str, Any] = {}
    for name, value in build(family, spec, "cpu").params().items():
        if name == "device":
            continue
        try:
            resolved[name] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            continue
    return resolved


def check_buildable(spec: RunSpec) -> None:
    """ConfigError if the spec's adapter cannot even be built with its hyperparameters: a
    class that leaves a method of the protocol abstract, a name it does not have, a value of
    the wrong kind for its field (a string for a learning rate), a value its checks refuse."""
    family = models.get(spec.family)
    if inspect.isabstract(family):
        missing = ", ".join(sorted(family.__abstractmethods__))
        raise ConfigError(f"model {spec.model!r} cannot be built: it does not define {missing}")
    names = {f.name for f in dataclasses.fields(family)} - {"device"}
    annotations = field_types(family)
    for name, value in spec.params.items():
        if name not in names:
            raise ConfigError(
                f"model {spec.model!r}: bad hyperparameters (unknown name {name!r}; "
                f"{family.name} has {', '.join(sorted(names))})"
            )
        if (kind := wrong_kind(annotations.get(name), value)) is not None:
            raise ConfigError(
                f"model {spec.model!r}: bad hyperparameters ({name} must be {kind}, got {value!r})"
            )
    try:
        build(family, spec, "cpu")
    except (TypeError, ValueError) as error:  # values a model's own checks refuse
        raise ConfigError(f"model {spec.model!r}: bad hyperparameters ({error})") from None


# What a field of each annotated type takes from a preset file (TOML): bool is no number here
KINDS: dict[type, tuple[str, Callable[[Any], bool]]] = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
}


def field_types(family: type[GenerativeModel]) -> dict[str, Any]:
    """The resolved annotations of ``family``'s fields; none where they do not resolve here
    (a plug-in's own types)."""
    try:
        return typing.get_type_hints(family)
    except Exception:
        return {}


def wrong_kind(annotation: Any, value: Any) -> str | None:
    """What a field annotated ``annotation`` takes ("a number") if ``value`` is not that, else
    None; None too where the annotation is not a plain bool, int, float or str (a plug-in's
    own types, checked by its own code)."""
    if annotation not in KINDS:
        return None
    kind, accepts = KINDS[annotation]
    return None if accepts(value) else kind


def training_params(family: type[GenerativeModel], spec: RunSpec) -> dict[str, Any]:
    """The spec's hyperparameters that change training (all but ``sampling_params``)."""
    return {k: v for k, v in spec.params.items() if k not in family.sampling_params}


def group_key(spec: RunSpec, family: type[GenerativeModel]) -> str:
    """Runs with the same key train together: a stackable family's runs of one latent size,
    step count and training hyperparameters as one stack, whatever their targets and seeds;
    another family's runs only where one target and seed make them differ in sampling alone
    (entries such as DDIM beside ancestral sampling), so that one trained model serves each."""
    key = [spec.family, spec.latent_dim, spec.steps, training_params(family, spec)]
    if not family.fits_many:
        key += [spec.target, spec.seed]
    return json.dumps(key, sort_keys=True)


def group(runs: Sequence[RunSpec], animate: bool = True) -> list[RunGroup]:
    """``runs`` in training groups (see ``group_key``), longest first (steps × models trained),
    so that the last group to finish is a short one; ties in the grid's order."""
    keyed: dict[str, list[RunSpec]] = {}
    for spec in runs:
        keyed.setdefault(group_key(spec, models.get(spec.family)), []).append(spec)
    position = {spec.key: index for index, spec in enumerate(runs)}
    members = sorted(keyed.values(), key=lambda specs: position[specs[0].key])
    groups = [
        RunGroup(
            tuple(specs),
            models.get(specs[0].family),
            tuple(spec.key for spec in specs if animate and animated(spec)),
        )
        for specs in members
    ]
    return sorted(groups, key=lambda g: -g.steps * g.trainings)


def animated(spec: RunSpec) -> bool:
    """Whether ``run`` records this run's training as an animation by default."""
    return spec.latent_dim in ANIMATED.get(spec.model, ()) and spec.seed == ANIMATED_SEED


@dataclass(frozen=True)
class Plan:
    """A narrowed preset, its runs in the grid's order, and their training groups."""

    preset: Preset
    runs: tuple[RunSpec, ...]
    groups: tuple[RunGroup, ...]

    def pending(self, done: set[str] | Mapping[str, Any]) -> list[RunGroup]:
        """The groups less their runs in ``done`` (keys), in execution order."""
        return [g for g in (group.without(done) for group in self.groups) if g is not None]


def make_plan(preset: Preset, *, animate: bool = True, **overrides: Any) -> Plan:
    """The plan of ``preset`` narrowed by ``overrides`` (see :func:`narrow`); ConfigError if
    the grid cannot run. ``animate`` records the default animations' runs."""
    preset = narrow(preset, **overrides)
    validate(preset)
    # counted on one seed first (the grid is that many runs per seed): a typo such as
    # --seeds 100000 is refused at once, before millions of runs are listed
    size = len(expand(dataclasses.replace(preset, seeds=1))) * preset.seeds
    if size > MAX_RUNS:
        raise ConfigError(f"the grid has {size:,} runs; at most {MAX_RUNS:,} are allowed")
    runs = expand(preset)
    for spec in {(spec.model, spec.latent_dim): spec for spec in runs}.values():
        check_buildable(spec)
    return Plan(preset, tuple(runs), tuple(group(runs, animate)))

"""Typed configuration: presets, data files in ``genbench/presets/`` or a user's TOML file.

A preset names the targets, the model entries with their family, latent sweep, steps and
hyperparameters, the number of seeds and samples. Command-line flags narrow or override it
(``genbench.plan``); the resolved configuration is saved with every result.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A preset or override that cannot be run; the message is one line for the user."""


@dataclass(frozen=True)
class ModelPlan:
    """How one leaderboard entry is trained: which adapter, which latent sizes, how long."""

    family: str  # registry name of the adapter (an entry "ddpm_ddim" may use family "ddpm")
    latent_dims: tuple[int, ...]  # swept latent sizes; ignored by fixed-latent families
    steps: tuple[int, ...]  # optimiser steps per run; several make a convergence study
    params: Mapping[str, Any] = field(default_factory=dict)  # hyperparameters for the adapter
    # latent priors to sweep (families with a ``prior`` hyperparameter): each runs as the entry
    # ``<entry>_<prior>``; empty: the entry as it is
    priors: tuple[str, ...] = ()
    # KL weights β to sweep (families with a ``beta`` hyperparameter: the VAE): each runs as
    # the entry ``<entry>_beta<β>`` (after the prior: ``vae_sphere_beta4``); empty: as it is
    betas: tuple[float, ...] = ()
    # per-target step counts in place of ``steps`` (``{"spiral": (10000,)}``): a budget for
    # the targets that need longer; the others train ``steps``
    target_steps: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def steps_for(self, target: str) -> tuple[int, ...]:
        """The step counts this entry trains for on ``target``."""
        return self.target_steps.get(target, self.steps)


@dataclass(frozen=True)
class Preset:
    """A named grid: targets × model entries × latent sizes × seeds."""

    name: str
    description: str
    targets: tuple[str, ...]  # target names
    models: Mapping[str, ModelPlan]  # leaderboard entry name → plan
    seeds: int  # seeds 0 … seeds − 1 for every cell of the grid
    num_samples: int  # samples drawn from every trained model and scored
    metrics: tuple[str, ...] = ()  # opt-in metrics scored besides the default ones
    # Each run trains on this many target draws, fixed by its seed and resampled with
    # replacement (a finite training set); None: fresh draws at every step, unlimited data
    train_points: int | None = None


def available_presets() -> list[str]:
    folder = resources.files("genbench") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_preset(name_or_path: str) -> Preset:
    """A built-in preset by name, or a preset TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ConfigError(f"preset file {path} does not exist")
        text = path.read_text(encoding="utf-8")
    elif name_or_path in available_presets():
        text = (resources.files("genbench") / "presets" / f"{name_or_path}.toml").read_text()
    else:
        known = ", ".join(available_presets())
        raise ConfigError(f"unknown preset {name_or_path!r} (available: {known}, or a .toml file)")
    try:
        return preset_from_data(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"preset {name_or_path}: invalid ({type(error).__name__}: {error})"
        ) from None


def preset_from_data(data: Mapping[str, Any]) -> Preset:
    """A preset from its data: a preset file's tables, or the ``preset`` that ``config.json``
    holds (``preset_to_dict``). KeyError, TypeError or ValueError if it is not one."""
    models = {
        entry: ModelPlan(
            family=plan.get("family", plan.get("model", entry)),  # "model": the old key
            latent_dims=tuple(plan.get("latent_dims", (2,))),
            steps=as_steps(plan["steps"]),
            params=dict(plan.get("params", {})),
            priors=as_names(plan.get("priors", []), "priors"),
            betas=as_weights(plan.get("betas", []), "betas"),
            target_steps=as_target_steps(plan.get("target_steps", {})),
        )
        for entry, plan in data["models"].items()
    }
    return Preset(
        name=data["name"],
        description=data.get("description", ""),
        targets=tuple(data["targets"] if "targets" in data else data["datasets"]),  # old key
        models=models,
        seeds=int(data["seeds"]),
        num_samples=int(data["num_samples"]),
        metrics=as_names(data.get("metrics", []), "metrics"),
        train_points=as_count(data.get("train_points"), "train_points"),
    )


def as_names(value: Any, key: str) -> tuple[str, ...]:
    """A preset's list of names (``metrics = ["c2st", "mmd"]``), without repeats."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of names, got {value!r}")
    return tuple(dict.fromkeys(value))


def as_weights(value: Any, key: str) -> tuple[float, ...]:
    """A preset's list of positive numbers (``betas = [0.1, 1, 4]``), without repeats."""
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise ValueError(f"{key} must be a list of positive numbers, got {value!r}")
    return tuple(dict.fromkeys(float(v) for v in value))


def as_count(value: Any, key: str) -> int | None:
    """A preset's optional whole number (``train_points = 1000``); None where it is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    return value


def as_target_steps(value: Any) -> dict[str, tuple[int, ...]]:
    """A preset entry's ``target_steps``: a table of target names to step counts (each one
    count or a list, as ``steps``)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"target_steps must be a table of target = steps, got {value!r}")
    return {str(target): as_steps(steps) for target, steps in value.items()}


def as_steps(value: Any) -> tuple[int, ...]:
    """A preset's ``steps``: one count (``3000``) or a list of them (``[300, 1000, 3000]``)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise ValueError(f"steps must be a positive integer or a list of them, got {value!r}")
    return tuple(sorted(set(values)))


def preset_to_dict(preset: Preset) -> dict[str, Any]:
    """The preset as plain data, for ``config.json``."""
    data = dataclasses.asdict(preset)
    data["models"] = {
        entry: dataclasses.asdict(plan)
        | {"params": dict(plan.params), "target_steps": dict(plan.target_steps)}
        for entry, plan in preset.models.items()
    }
    return data

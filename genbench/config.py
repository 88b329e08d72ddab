"""Typed configuration: presets (data files in ``genbench/presets/``) and the runs they expand to.

A preset names the targets, the model entries with their latent sweep, steps and
hyperparameters, the number of seeds and samples. Command-line flags narrow or override it;
the resolved configuration is saved with every result.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ORACLE = "oracle"  # the model column of the target's own sampler


class ConfigError(ValueError):
    """A preset or override that cannot be run; the message is one line for the user."""


@dataclass(frozen=True)
class ModelPlan:
    """How one leaderboard entry is trained: which adapter, which latent sizes, how long."""

    model: str  # registry name of the adapter (an entry "ddpm_ddim" may use model "ddpm")
    latent_dims: tuple[int, ...]  # swept latent sizes; ignored by fixed-latent families
    steps: int  # optimiser steps per run
    params: Mapping[str, Any] = field(default_factory=dict)  # hyperparameters for the adapter


@dataclass(frozen=True)
class Preset:
    """A named grid: targets × model entries × latent sizes × seeds."""

    name: str
    description: str
    targets: tuple[str, ...]  # target names
    models: Mapping[str, ModelPlan]  # leaderboard entry name → plan
    seeds: int  # seeds 0 … seeds − 1 for every cell of the grid
    num_samples: int  # samples drawn from every trained model and scored


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: train one model on one target with one seed, sample, score."""

    target: str
    entry: str  # the leaderboard's model column
    model: str  # registry name of the adapter, or ORACLE
    latent_dim: int  # 0 for the oracle, which has no latent space
    seed: int
    steps: int
    num_samples: int
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A file-name-safe identifier, unique within a grid."""
        return f"{self.target}__{self.entry}__z{self.latent_dim}__s{self.seed}"

    def config(self) -> dict[str, Any]:
        """Everything that determines this run's result (the device aside), as JSON data."""
        return json.loads(json.dumps(dataclasses.asdict(self) | {"params": dict(self.params)}))


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
        data = tomllib.loads(text)
        models = {
            entry: ModelPlan(
                model=plan.get("model", entry),
                latent_dims=tuple(plan.get("latent_dims", (2,))),
                steps=int(plan["steps"]),
                params=dict(plan.get("params", {})),
            )
            for entry, plan in data["models"].items()
        }
        return Preset(
            name=data["name"],
            description=data.get("description", ""),
            targets=tuple(
                data["targets"] if "targets" in data else data["datasets"]
            ),  # old key name
            models=models,
            seeds=int(data["seeds"]),
            num_samples=int(data["num_samples"]),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"preset {name_or_path}: invalid ({type(error).__name__}: {error})"
        ) from None


def narrow(
    preset: Preset,
    *,
    models: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    latent_dims: Sequence[int] | None = None,
    seeds: int | None = None,
    steps: int | None = None,
    num_samples: int | None = None,
) -> Preset:
    """The preset with the command line's selections and overrides applied."""
    for asked, known, what in [
        (models, preset.models, "model"),
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
            steps=steps if steps is not None else plan.steps,
        )
        for entry, plan in preset.models.items()
        if not models or entry in models
    }
    return dataclasses.replace(
        preset,
        targets=tuple(d for d in preset.targets if not targets or d in targets),
        models=plans,
        seeds=seeds if seeds is not None else preset.seeds,
        num_samples=num_samples if num_samples is not None else preset.num_samples,
    )


def expand(preset: Preset, fixed_latent_dims: Mapping[str, int | None]) -> list[RunSpec]:
    """Every run of the grid, the oracle's first for each target and seed.

    ``fixed_latent_dims`` maps adapter names to their forced latent size (or None when swept);
    a fixed-latent family runs once per seed whatever the sweep says.
    """
    runs = []
    for target in preset.targets:
        for seed in range(preset.seeds):
            runs.append(RunSpec(target, ORACLE, ORACLE, 0, seed, 0, preset.num_samples))
        for entry, plan in preset.models.items():
            fixed = fixed_latent_dims[plan.model]
            for latent_dim in (fixed,) if fixed else plan.latent_dims:
                for seed in range(preset.seeds):
                    runs.append(
                        RunSpec(
                            target,
                            entry,
                            plan.model,
                            latent_dim,
                            seed,
                            plan.steps,
                            preset.num_samples,
                            dict(plan.params),
                        )
                    )
    return runs


def preset_to_dict(preset: Preset) -> dict[str, Any]:
    """The preset as plain data, for ``config.json``."""
    data = dataclasses.asdict(preset)
    data["models"] = {
        entry: dataclasses.asdict(plan) | {"params": dict(plan.params)}
        for entry, plan in preset.models.items()
    }
    return data

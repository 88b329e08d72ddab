"""The plan: a pure function from a preset and overrides to run groups (nothing trains)."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from genbench.config import ConfigError, load_preset
from genbench.plan import ResolvedParams, RunSpec, group, make_plan, resolved_params
from genbench.registry import models
from tests.conftest import ScaledTarget


def test_quick_is_every_target_entry_latent_size_and_seed_in_stacks():
    plan = make_plan(load_preset("quick"))
    assert len(plan.runs) == 153 and len({spec.key for spec in plan.runs}) == 153
    assert sorted(spec.key for g in plan.groups for spec in g.runs) == sorted(
        spec.key for spec in plan.runs
    )
    # the DDPM entry: a stack per step budget, the spiral's own (target_steps) and the others'
    ddpm = {g.steps: g for g in plan.groups if g.family.name == "ddpm"}
    assert sorted(ddpm) == [3500, 10000]
    assert {spec.target for spec in ddpm[10000].runs} == {"spiral"} and len(ddpm[10000].runs) == 3
    assert len(ddpm[3500].runs) == 6 and "spiral" not in {spec.target for spec in ddpm[3500].runs}
    longest = max(g.steps * g.trainings for g in plan.groups)
    assert plan.groups[0].steps * plan.groups[0].trainings == longest  # the longest group first
    oracle = [g for g in plan.groups if g.family.reference]
    assert len(oracle) == 9 and all(g.runs[0].steps == 0 for g in oracle)
    animated = sorted(key for g in plan.groups for key in g.record)
    assert animated == sorted(
        f"{t}__gan__z{k}__t400__s0"
        for t in ["gaussian", "eight_gaussians", "spiral"]
        for k in (1, 3)
    )


def test_overrides_narrow_the_grid_and_steps_become_an_axis():
    plan = make_plan(
        load_preset("quick"), models=["gan"], targets=["spiral"], latent_dims=[3], seeds=2,
        steps=[300, 100, 300], animate=False,
    )  # fmt: skip
    gan = [spec for spec in plan.runs if spec.model == "gan"]
    assert sorted((spec.steps, spec.seed) for spec in gan) == [
        (100, 0),
        (100, 1),
        (300, 0),
        (300, 1),
    ]
    assert {len(g.runs) for g in plan.groups if g.family.name == "gan"} == {2}  # one per count
    assert not any(g.record for g in plan.groups)


TARGET_STEPS = """
name = "budgets"
targets = ["gaussian", "eight_gaussians", "spiral"]
seeds = 1
num_samples = 500
[models.ddpm]
steps = 300
target_steps = { spiral = [1000, 3000], gaussian = 100 }
"""


def test_target_steps_give_a_target_its_own_budget(tmp_path):
    path = tmp_path / "budgets.toml"
    path.write_text(TARGET_STEPS)
    preset = load_preset(str(path))

    def budgets(**overrides):
        plan = make_plan(preset, animate=False, **overrides)
        return sorted((s.target, s.steps) for s in plan.runs if s.model == "ddpm")

    assert budgets() == [
        ("eight_gaussians", 300), ("gaussian", 100), ("spiral", 1000), ("spiral", 3000)
    ]  # fmt: skip
    assert budgets(steps=[50]) == [("eight_gaussians", 50), ("gaussian", 50), ("spiral", 50)]
    assert budgets(targets=["spiral"]) == [("spiral", 1000), ("spiral", 3000)]
    # each count of each target trains as its own stack
    plan = make_plan(preset, animate=False)
    ddpm = sorted(g.steps for g in plan.groups if g.family.name == "ddpm")
    assert ddpm == [100, 300, 1000, 3000]


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("{ ring8 = 100 }", "target_steps names 'ring8', which is not one of the preset's"),
        ("{ spiral = 0 }", "steps must be positive"),
        ('"spiral"', "target_steps must be a table"),
    ],
)
def test_bad_target_steps_are_refused(tmp_path, budget, message):
    path = tmp_path / "budgets.toml"
    path.write_text(TARGET_STEPS.replace("{ spiral = [1000, 3000], gaussian = 100 }", budget))
    with pytest.raises(ConfigError, match=message):
        make_plan(load_preset(str(path)))


def test_resume_leaves_out_what_is_done():
    plan = make_plan(load_preset("quick"), targets=["spiral"], seeds=1)
    done = {spec.key for spec in plan.runs if spec.model in ("oracle", "vae")}
    pending = plan.pending(done)
    left = {spec.key for g in pending for spec in g.runs}
    assert left == {spec.key for spec in plan.runs} - done


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"models": ["flow"]}, "model 'flow' is not in preset 'quick'"),
        ({"seeds": 0}, "seeds must be at least 1"),
        ({"num_samples": 10}, "num_samples must be at least 100"),
        ({"latent_dims": [0]}, "latent dims must be positive"),
    ],
)
def test_a_grid_that_cannot_run_is_refused_before_any_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_plan(load_preset("quick"), **overrides)


def test_the_sampler_entries_of_an_image_diffusion_share_one_training_per_target_and_seed():
    runs = [
        RunSpec("digits", model, "ddpm_unet", 64, seed, 100, 200, params)
        for seed in (0, 1)
        for model, params in [("ddpm_unet", {}), ("ddpm_unet_ddim", {"sampler": "ddim"})]
    ]
    runs.append(RunSpec("digits", "ddpm_unet_wide", "ddpm_unet", 64, 0, 100, 200, {"width": 32}))
    groups = [[spec.key for spec in g.runs] for g in group(runs)]
    assert sorted(groups) == sorted(
        [[runs[0].key, runs[1].key], [runs[2].key, runs[3].key], [runs[4].key]]
    )


@dataclass(eq=False)
class Unusual(ScaledTarget):
    """Defaults that JSON cannot carry, or that equal nothing."""

    name = "unusual"
    weights: frozenset = frozenset({1, 2})  # a set: no JSON, its order differs by process
    transform: Callable = abs  # a function: no JSON, printed with an address
    temperature: float = math.nan  # equals nothing, itself included


def test_resolved_params_are_every_default_as_json_data_without_the_device():
    spec = RunSpec("spiral", "u", "unusual", 2, 0, 5, 200, {"scale": 2})
    resolved = resolved_params(Unusual, spec)
    assert set(resolved) == {"latent_dim", "scale", "fail", "explode", "temperature"}
    assert resolved["scale"] == 2 and math.isnan(resolved["temperature"])
    ddpm = resolved_params(models.get("ddpm"), RunSpec("spiral", "d", "ddpm", 2, 0, 5, 200, {}))
    assert ddpm["lr"] == 4e-3 and ddpm["num_timesteps"] == 1000 and "device" not in ddpm


def test_resolved_params_are_built_once_per_configuration_and_handed_out_as_copies():
    built = []

    @dataclass(eq=False)
    class Counting(Unusual):
        def params(self):
            built.append(self)
            return super().params()

    resolved = ResolvedParams()
    runs = [
        RunSpec(t, "u", "unusual", 2, seed, 5, 200, {"scale": 2}) for t in "ab" for seed in (0, 1)
    ]
    first = resolved(Counting, runs[0])
    first["scale"] = 99  # a caller's changes stay its own
    assert [resolved(Counting, spec)["scale"] for spec in runs] == [2, 2, 2, 2]
    assert len(built) == 1
    other_latent = RunSpec("a", "u", "unusual", 3, 0, 5, 200, {"scale": 2})
    assert resolved(Counting, other_latent)["latent_dim"] == 3 and len(built) == 2

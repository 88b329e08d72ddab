"""The plan: a pure function from a preset and overrides to run groups (nothing trains)."""

import pytest

from genbench.config import ConfigError, load_preset
from genbench.plan import make_plan


def test_quick_is_every_target_entry_latent_size_and_seed_in_stacks():
    plan = make_plan(load_preset("quick"))
    assert len(plan.runs) == 153 and len({spec.key for spec in plan.runs}) == 153
    assert sorted(spec.key for g in plan.groups for spec in g.runs) == sorted(
        spec.key for spec in plan.runs
    )
    # the DDPM entry: one stack of 3 targets × 3 seeds
    (ddpm,) = [g for g in plan.groups if g.family.name == "ddpm"]
    assert len(ddpm.runs) == 9
    assert plan.groups[0] is ddpm  # the longest group first
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

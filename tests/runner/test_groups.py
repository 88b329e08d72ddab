"""Runs of one entry and latent size train together, and a failure stays with its run."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from genbench.cli import main
from genbench.plan import RunGroup, RunSpec, group
from genbench.registry import models
from genbench.results import Status
from genbench.runner import run_group
from tests.conftest import ScaledTarget


def spec(target="gaussian", model="vae", family="vae", latent_dim=2, seed=0, steps=5, **params):
    return RunSpec(target, model, family, latent_dim, seed, steps, 200, params)


def group_indices(runs):
    """The plan's groups as indices of ``runs``, in the grid's order."""
    index = {spec.key: i for i, spec in enumerate(runs)}
    return sorted([index[spec.key] for spec in g.runs] for g in group(runs))


def run(*runs):
    """``run_group`` of ``runs`` as one group."""
    return run_group(RunGroup(tuple(runs), models.get(runs[0].family)), "cpu")


def statuses(records):
    return [record.status for record in records]


def test_a_group_is_every_target_and_seed_of_an_entry_and_latent_size():
    runs = [
        spec(model="oracle", family="oracle", latent_dim=0),
        spec(seed=0),
        spec(seed=1),
        spec(target="spiral", seed=0),
        spec(latent_dim=3),
        spec(model="vae_wide", width=8),
        spec(model="gan", family="gan"),
        spec(model="gan", family="gan", target="spiral", seed=2),
    ]
    assert group_indices(runs) == [[0], [1, 2, 3], [4], [5], [6, 7]]


def test_a_model_that_cannot_stack_trains_alone(scaled_target_model):
    runs = [spec(model="s", family="scaled_target", seed=s) for s in range(3)]
    assert group_indices(runs) == [[0], [1], [2]]


@dataclass(eq=False)
class ScaledAfterTraining(ScaledTarget):
    """Cannot stack; its ``scale`` changes only how it samples, and it counts its fits."""

    name = "scaled_after_training"
    sampling_params = ("scale",)
    fits = 0

    def fit(self, target, steps, seed, progress=None):
        type(self).fits += 1
        return super().fit(target, steps, seed, progress)


@pytest.fixture
def scaled_after_training():
    models.register("scaled_after_training")(ScaledAfterTraining)
    ScaledAfterTraining.fits = 0
    yield ScaledAfterTraining
    models._entries.pop("scaled_after_training", None)


def test_entries_of_a_model_that_cannot_stack_share_training_where_only_sampling_differs(
    scaled_after_training,
):
    family = "scaled_after_training"
    runs = [
        spec(model="plain", family=family, seed=0),
        spec(model="wide", family=family, seed=0, scale=2.0),
        spec(model="plain", family=family, seed=1),
        spec(model="wide", family=family, seed=1, scale=2.0),
        spec(model="plain", family=family, target="spiral", seed=0),
    ]
    assert group_indices(runs) == [[0, 1], [2, 3], [4]]
    records = run(runs[0], runs[1])
    assert scaled_after_training.fits == 1  # one model trained, sampled by both entries
    assert statuses(records) == [Status.OK, Status.OK]
    assert records[0].train_seconds == records[1].train_seconds
    spread = [np.abs(record.samples).mean() for record in records]
    assert spread[1] == pytest.approx(2 * spread[0], rel=0.1)


@dataclass(eq=False)
class StacksBadly(ScaledTarget):
    """Claims to train many at once, then breaks when it does; its seed 1 breaks alone too."""

    name = "stacks_badly"
    fits_many = True

    @classmethod
    def fit_many(cls, models, targets, steps, seeds, progress=None, watchers=()):
        raise RuntimeError("stacking broke")

    def fit(self, target, steps, seed, progress=None):
        if seed == 1:
            raise RuntimeError("adapter broke")
        return super().fit(target, steps, seed, progress)


@pytest.fixture
def stacks_badly():
    models.register("stacks_badly")(StacksBadly)
    yield StacksBadly
    models._entries.pop("stacks_badly", None)


def test_a_broken_group_is_retried_run_by_run(stacks_badly):
    runs = [
        spec(model="b", family="stacks_badly", seed=0),
        spec(model="b", family="stacks_badly", seed=1),
        spec(model="b", family="stacks_badly", seed=2),
    ]
    assert group_indices(runs) == [[0, 1, 2]]
    records = run(runs[0], runs[2])
    assert statuses(records) == [Status.OK, Status.OK]
    assert [record.trained_together for record in records] == [1, 1]
    good, bad = run(*runs[:2])
    assert good.status == Status.OK and bad.status == Status.FAILED and bad.samples is None
    assert "adapter broke" in bad.error and not bad.metrics
    # retried alone, a run computes what it computes outside any group
    np.testing.assert_array_equal(run(*runs)[2].samples, run(runs[2])[0].samples)


def test_a_sweep_records_how_many_models_trained_together(tmp_path):
    out = tmp_path / "grid"
    argv = ["run", "--models", "vae", "--targets", "gaussian", "spiral", "--latent-dims", "1",
            "2", "--seeds", "2", "--steps", "5", "--num-samples", "200", "--workers", "1",
            "--out", str(out), "--quiet", "--no-report"]  # fmt: skip
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv").set_index("model")
    assert (runs.loc["vae", "trained_together"] == 4).all()  # 2 targets × 2 seeds per latent size
    assert (runs.loc["oracle", "trained_together"] == 1).all()


def test_entries_that_differ_only_in_sampling_share_their_training(tmp_path):
    tiny = dict(family="ddpm", steps=3, width=8, depth=1, num_timesteps=20, sampling_steps=5)
    ancestral = spec(model="ddpm", **tiny)
    ddim = spec(model="ddpm_ddim", sampler="ddim", **tiny)
    other_seed = spec(model="ddpm", seed=1, **tiny)
    assert group_indices([ancestral, ddim, other_seed]) == [[0, 1, 2]]
    records = run(ancestral, ddim, other_seed)
    assert statuses(records) == [Status.OK] * 3
    assert [record.trained_together for record in records] == [2, 2, 2]  # 2 models
    from_ancestral, from_ddim, _ = (record.samples for record in records)
    assert not np.array_equal(from_ancestral, from_ddim)
    # the DDIM entry samples the very network the ancestral entry trained, as if alone
    assert np.allclose(from_ddim, run(ddim)[0].samples, atol=1e-4)


def test_entries_that_share_a_training_count_it_once_in_the_order_and_the_progress():
    from genbench.progress import SCORING_WEIGHT, GridProgress

    ddpm = [
        spec(model=model, family="ddpm", seed=seed, steps=100, **params)
        for seed in (0, 1)
        for model, params in [("ddpm", {}), ("ddpm_ddim", {"sampler": "ddim"})]
    ]
    vae = [spec(seed=seed, steps=100) for seed in (0, 1, 2)]
    groups = group(ddpm + vae)
    # 3 VAEs to train outweigh 2 DDPM networks sampled two ways each
    assert [(g.runs[0].family, g.trainings, len(g.runs)) for g in groups] == [
        ("vae", 3, 3),
        ("ddpm", 2, 4),
    ]
    weights = GridProgress(groups, enabled=False).weights
    assert weights == [100 * 3 + SCORING_WEIGHT * 3, 100 * 2 + SCORING_WEIGHT * 4]

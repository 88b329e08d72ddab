"""Runs of one entry and latent size train together, and a failure stays with its run."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from genbench.cli import main
from genbench.config import ORACLE, RunSpec
from genbench.registry import models
from genbench.runner import FAILED, OK, execute, execute_group, group_runs
from tests.conftest import ScaledTarget


def spec(target="gaussian", entry="vae", model="vae", latent_dim=2, seed=0, steps=5, **params):
    return RunSpec(target, entry, model, latent_dim, seed, steps, 200, params)


def test_a_group_is_every_target_and_seed_of_an_entry_and_latent_size():
    runs = [
        spec(model=ORACLE, entry=ORACLE, latent_dim=0),
        spec(seed=0),
        spec(seed=1),
        spec(target="spiral", seed=0),
        spec(latent_dim=3),
        spec(entry="vae_wide", width=8),
        spec(entry="gan", model="gan"),
        spec(entry="gan", model="gan", target="spiral", seed=2),
    ]
    assert group_runs(runs) == [[0], [1, 2, 3], [4], [5], [6, 7]]


def test_a_model_that_cannot_stack_trains_alone(scaled_target_model):
    runs = [spec(entry="s", model="scaled_target", seed=s) for s in range(3)]
    assert group_runs(runs) == [[0], [1], [2]]


@dataclass(eq=False)
class StacksBadly(ScaledTarget):
    """Claims to train many at once, then breaks when it does; its seed 1 breaks alone too."""

    name = "stacks_badly"
    fits_many = True

    @classmethod
    def fit_many(cls, models, targets, steps, seeds, progress=None):
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
        spec(entry="b", model="stacks_badly", seed=0),
        spec(entry="b", model="stacks_badly", seed=1),
        spec(entry="b", model="stacks_badly", seed=2),
    ]
    assert group_runs(runs) == [[0, 1, 2]]
    results = execute_group([runs[0], runs[2]], "cpu")
    assert [record["status"] for record, _ in results] == [OK, OK]
    assert [record["trained_together"] for record, _ in results] == [1, 1]
    (good, _), (bad, samples) = execute_group(runs[:2], "cpu")
    assert good["status"] == OK and bad["status"] == FAILED and samples is None
    assert "adapter broke" in bad["error"]
    # retried alone, a run computes what it computes outside any group
    _, alone_samples = execute(runs[2], "cpu")
    np.testing.assert_array_equal(execute_group(runs, "cpu")[2][1], alone_samples)


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
    tiny = dict(model="ddpm", steps=3, width=8, depth=1, num_timesteps=20, sampling_steps=5)
    ancestral = spec(entry="ddpm", **tiny)
    ddim = spec(entry="ddpm_ddim", sampler="ddim", **tiny)
    other_seed = spec(entry="ddpm", seed=1, **tiny)
    assert group_runs([ancestral, ddim, other_seed]) == [[0, 1, 2]]
    results = execute_group([ancestral, ddim, other_seed], "cpu")
    assert all(record["status"] == OK for record, _ in results)
    assert [record["trained_together"] for record, _ in results] == [2, 2, 2]  # 2 models
    (_, from_ancestral), (_, from_ddim), _ = results
    assert not np.array_equal(from_ancestral, from_ddim)
    # the DDIM entry samples the very network the ancestral entry trained, as if alone
    alone = execute(ddim, "cpu")[1]
    assert np.allclose(from_ddim, alone, atol=1e-4)
    with pytest.raises(ValueError, match="one group"):
        execute_group([ancestral, spec(seed=1)], "cpu")

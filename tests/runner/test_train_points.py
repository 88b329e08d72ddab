"""``train_points``: every run trains on a finite training set of its own seed, is scored against
the target itself, and the opt-in ``memorisation`` metric compares its samples with that set;
folders written without it keep their configuration and resume."""

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from genbench.cli import main
from genbench.config import ConfigError, load_preset
from genbench.models.gan import GAN
from genbench.plan import RunGroup, RunSpec, make_plan
from genbench.results import Status
from genbench.runner import run_group
from genbench.targets import get_target
from genbench.targets.training import TrainingSet
from tests.conftest import ScaledTarget
from tests.models.tiny import TINY

TOY = """
name = "toy"
targets = ["eight_gaussians"]
seeds = 2
num_samples = 300
{extra}

[models.copier]                 # samples what it trained on: the training set, when it has one
family = "scaled_target"
latent_dims = [2]
steps = 4

[models.kde]                    # a tiny bandwidth on 20 points: blobs around each of them
steps = 200
params = {{ smallest = 0.002, largest = 0.01, candidates = 2, folds = 2 }}
"""
MEMORISING = 'train_points = 20\nmetrics = ["memorisation"]'


def toy(folder, extra=""):
    path = folder / "toy.toml"
    path.write_text(TOY.format(extra=extra))
    return str(path)


def grid(preset, out, *flags):
    """``genbench run`` of ``preset`` into ``out``, in this process, quietly; its exit code."""
    return main(
        [
            *["run", "--preset", preset, "--out", str(out)],
            *["--workers", "1", "--no-report", "--quiet", *flags],
        ]
    )


@pytest.fixture(scope="module")
def memorising_run(tmp_path_factory, scaled_target_model):
    folder = tmp_path_factory.mktemp("memorising")
    assert grid(toy(folder, MEMORISING), folder / "out") == 0
    return folder / "out"


def test_the_column_is_in_runs_csv_and_the_config_holds_train_points(memorising_run):
    runs = pd.read_csv(memorising_run / "runs.csv")
    assert (runs["status"] == "ok").all() and len(runs) == 3 * 2  # oracle, copier, kde × 2 seeds
    assert runs["memorisation"].between(0, 1).all()
    for config in runs["config"]:
        assert json.loads(config)["train_points"] == 20
    assert (
        list(runs.columns[3:5]) == ["steps", "train_points"] and (runs["train_points"] == 20).all()
    )
    board = pd.read_csv(memorising_run / "leaderboard.csv")
    assert board["memorisation_mean"].notna().all() and (board["train_points"] == 20).all()


def test_compare_warns_when_the_training_sets_differ(memorising_run, tmp_path, capsys):
    assert grid(toy(tmp_path), tmp_path / "fresh") == 0
    assert "train_points" not in pd.read_csv(tmp_path / "fresh" / "runs.csv").columns
    capsys.readouterr()
    for old, new in [("runs.csv", "runs.csv"), ("leaderboard.csv", "leaderboard.csv")]:
        main(["compare", str(tmp_path / "fresh" / old), str(memorising_run / new)])
        out = capsys.readouterr()
        assert "the training set sizes differ (fresh draws vs 20 points)" in out.out + out.err


def test_models_learn_the_training_set_and_the_oracle_does_not(memorising_run):
    runs = pd.read_csv(memorising_run / "runs.csv").set_index(["model", "seed"])["memorisation"]
    # the copier draws from what it was fitted to: the run's training set, never a fresh point
    assert (runs.loc["copier"] == 1.0).all()
    # the KDE puts a narrow kernel on every training point: its samples are near-copies
    assert (runs.loc["kde"] > 0.9).all()
    # the oracle is the target's sampler: as near the training set as new data, the floor
    assert runs.loc["oracle"].to_numpy() == pytest.approx([0.5, 0.5], abs=0.1)
    # scored against the target itself: the copier's 20 points miss modes, the oracle none
    runs = pd.read_csv(memorising_run / "runs.csv").set_index(["model", "seed"])
    assert (runs.loc["oracle", "mode_coverage"] == 1.0).all()
    assert (runs.loc["copier", "kl_forward"] > 10 * runs.loc["oracle", "kl_forward"]).all()


def test_the_flag_overrides_the_preset(tmp_path, scaled_target_model):
    preset = toy(tmp_path, MEMORISING)
    assert grid(preset, tmp_path / "out", "--train-points", "50", "--models", "copier") == 0
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert {json.loads(config)["train_points"] for config in runs["config"]} == {50}
    samples = np.load(tmp_path / "out" / "samples" / "eight_gaussians__copier__z2__t4__s1.npy")
    expected = TrainingSet(get_target("eight_gaussians"), 50, seed=1).points
    assert len(np.unique(samples, axis=0)) <= 50
    assert np.isin(samples, expected.astype(np.float32)).all()  # its own seed's set


def test_a_folder_written_without_it_resumes_unchanged(tmp_path, scaled_target_model):
    preset = toy(tmp_path)
    out = tmp_path / "out"
    assert grid(preset, out, "--models", "copier") == 0
    before = pd.read_csv(out / "runs.csv")
    assert "memorisation" not in before.columns
    assert all("train_points" not in json.loads(config) for config in before["config"])
    assert grid(preset, out, "--models", "copier", "--resume") == 0
    after = pd.read_csv(out / "runs.csv")
    pd.testing.assert_frame_equal(before, after)  # nothing redone, nothing rewritten


def test_resuming_with_a_training_set_into_a_folder_without_is_refused(
    tmp_path, scaled_target_model, capsys
):
    preset = toy(tmp_path)
    out = tmp_path / "out"
    assert grid(preset, out, "--models", "copier") == 0
    capsys.readouterr()
    assert grid(preset, out, "--models", "copier", "--resume", "--train-points", "20") == 2
    assert "different configuration" in capsys.readouterr().err


def test_memorisation_without_a_training_set_is_refused_in_one_line(
    tmp_path, scaled_target_model, capsys
):
    out = tmp_path / "out"
    assert grid(toy(tmp_path), out, "--metrics", "memorisation") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "memorisation needs a finite training set" in err and "--train-points N" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "flags", "message"),
    [
        ("train_points = 1", [], "train_points must be between 2"),
        ("", ["--train-points", "1"], "train_points must be between 2"),
        ('train_points = "many"', [], "train_points must be an integer"),
        ("train_points = 2.5", [], "train_points must be an integer"),
    ],
)
def test_a_bad_train_points_is_one_line_and_exit_2(
    tmp_path, scaled_target_model, capsys, extra, flags, message
):
    out = tmp_path / "out"
    assert grid(toy(tmp_path, extra), out, *flags) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_the_preset_key_is_optional(tmp_path):
    assert load_preset(toy(tmp_path)).train_points is None
    assert load_preset(toy(tmp_path, "train_points = 7")).train_points == 7
    with pytest.raises(ConfigError, match="between 2"):
        make_plan(load_preset(toy(tmp_path)), train_points=1)


def test_the_run_key_and_a_plain_config_do_not_change():
    plain = RunSpec("spiral", "gan", "gan", 2, 0, 10, 200)
    finite = RunSpec("spiral", "gan", "gan", 2, 0, 10, 200, train_points=30)
    assert plain.key == finite.key
    assert "train_points" not in plain.config()
    assert finite.config() == plain.config() | {"train_points": 30}


@dataclass(eq=False)
class StackingCopier(ScaledTarget):
    """A copier that trains in stacks, and remembers what each stack was given."""

    name = "stacking_copier"
    fits_many = True
    stacks: ClassVar[list] = []

    @classmethod
    def fit_many(cls, models, targets, steps, seeds, progress=None, watchers=()):
        cls.stacks.append(list(targets))
        return super().fit_many(models, targets, steps, seeds, progress, watchers)


def test_each_model_of_a_stack_gets_its_own_training_set():
    runs = tuple(
        RunSpec(target, "c", "stacking_copier", 2, seed, 3, 200, {}, ("memorisation",), 15)
        for target in ["spiral", "gaussian"]
        for seed in [0, 1]
    )
    StackingCopier.stacks.clear()
    records = run_group(RunGroup(runs, StackingCopier), "cpu")
    [stack] = StackingCopier.stacks
    assert [record.trained_together for record in records] == [4] * 4
    for spec, trained_on, record in zip(runs, stack, records, strict=True):
        assert isinstance(trained_on, TrainingSet) and trained_on.name == spec.target
        own = TrainingSet(get_target(spec.target), 15, spec.seed).points
        np.testing.assert_array_equal(trained_on.points, own)
        assert record.metrics["memorisation"] == 1.0
    assert not np.array_equal(stack[0].points, stack[1].points)  # seeds 0 and 1


def test_a_real_stack_trains_on_training_sets():
    runs = tuple(
        RunSpec("spiral", "gan", "gan", 2, seed, 5, 200, TINY["gan"], ("memorisation",), 30)
        for seed in [0, 1]
    )
    records = run_group(RunGroup(runs, GAN), "cpu")
    assert [record.status for record in records] == [Status.OK, Status.OK]
    assert [record.trained_together for record in records] == [2, 2]
    assert all(0.0 <= record.metrics["memorisation"] <= 1.0 for record in records)

"""`genbench run` end to end on a tiny grid: files, resume, failures, the leaderboard."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from genbench.api import floor, run, stamp
from genbench.cli import main
from genbench.config import ConfigError
from genbench.environment import cpu_name
from genbench.metrics.base import default_metrics
from genbench.registry import models
from genbench.results import ResultsError, RunRecord

TOY = """
name = "toy"
targets = ["eight_gaussians", "spiral"]
seeds = 3
num_samples = 400

[models.good]
family = "scaled_target"
latent_dims = [2]
steps = 8

[models.bad]
family = "scaled_target"
latent_dims = [1, 2]
steps = 8
params = { scale = 1.5 }
"""


@pytest.fixture
def toy_preset(tmp_path, scaled_target_model):
    path = tmp_path / "toy.toml"
    path.write_text(TOY)
    return path


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, scaled_target_model):
    """The whole toy grid, run once for the tests that only read its output."""
    folder = tmp_path_factory.mktemp("toy")
    (folder / "toy.toml").write_text(TOY)
    board = run(
        str(folder / "toy.toml"), out=folder / "out", quiet=True, workers=1, report=False
    ).leaderboard
    return folder / "out", board


def test_run_writes_every_file(toy_run):
    out, board = toy_run
    runs = pd.read_csv(out / "runs.csv")
    # 2 targets × (oracle + good z2 + bad z1, z2) × 3 seeds
    assert len(runs) == 2 * 4 * 3
    assert (runs["status"] == "ok").all()
    for column in [
        "kl_forward",
        "w2",
        "train_seconds",
        "samples_per_second",
        "git_commit",
        "torch_version",
        "device",
        "target_fingerprint",
        "genbench_version",
        "config",
    ]:
        assert column in runs.columns
    assert len(list((out / "samples").glob("*.npy"))) == len(runs)
    assert np.load(out / "samples" / "spiral__good__z2__t8__s1.npy").shape == (400, 2)
    config = json.loads((out / "config.json").read_text())
    assert config["preset"]["name"] == "toy" and config["preset"]["seeds"] == 3
    assert pd.read_csv(out / "leaderboard.csv").shape[0] == len(board) == 2 * 4


def test_each_run_names_the_processor_it_ran_on(toy_run):
    out, _ = toy_run
    device = pd.read_csv(out / "runs.csv")["device"]
    assert (device == cpu_name()).all()
    assert cpu_name() == "cpu" or cpu_name().endswith(f", {os.cpu_count()} cores")


def test_a_workers_device_is_kept_over_the_clients():
    record = RunRecord(
        target="spiral",
        model="good",
        latent_dim=2,
        seed=0,
        steps=8,
        num_samples=400,
        target_fingerprint="f",
        config={},
        device="cpu: worker",
    )
    stamp(record, {"device": "cpu: client", "git_commit": "abc"}, "toy")
    assert record.device == "cpu: worker" and record.git_commit == "abc"


def quiet_run(preset, out, **options):
    """``run`` of ``preset`` into ``out``, in this process, with no output or report; by
    default only the spiral and one seed."""
    options = {"targets": ["spiral"], "seeds": 1, **options}
    return run(str(preset), out=out, quiet=True, workers=1, report=False, **options).leaderboard


def test_leaderboard_puts_the_oracle_first_and_the_scaled_model_last(toy_run):
    _, board = toy_run
    for _, part in board.groupby("target"):
        ranks = dict(zip(part["model"] + part["latent_dim"].astype(str), part["rank"], strict=True))
        assert ranks["oracle0"] == 1
        assert ranks["bad1"] > ranks["good2"] and ranks["bad2"] > ranks["good2"]


def test_resume_does_only_what_is_missing(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    first = pd.read_csv(out / "runs.csv")
    quiet_run(toy_preset, out, targets=None, resume=True)
    both = pd.read_csv(out / "runs.csv")
    assert len(first) == 4 and len(both) == 8
    kept = both[both["target"] == "spiral"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, first)  # untouched, not recomputed


def test_resuming_part_of_a_folders_grid_keeps_its_config_and_leaderboard_whole(
    tmp_path, toy_preset
):
    out = tmp_path / "out"
    whole = quiet_run(toy_preset, out)
    (out / "records" / "spiral__good__z2__t8__s0.json").unlink()
    part = quiet_run(toy_preset, out, models=["good"], resume=True)
    entries = ["target", "model", "latent_dim", "rank", "kl_forward_mean"]
    pd.testing.assert_frame_equal(part[entries], whole[entries])  # the redone one included
    config = json.loads((out / "config.json").read_text())
    assert set(config["preset"]["models"]) == {"good", "bad"}


def test_a_folder_run_in_parts_of_one_preset_keeps_every_part(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out, models=["bad"])
    board = quiet_run(toy_preset, out, models=["good"], targets=None, resume=True)
    config = json.loads((out / "config.json").read_text())["preset"]
    assert list(config["models"]) == ["bad", "good"]
    assert config["targets"] == ["spiral", "eight_gaussians"]
    # the leaderboard holds every part's runs that are in the folder: bad's only on the spiral
    entries = set(zip(board["target"], board["model"], board["latent_dim"], strict=True))
    assert {("spiral", "bad", 1), ("spiral", "bad", 2), ("eight_gaussians", "good", 2)} <= entries
    assert ("eight_gaussians", "bad", 1) not in entries


def test_parts_of_one_entry_grow_its_latent_sizes_and_step_counts(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out, models=["bad"], latent_dims=[1])
    quiet_run(toy_preset, out, models=["bad"], latent_dims=[2], steps=[4, 8], resume=True)
    board = quiet_run(toy_preset, out, models=["good"], resume=True)
    bad = json.loads((out / "config.json").read_text())["preset"]["models"]["bad"]
    assert bad["latent_dims"] == [1, 2] and bad["steps"] == [4, 8]
    entries = set(zip(board["model"], board["latent_dim"], board["steps"], strict=True))
    assert {("bad", 1, 8), ("bad", 2, 4), ("bad", 2, 8), ("good", 2, 8)} <= entries


def test_a_folder_resumed_with_another_preset_takes_its_grid(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out, models=["bad"])
    other = tmp_path / "other.toml"
    other.write_text(TOY.replace('name = "toy"', 'name = "other"'))
    quiet_run(other, out, models=["good"], resume=True)
    config = json.loads((out / "config.json").read_text())["preset"]
    assert config["name"] == "other" and list(config["models"]) == ["good"]


def test_a_new_run_moves_earlier_results_aside(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    quiet_run(toy_preset, out)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("out.previous-")]
    assert len(aside) == 1 and (aside[0] / "runs.csv").exists()


def test_resume_refuses_a_different_configuration(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    with pytest.raises(ConfigError, match="different configuration"):
        quiet_run(toy_preset, out, num_samples=300, resume=True)


def test_a_record_stores_every_hyperparameter_of_its_adapter(toy_run):
    out, _ = toy_run
    record = json.loads((out / "records" / "spiral__good__z2__t8__s0.json").read_text())
    # the entry sets none: its adapter's defaults, without the device
    assert record["hyperparameters"] == {
        "latent_dim": 2,
        "scale": 1.0,
        "fail": False,
        "explode": False,
    }
    assert "hyperparameters" not in pd.read_csv(out / "runs.csv").columns


def test_resume_refuses_runs_trained_with_a_default_since_changed(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out, seeds=3)
    for path in (out / "records").glob("*__good__*.json"):  # as if trained when scale was 0.9
        record = json.loads(path.read_text())
        record["hyperparameters"]["scale"] = 0.9
        path.write_text(json.dumps(record))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    message = (
        r"holds 3 run\(s\) trained with other hyperparameters than this version of genbench "
        r"uses \(scale 0.9 → 1.0\): spiral__good__z2__t8__s0, spiral__good__z2__t8__s1, "
        r"spiral__good__z2__t8__s2; delete"
    )
    with pytest.raises(ConfigError, match=message):
        quiet_run(toy_preset, out, seeds=3, resume=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_resume_keeps_records_written_before_hyperparameters_were_stored(
    tmp_path, toy_preset, capsys
):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    for path in (out / "records").glob("*.json"):
        record = json.loads(path.read_text())
        del record["hyperparameters"]
        path.write_text(json.dumps(record))
    first = pd.read_csv(out / "runs.csv")
    # nothing to check them against: kept as they are, and said so (the oracle's aside)
    run(str(toy_preset), out=out, workers=1, report=False, targets=["spiral"], seeds=1, resume=True)
    assert "3 run(s) kept in" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), first)


def test_failed_and_diverged_runs_are_recorded_and_the_sweep_goes_on(tmp_path, toy_preset):
    text = toy_preset.read_text().replace("params = { scale = 1.5 }", "params = { fail = true }")
    text += (
        '\n[models.exploding]\nmodel = "scaled_target"\nsteps = 4\nparams = { explode = true }\n'
    )
    toy_preset.write_text(text)
    out = tmp_path / "out"
    board = quiet_run(toy_preset, out, seeds=2)
    runs = pd.read_csv(out / "runs.csv").set_index(["model", "latent_dim", "seed"])
    assert runs.loc[("bad", 1, 0), "status"] == "failed"
    assert "adapter broke" in runs.loc[("bad", 1, 0), "error"]
    assert np.isnan(runs.loc[("bad", 1, 0), "w2"])
    assert runs.loc[("exploding", 2, 0), "status"] == "diverged"
    assert runs.loc[("good", 2, 1), "status"] == "ok"
    failed = board.set_index(["model", "latent_dim"])["failed"]
    assert failed[("bad", 1)] == 2 and failed[("good", 2)] == 0


def test_resume_does_failed_runs_again_and_keeps_diverged_ones(tmp_path, toy_preset, capsys):
    text = toy_preset.read_text().replace("params = { scale = 1.5 }", "params = { fail = true }")
    text += (
        '\n[models.exploding]\nfamily = "scaled_target"\nsteps = 4\nparams = { explode = true }\n'
    )
    toy_preset.write_text(text)
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    before = pd.read_csv(out / "runs.csv").set_index("model")
    for path in (out / "records").glob("*__bad__*.json"):  # mark the failures to see them go
        record = json.loads(path.read_text())
        path.write_text(json.dumps(record | {"error": "the earlier failure"}))
    capsys.readouterr()
    run(str(toy_preset), out=out, workers=1, report=False, targets=["spiral"], seeds=1,
        resume=True)  # fmt: skip
    assert "2 run(s) that failed before are done again" in capsys.readouterr().out
    after = pd.read_csv(out / "runs.csv").set_index("model")
    assert (after.loc["bad", "status"] == "failed").all()  # the same bug: it fails again …
    assert after.loc["bad", "error"].str.contains("adapter broke").all()  # … in a new run
    for kept in ("exploding", "good", "oracle"):  # diverged, ok: kept as they were
        assert after.loc[kept, "finished_at"] == before.loc[kept, "finished_at"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["--models", "flowmatch"], "model 'flowmatch' is not in preset 'quick'"),
        (["--targets", "moons"], "target 'moons' is not in preset 'quick'"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--num-samples", "5"], "num_samples must be at least 100"),
        (["--num-samples", "2000000000"], "num_samples can be at most 10,000,000"),
        (["--seeds", "100000"], "at most 100,000 are allowed"),
    ],
)
def test_bad_run_options_get_one_line_and_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main(["run", "--out", str(out), "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("argv", [["--seeds", "0"], ["--steps", "-3"], ["--latent-dims", "x"]])
def test_bad_numbers_are_refused_by_the_parser(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *argv])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_misspelt_hyperparameter_is_named(tmp_path, capsys, scaled_target_model):
    preset = tmp_path / "typo.toml"
    preset.write_text(TOY.replace("scale = 1.5", "scael = 1.5"))
    assert main(["run", "--preset", str(preset), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "model 'bad': bad hyperparameters (unknown name 'scael'; scaled_target has" in err
    assert "scale" in err.split("has")[1]  # the names it does have
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "params, message",
    [
        ('{ scale = "lots" }', "scale must be a number, got 'lots'"),
        ("{ fail = 1 }", "fail must be true or false, got 1"),
        ("{ latent_dim = 2.5 }", "latent_dim must be an integer, got 2.5"),
    ],
)
def test_a_hyperparameter_of_the_wrong_kind_is_refused_before_any_work(
    tmp_path, capsys, scaled_target_model, params, message
):
    preset = tmp_path / "kind.toml"
    preset.write_text(TOY.replace("{ scale = 1.5 }", params))
    assert main(["run", "--preset", str(preset), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert (
        capsys.readouterr().err
        == f"genbench: error: model 'bad': bad hyperparameters ({message})\n"
    )
    assert not (tmp_path / "o").exists()


def test_a_model_class_missing_part_of_the_protocol_is_named(tmp_path, capsys):
    from genbench.models.base import GenerativeModel

    @models.register("half_done")
    class HalfDone(GenerativeModel):  # no sample()
        name = "half_done"

        def fit(self, target, steps, seed, progress=None):
            return self

    try:
        preset = tmp_path / "half.toml"
        preset.write_text(TOY.replace('family = "scaled_target"', 'family = "half_done"'))
        assert main(["run", "--preset", str(preset), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err == "genbench: error: model 'good' cannot be built: it does not define sample\n"
    finally:
        models._entries.pop("half_done", None)


def test_malformed_preset_file(tmp_path, capsys):
    preset = tmp_path / "broken.toml"
    preset.write_text("name = [unclosed")
    assert main(["run", "--preset", str(preset), "--quiet"]) == 2
    assert "preset" in capsys.readouterr().err


def test_parallel_workers_give_the_same_results_as_one_process(tmp_path, toy_preset):
    options = dict(targets=["spiral"], seeds=2, quiet=True, report=False)
    run(str(toy_preset), out=tmp_path / "one", workers=1, **options)
    run(str(toy_preset), out=tmp_path / "two", workers=2, **options)
    one, two = (pd.read_csv(tmp_path / name / "runs.csv") for name in ["one", "two"])
    assert (two["status"] == "ok").all()  # the conftest's model reached the workers
    columns = [
        "target",
        "model",
        "latent_dim",
        "seed",
        "kl_forward",
        "kl_reverse",
        "w1",
        "w2",
        "mode_coverage",
        "negative_space",
    ]
    pd.testing.assert_frame_equal(one[columns], two[columns])


def test_a_refused_resume_changes_nothing_in_the_folder(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError):
        quiet_run(toy_preset, out, num_samples=300, resume=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_bad_hyperparameter_value_exits_2(tmp_path, capsys):
    preset = tmp_path / "value.toml"
    preset.write_text(
        'name = "v"\ndatasets = ["spiral"]\nseeds = 1\nnum_samples = 200\n'
        "[models.gan]\nlatent_dims = [1]\nsteps = 5\nparams = { batch_size = 63 }\n"
    )
    assert main(["run", "--preset", str(preset), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "model 'gan': bad hyperparameters" in capsys.readouterr().err


def test_leftover_cleaning_touches_only_genbench_temporaries(tmp_path, toy_preset):
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    mine = out / "records" / ".a.json.x1.genbench-tmp"
    theirs = out / ".notes.tmp"
    mine.write_text("half a record")
    theirs.write_text("a user's file")
    quiet_run(toy_preset, out, resume=True)
    assert not mine.exists() and theirs.exists()


def test_the_score_floor_is_the_oracle_row_of_a_run(toy_run):
    out, _ = toy_run
    runs = pd.read_csv(out / "runs.csv").set_index(["target", "model", "seed"])
    oracle = runs.loc[("spiral", "oracle", 1)]
    assert floor("spiral", 400, seed=1) == {name: oracle[name] for name in default_metrics()}


def test_a_model_named_like_the_reference_is_refused(tmp_path, capsys, toy_preset):
    toy_preset.write_text(TOY.replace("[models.good]", "[models.oracle]"))
    assert main(["run", "--preset", str(toy_preset), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "reference model" in capsys.readouterr().err


def test_resume_refuses_a_folder_of_an_older_format(tmp_path, toy_preset):
    out = tmp_path / "out"
    quiet_run(toy_preset, out)
    record = next((out / "records").glob("*.json"))
    old = json.loads(record.read_text())
    old["dataset"] = old.pop("target")  # as genbench wrote records before "target"
    record.write_text(json.dumps(old))
    with pytest.raises(ResultsError, match="older one"):
        quiet_run(toy_preset, out, resume=True)


def test_steps_sweep_trains_each_entry_for_each_count(tmp_path, toy_preset):
    out = tmp_path / "out"
    board = quiet_run(toy_preset, out, models=["good"], targets=["spiral"], steps=[4, 8])
    runs = pd.read_csv(out / "runs.csv")
    good = runs[runs["model"] == "good"]
    assert sorted(good["steps"].unique()) == [4, 8] and len(good) == 2  # one seed each
    assert (out / "samples" / "spiral__good__z2__t4__s0.npy").exists()
    assert sorted(board[board["model"] == "good"]["steps"]) == [4, 8]


def test_resume_accepts_runs_whose_defaults_json_cannot_compare(tmp_path):
    from tests.runner.test_plan import Unusual

    models.register("unusual")(Unusual)
    try:
        preset = tmp_path / "unusual.toml"
        preset.write_text(
            'name = "u"\ntargets = ["spiral"]\nseeds = 1\nnum_samples = 300\n'
            '[models.u]\nfamily = "unusual"\nsteps = 4\n'
        )
        out = tmp_path / "out"
        quiet_run(preset, out)
        first = pd.read_csv(out / "runs.csv")
        quiet_run(preset, out, resume=True)  # NaN, a set and a function: not refused
        pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), first)
    finally:
        models._entries.pop("unusual", None)

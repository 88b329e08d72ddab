"""``genbench score`` and ``genbench list`` as a user runs them."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from genbench.cli import main
from genbench.targets import get_target

SPEC_KEYS = {"kl_forward", "kl_reverse", "w1", "w2", "mode_coverage", "negative_space"}


@pytest.fixture(scope="module")
def eight_samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    samples = get_target("eight_gaussians").sample(2_000, seed=1)
    np.save(folder / "s.npy", samples)
    np.savetxt(folder / "header.csv", samples, delimiter=",", header="x,y", comments="")
    np.savetxt(folder / "plain.csv", samples, delimiter=",")
    return folder, samples


def run_json(capsys, *args):
    assert main(["score", *args, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # exactly one JSON object: json.loads fails on anything extra


def test_score_json_has_the_spec_shape(capsys, eight_samples):
    folder, samples = eight_samples
    result = run_json(capsys, "--target", "eight_gaussians", str(folder / "s.npy"))
    assert set(result) == {"target", "dataset", "n", "metrics"}
    assert result["target"] == result["dataset"] == "eight_gaussians"  # "dataset": the old key
    assert result["n"] == len(samples)
    assert set(result["metrics"]) == SPEC_KEYS
    assert result["metrics"]["mode_coverage"] == 1.0


def test_the_old_dataset_flag_still_works(capsys, eight_samples):
    folder, _ = eight_samples
    new = run_json(capsys, "--target", "eight_gaussians", str(folder / "s.npy"))
    assert run_json(capsys, "--dataset", "eight_gaussians", str(folder / "s.npy")) == new


def test_npy_and_csv_with_or_without_header_score_the_same(capsys, eight_samples):
    folder, _ = eight_samples
    results = [
        run_json(capsys, "--target", "eight_gaussians", str(folder / name), "--seed", "3")
        for name in ["s.npy", "header.csv", "plain.csv"]
    ]
    for result in results[1:]:
        for key, value in results[0]["metrics"].items():
            assert result["metrics"][key] == pytest.approx(value, rel=1e-9)


def test_seed_changes_only_the_estimators_randomness(capsys, eight_samples):
    folder, _ = eight_samples
    path = str(folder / "s.npy")
    a = run_json(capsys, "--target", "eight_gaussians", path, "--seed", "1")
    b = run_json(capsys, "--target", "eight_gaussians", path, "--seed", "1")
    c = run_json(capsys, "--target", "eight_gaussians", path, "--seed", "2")
    assert a == b and a != c


def test_table_output_shows_the_oracle_floor(capsys, eight_samples):
    folder, _ = eight_samples
    assert main(["score", "--target", "eight_gaussians", str(folder / "s.npy")]) == 0
    out = capsys.readouterr().out
    assert "oracle floor" in out and "kl_forward" in out and "negative_space" in out


def write(path, content):
    if isinstance(content, np.ndarray):
        np.save(path, content)
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("empty.csv", "", "the file is empty"),
        ("blank.csv", "\n\n", "no samples"),
        ("header_only.csv", "x,y\n", "no samples"),
        ("three.csv", "1,2,3\n" * 200, "line 1 has 3 columns, expected 2"),
        ("text.csv", "x,y\n" + "1,2\n" * 150 + "a,b\n", "line 152 is not two numbers"),
        ("nan.csv", "nan,1\n" + "1,2\n" * 150, "NaN or infinite"),
        ("few.csv", "1,2\n" * 10, "at least 100 samples"),
        ("binary.csv", b"\xff\xfe\x00\x01" * 50, "not a text file"),
        ("shape.npy", np.zeros((200, 3)), r"shape \(n, 2\)"),
        ("flat.npy", np.zeros(200), r"shape \(n, 2\)"),
        ("strings.npy", np.array([["a", "b"]] * 200), "must be numbers"),
        ("inf.npy", np.vstack([np.zeros((200, 2)), [[np.inf, 0]]]), "NaN or infinite"),
        ("garbage.npy", b"hello", "not a .npy file"),
        ("truncated.npy", b"\x93NUMPY\x01\x00", "not a valid .npy file"),
        ("samples.txt", "1,2\n", "unsupported file type '.txt'"),
    ],
)
def test_bad_files_get_one_line_and_exit_2(tmp_path, capsys, filename, content, message):
    path = write(tmp_path / filename, content)
    assert main(["score", "--target", "spiral", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing half-written to stdout
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert re.search(message, lines[0]), lines[0]


def test_missing_file_and_unknown_dataset(tmp_path, capsys, eight_samples):
    folder, _ = eight_samples
    assert main(["score", "--target", "spiral", str(tmp_path / "nope.npy")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["score", "--target", "moons", str(folder / "s.npy")]) == 2
    assert "unknown target 'moons'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "s.npy"],  # --target missing
        ["score", "--target", "spiral", "s.npy", "--seed", "-1"],
        ["score", "--target", "spiral", "s.npy", "--seed", "many"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_list_names_every_target_model_and_metric(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ["gaussian", "eight_gaussians", "spiral", *SPEC_KEYS]:
        assert name in out


def test_python_dash_m_genbench_runs_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "genbench", "score", "--target", "spiral", str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"genbench: error: {tmp_path / 'x.npy'}: no such file"


def test_huge_files_are_refused_before_reading(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:  # a sparse file: 1.5 GiB that takes no disk space
        handle.truncate(3 << 29)
    assert main(["score", "--target", "spiral", str(path)]) == 2
    assert "over the limit of 1 GiB" in capsys.readouterr().err


def test_too_many_samples_are_refused_with_the_limit_named(tmp_path, capsys, monkeypatch):
    # the module, not the function `score` that genbench.metrics re-exports under its name
    monkeypatch.setattr(sys.modules["genbench.metrics.score"], "MAX_SAMPLES", 1_000)
    np.save(tmp_path / "many.npy", np.zeros((1_001, 2)))
    assert main(["score", "--target", "spiral", str(tmp_path / "many.npy")]) == 2
    assert "at most 1,000 samples can be scored, got 1,001" in capsys.readouterr().err


def test_a_bad_first_row_is_not_mistaken_for_a_header(tmp_path, capsys):
    path = tmp_path / "bad_first.csv"
    path.write_text("0.5,abc\n" + "1,2\n" * 150)
    assert main(["score", "--target", "spiral", str(path)]) == 2
    assert "line 1 is not two numbers" in capsys.readouterr().err


def test_memorisation_needs_training_and_scores_with_it(tmp_path, capsys, eight_samples):
    folder, samples = eight_samples
    asked = ["--target", "eight_gaussians", str(folder / "s.npy"), "--metrics", "memorisation"]
    assert main(["score", *asked, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "memorisation" in err[0] and "--training FILE" in err[0]

    # half the samples copy the training set (1), half are new to it (0.5): about 0.75
    half = samples[: len(samples) // 2]
    np.save(tmp_path / "copied.npy", half)
    np.savetxt(tmp_path / "copied.csv", half, delimiter=",", header="x,y", comments="")
    for training in ["copied.npy", "copied.csv"]:
        result = run_json(capsys, *asked, "--training", str(tmp_path / training))
        assert set(result["metrics"]) == SPEC_KEYS | {"memorisation"}
        assert result["metrics"]["memorisation"] == pytest.approx(0.75, abs=0.05)
    np.save(tmp_path / "other.npy", get_target("eight_gaussians").sample(300, seed=7))
    fresh = run_json(capsys, *asked, "--training", str(tmp_path / "other.npy"))
    assert fresh["metrics"]["memorisation"] == pytest.approx(0.5, abs=0.05)


def test_the_table_gives_memorisations_floor(tmp_path, capsys, eight_samples):
    folder, samples = eight_samples
    np.save(tmp_path / "training.npy", samples)
    assert (
        main(
            [
                *["score", "--target", "eight_gaussians", str(folder / "s.npy")],
                *["--metrics", "memorisation", "--training", str(tmp_path / "training.npy")],
            ]
        )
        == 0
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if "memorisation" in line)
    value, floor = re.findall(r"\d\.?\d*", row)[:2]
    assert float(value) == 1 and float(floor) == pytest.approx(0.5, abs=0.05)


def test_a_bad_training_file_is_one_line_and_exit_2(tmp_path, capsys, eight_samples):
    folder, _ = eight_samples
    np.save(tmp_path / "one.npy", np.zeros((1, 2)))
    asked = ["score", "--target", "eight_gaussians", str(folder / "s.npy")]
    for training, message in [
        (tmp_path / "one.npy", "need at least 2 training points"),
        (tmp_path / "missing.npy", "no such file"),
    ]:
        code = main([*asked, "--metrics", "memorisation", "--training", str(training)])
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]


def test_a_training_set_no_metric_reads_is_said_to_be_unused(tmp_path, capsys, eight_samples):
    folder, samples = eight_samples
    np.save(tmp_path / "training.npy", samples)
    argv = ["--target", "eight_gaussians", str(folder / "s.npy"), "--training"]
    result = run_json(capsys, *argv, str(tmp_path / "training.npy"))
    assert "memorisation" not in result["metrics"]  # scored as without it
    assert main(["score", *argv, str(tmp_path / "training.npy"), "--json"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not used" in err[0] and "memorisation" in err[0]


@pytest.fixture
def undefined_metric():
    """An opt-in metric that has no value for any samples."""
    from genbench.metrics import metric
    from genbench.registry import metrics

    metric("undefined", ideal=0.0, description="nothing", label="nothing", short_label="-",
           default=False)(lambda target, samples, *, seed=0: float("nan"))  # fmt: skip
    yield
    metrics._entries.pop("undefined", None)


def test_a_value_that_is_not_a_number_is_null_in_json_and_said_on_stderr(
    capsys, eight_samples, undefined_metric
):
    folder, _ = eight_samples
    argv = ["--target", "eight_gaussians", str(folder / "s.npy"), "--metrics", "undefined"]
    result = run_json(capsys, *argv)  # strict JSON: json.loads accepts NaN, so check the text
    assert result["metrics"]["undefined"] is None and result["metrics"]["w1"] > 0
    assert main(["score", *argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert "NaN" not in out and err == "genbench: warning: metric undefined is nan\n"

"""Reading a results folder: what the report finds in it, and one clear error, before anything
is written, for a folder that is not a results folder."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from genbench.report import ReportError, build_report, load_results
from genbench.report.folder import shown_samples
from tests.report.conftest import MODELS, TARGETS


def test_the_folder_says_its_targets_models_and_latent_sizes(results_folder):
    results = load_results(results_folder[0])
    assert results.targets == TARGETS
    assert results.models == MODELS
    assert results.latent_dims == [1, 2, 3]  # the GAN's 1 and 3, the flow's fixed 2
    assert results.entries == [("oracle", 0), ("gan", 1), ("gan", 3), ("realnvp", 2)]


def test_the_samples_shown_are_the_lowest_seed_of_each_entry(results_folder):
    results = load_results(results_folder[0])
    samples, seeds = shown_samples(results, "spiral")
    assert seeds == {0}
    assert set(samples) == set(results.entries)
    assert all(points is not None and points.shape[1] == 2 for points in samples.values())


def copy_tables(source, destination):
    destination.mkdir()
    for name in ["config.json", "runs.csv", "leaderboard.csv"]:
        shutil.copy(source / name, destination / name)
    return destination


BREAKAGES = {
    "no runs.csv": lambda f: (f / "runs.csv").unlink(),
    "no config.json": lambda f: (f / "config.json").unlink(),
    "empty runs.csv": lambda f: (f / "runs.csv").write_text(""),
    "header only": lambda f: (f / "leaderboard.csv").write_text(
        (f / "leaderboard.csv").read_text().splitlines()[0] + "\n"
    ),
    "malformed csv": lambda f: (f / "leaderboard.csv").write_text('a,b\n1,"2\n3,4,5,6\n'),
    "foreign csv": lambda f: (f / "runs.csv").write_text("x,y\n1,2\n"),
    "binary csv": lambda f: (f / "leaderboard.csv").write_bytes(b"\xff\xfe\x00\x81" * 50),
    "bad json": lambda f: (f / "config.json").write_text("{not json"),
    "json list": lambda f: (f / "config.json").write_text("[1, 2]"),
    "text latent": lambda f: (f / "leaderboard.csv").write_text(
        (f / "leaderboard.csv").read_text().replace(",gan,1,", ",gan,one,", 1)
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_bad_folder_is_one_clear_error_and_writes_nothing(results_folder, tmp_path, breakage):
    folder = copy_tables(results_folder[0], tmp_path / "bad")
    BREAKAGES[breakage](folder)
    before = sorted(p.name for p in folder.rglob("*"))
    with pytest.raises(ReportError) as error:
        build_report(folder)
    message = str(error.value)
    assert message and "\n" not in message
    assert sorted(p.name for p in folder.rglob("*")) == before


def test_a_missing_folder_is_a_report_error(tmp_path):
    with pytest.raises(ReportError, match="is not a folder"):
        build_report(tmp_path / "nowhere")
    with pytest.raises(ReportError, match="not a genbench results folder"):
        build_report(tmp_path)


def test_missing_samples_leave_a_blank_panel_not_a_crash(results_folder, tmp_path):
    """Samples are optional: without them an entry's panel is left blank."""
    folder = copy_tables(results_folder[0], tmp_path / "no_samples")
    results = load_results(folder)
    samples, seeds = shown_samples(results, "gaussian")
    assert seeds == set() and all(points is None for points in samples.values())


def test_an_older_folder_with_a_dataset_column_still_reads(results_folder, tmp_path):
    """Folders written before targets were called targets name the column ``dataset``."""
    folder = copy_tables(results_folder[0], tmp_path / "old")
    for name in ["runs.csv", "leaderboard.csv"]:
        table = pd.read_csv(folder / name).rename(columns={"target": "dataset"})
        table.to_csv(folder / name, index=False)
    assert load_results(folder).targets == TARGETS

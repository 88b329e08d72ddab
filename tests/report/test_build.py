"""`genbench report DIR`: every file appears, the figures are not blank, and the command prints
what it wrote or one line of error."""

from __future__ import annotations

from genbench.cli import main
from tests.report.conftest import TARGETS
from tests.report.images import grey

FIGURES = ["leaderboard"] + [f"{kind}_{t}" for t in TARGETS for kind in ["samples", "metrics"]]


def test_every_expected_file_is_written(results_folder):
    folder, written = results_folder
    expected = [folder / "figures" / f"{name}.png" for name in FIGURES]
    assert sorted(written) == sorted([*expected, folder / "report.html", folder / "report.md"])
    for path in written:
        assert path.is_file() and path.stat().st_size > 0
    assert not list(folder.rglob("*.tmp")), "a temporary file was left behind"


def test_figures_are_not_blank_and_stay_small(results_folder):
    folder, _ = results_folder
    for name in FIGURES:
        data = (folder / "figures" / f"{name}.png").read_bytes()
        assert grey(data).var() > 100, f"{name}.png looks blank"
        assert len(data) < 600_000, f"{name}.png is {len(data):,} bytes"


def test_the_command_says_what_it_wrote(results_folder, capsys):
    folder, _ = results_folder
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {folder / 'report.html'} and {folder / 'report.md'}" in out
    assert f"{len(FIGURES)} figures in {folder / 'figures'}" in out


def test_the_command_fails_in_one_line_on_a_folder_without_results(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("genbench: error: ") and captured.err.count("\n") == 1
    assert "not a genbench results folder" in captured.err
    assert list(tmp_path.iterdir()) == []

"""`genbench report`: every file appears, figures are not blank and have their panels, and the
HTML is self-contained."""

from __future__ import annotations

import argparse
import base64
import html
import io
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from genbench import plots
from genbench.report import (
    ReportError,
    add_report_command,
    build_report,
    failures_html,
    load_results,
    shown_samples,
)
from genbench.targets import get_target
from tests.report.conftest import MODELS, TARGETS

FIGURES = ["leaderboard"] + [f"{kind}_{d}" for d in TARGETS for kind in ["samples", "metrics"]]


def grey(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)


def panel_pixels(figure, image: np.ndarray, axes) -> np.ndarray:
    """The pixels of ``axes`` in ``image``, the PNG of ``figure`` saved at its own dpi."""
    box = axes.get_window_extent()
    height = image.shape[0]
    return image[
        int(height - box.y1) + 2 : int(height - box.y0) - 2,
        int(box.x0) + 2 : int(box.x1) - 2,
    ]


# ---------------------------------------------------------------------------- the files
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


def test_sample_grid_has_a_panel_per_model_and_latent_dim(results_folder):
    folder, _ = results_folder
    results = load_results(folder)
    assert results.models == MODELS
    assert results.latent_dims == [1, 2, 3]  # the GAN's 1 and 3, the flow's fixed 2
    target = get_target("spiral")
    samples, seeds = shown_samples(results, "spiral")
    assert seeds == {0}
    board = results.board[results.board["target"] == "spiral"]
    figure = plots.sample_grid(
        target, board, samples, models=results.models, latent_dims=results.latent_dims
    )
    labels = sorted(axes.get_label() for axes in figure.axes)
    assert labels == sorted(
        [
            "key",
            "samples:oracle:0",
            "samples:gan:1",
            "n/a:gan:2",
            "samples:gan:3",
            "n/a:realnvp:1",
            "samples:realnvp:2",
            "n/a:realnvp:3",
        ]
    )
    # every sample panel shows the target's fixed square with equal aspect, and its pixels vary
    image = grey(save(figure))
    for axes in figure.axes:
        if axes.get_label().startswith("samples:"):
            assert axes.get_xlim() == (-target.plot_range, target.plot_range)
            assert axes.get_ylim() == (-target.plot_range, target.plot_range)
            assert axes.get_aspect() == 1.0
            assert panel_pixels(figure, image, axes).var() > 50, axes.get_label()


def test_sample_grid_marks_failed_entries():
    target = get_target("gaussian")
    board = pd.DataFrame(
        {
            "model": ["oracle", "gan", "gan"],
            "latent_dim": [0, 1, 3],
            "seeds": [2, 2, 2],
            "failed": [0, 0, 2],
            "w2_mean": [0.1, 0.5, np.nan],
        }
    )
    samples = {("oracle", 0): target.sample(500, 0), ("gan", 1): target.sample(500, 1)}
    figure = plots.sample_grid(target, board, samples, models=["gan"], latent_dims=[1, 3])
    labels = {axes.get_label() for axes in figure.axes}
    assert {"samples:oracle:0", "samples:gan:1", "failed:gan:3"} <= labels


def test_metric_curves_have_a_panel_per_metric_with_every_model(results_folder):
    folder, _ = results_folder
    results = load_results(folder)
    board = results.board[results.board["target"] == "gaussian"]
    figure = plots.metric_curves(
        board, models=results.models, metric_names=results.metric_names, title="t"
    )
    assert [axes.get_label() for axes in figure.axes] == [
        f"metric:{name}" for name in results.metric_names
    ]
    for axes in figure.axes:
        labels = [line.get_label() for line in axes.get_lines()]
        assert "gan" in labels and "oracle" in labels
        oracle = next(line for line in axes.get_lines() if line.get_label() == "oracle")
        assert oracle.get_linestyle() == "--"
        assert axes.collections, "no interval band or error bar"
    image = grey(save(figure))
    for axes in figure.axes:
        assert panel_pixels(figure, image, axes).var() > 50, axes.get_label()


def test_heatmap_has_a_cell_per_target_and_entry(results_folder):
    folder, _ = results_folder
    results = load_results(folder)
    figure = plots.leaderboard_heatmap(
        results.board, targets=results.targets, entries=results.entries
    )
    (axes,) = [a for a in figure.axes if a.get_label() == "heatmap"]
    ranks = axes.get_images()[0].get_array()
    assert ranks.shape == (len(TARGETS), len(results.entries)) == (2, 4)
    assert np.ma.count_masked(ranks) == 0
    assert ((ranks >= 0) & (ranks <= 1)).all()


def save(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the HTML
class References(HTMLParser):
    """Every attribute that can fetch something, and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for name in ["src", "srcset", "poster", "data", "background"]:
            if name in attributes:
                self.sources.append(attributes[name])
        for name in ["href", "action", "formaction"]:
            if name in attributes:
                self.links.append(attributes[name])


def test_html_references_only_what_it_embeds(results_folder):
    folder, _ = results_folder
    text = (folder / "report.html").read_text(encoding="utf-8")
    parsed = References()
    parsed.feed(text)
    assert "http://" not in text and "https://" not in text
    assert "url(" not in text and "@import" not in text
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    # every fetchable reference is an embedded data URI, and each is one of the folder's images
    files = {p.read_bytes() for p in [*folder.glob("figures/*.png"), *folder.glob("animations/*")]}
    embedded = []
    for source in parsed.sources:
        match = re.fullmatch(r"data:image/(png|gif);base64,([A-Za-z0-9+/=]+)", source)
        assert match, source[:80]
        embedded.append(base64.b64decode(match.group(2)))
    assert set(embedded) == files
    assert len(embedded) == len(FIGURES) + 1  # the figures and the one animation
    # links only jump within the page, to ids that exist
    for link in parsed.links:
        assert link.startswith("#") and link[1:] in parsed.ids, link


def test_html_has_the_leaderboard_config_and_provenance(results_folder):
    folder, _ = results_folder
    text = (folder / "report.html").read_text(encoding="utf-8")
    board = pd.read_csv(folder / "leaderboard.csv")
    runs = pd.read_csv(folder / "runs.csv")
    table = text[text.index('id="leaderboard-table"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr class=") == len(board)  # body rows; the header row has no class
    assert 'class="sortable"' in text and "<script>" in text
    assert '"num_samples": 300' in html.unescape(text)  # the config
    for column in ["git_commit", "torch_version", "genbench_version"]:
        assert str(runs[column].iloc[0]) in text
    assert "CPU cores" in text and "platform" in text  # the machine


def test_markdown_embeds_the_figures_by_relative_path(results_folder):
    folder, _ = results_folder
    text = (folder / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == sorted(
        [f"figures/{name}.png" for name in FIGURES]
        + [p.relative_to(folder).as_posix() for p in folder.glob("animations/*.gif")]
    )
    for link in links:
        assert (folder / link).is_file()
    assert "```json" in text and "| git_commit |" in text


# ---------------------------------------------------------------------------- bad folders
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


def test_failed_runs_are_listed_with_their_errors(results_folder, tmp_path):
    folder = copy_tables(results_folder[0], tmp_path / "failed")
    runs = pd.read_csv(folder / "runs.csv")
    runs["error"] = runs["error"].astype(object)
    runs.loc[0, ["status", "error"]] = ["failed", "RuntimeError: <boom>"]
    runs.to_csv(folder / "runs.csv", index=False)
    section = failures_html(load_results(folder))
    assert section.count('<tr class="failed">') == 1
    assert "RuntimeError: &lt;boom&gt;" in section  # escaped
    assert failures_html(load_results(results_folder[0])) == ""


# ---------------------------------------------------------------------------- the command
def test_report_command_parses_and_runs(results_folder, capsys):
    folder, _ = results_folder
    parser = argparse.ArgumentParser()
    add_report_command(parser.add_subparsers())
    args = parser.parse_args(["report", str(folder)])
    assert args.handler(args) == 0
    assert "report.html" in capsys.readouterr().out
    bad = parser.parse_args(["report", str(folder / "records")])
    with pytest.raises(ReportError):
        bad.handler(bad)

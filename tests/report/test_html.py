"""report.html: self-contained (everything it shows is embedded), with the leaderboard table,
the config, the provenance and the failed runs; its style and script come from the package."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser
from importlib import resources

import pandas as pd

from genbench.report import load_results
from genbench.report.html import failures_html
from tests.report.test_build import FIGURES
from tests.report.test_folder import copy_tables


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
    gifs = list(folder.glob("animations/*.gif"))
    assert gifs, "the tiny grid records its GAN's training"
    assert set(embedded) == files
    assert len(embedded) == len(FIGURES) + len(gifs)
    # links only jump within the page, to ids that exist
    for link in parsed.links:
        assert link.startswith("#") and link[1:] in parsed.ids, link


def test_the_style_and_script_are_the_package_files_inlined(results_folder):
    """The template's files travel with the package and end up whole inside the page."""
    folder, _ = results_folder
    text = (folder / "report.html").read_text(encoding="utf-8")
    templates = resources.files("genbench.report") / "templates"
    css = (templates / "report.css").read_text(encoding="utf-8")
    script = (templates / "report.js").read_text(encoding="utf-8")
    assert f"<style>\n{css}</style>" in text
    assert f"<script>\n{script}</script>" in text


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

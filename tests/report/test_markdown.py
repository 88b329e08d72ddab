"""report.md: the figures linked by paths relative to the folder, the config and provenance."""

from __future__ import annotations

import re

from tests.report.test_build import FIGURES


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

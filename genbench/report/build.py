"""``build_report``: from a results folder to its figures, ``report.html`` and ``report.md``."""

from __future__ import annotations

from pathlib import Path

from genbench.files import atomic_write_text
from genbench.report.facts import machine
from genbench.report.figures import build_figures
from genbench.report.folder import animations, load_results
from genbench.report.html import render_html
from genbench.report.markdown import render_markdown


def build_report(folder: str | Path) -> list[Path]:
    """Build the figures, ``report.html`` and ``report.md`` of a results folder.

    Returns the paths written: the figures, then ``report.html`` and ``report.md``. Raises
    ReportError, before writing anything, for a folder that is not a results folder.
    """
    results = load_results(folder)
    figures = build_figures(results)
    gifs = animations(results.folder)
    machine_rows = machine()  # once, so that both pages name the same build time
    html_path = results.folder / "report.html"
    markdown_path = results.folder / "report.md"
    atomic_write_text(html_path, render_html(results, figures, gifs, machine_rows))
    atomic_write_text(markdown_path, render_markdown(results, figures, gifs, machine_rows))
    return [*figures.values(), html_path, markdown_path]

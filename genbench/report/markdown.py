"""``report.md``: the report as Markdown, its images linked by paths relative to the folder."""

from __future__ import annotations

from pathlib import Path

from genbench import plots
from genbench.models import is_reference
from genbench.report.facts import (
    animation_caption,
    config_json,
    preset_name,
    provenance,
    summary,
)
from genbench.report.folder import Results
from genbench.report.table import failures, leaderboard_rows, number, table_columns


def render_markdown(
    results: Results,
    figures: dict[str, Path],
    gifs: list[Path],
    machine_rows: list[tuple[str, str]],
) -> str:
    """The report as Markdown; images are links relative to the results folder."""
    preset = preset_name(results)

    def link(path: Path) -> str:
        return path.relative_to(results.folder).as_posix()

    lines = [f"# genbench report: {preset}", ""]
    lines += [f"- {line}" for line in summary(results)]
    lines += ["", "## Leaderboard", "", f"![leaderboard heatmap]({link(figures['leaderboard'])})"]
    metric_columns = table_columns(results)
    header = ["target", "model", "latent", "rank"] + [plots.axis_label(m) for m in metric_columns]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in leaderboard_rows(results):
        oracle = is_reference(row["model"])
        cells = [
            str(row["target"]),
            str(row["model"]),
            "—" if oracle else str(row["latent_dim"]),
            str(int(row["rank"])),
        ]
        for name in metric_columns:
            mean = number(row.get(f"{name}_mean"))
            low, high = number(row.get(f"{name}_ci_low")), number(row.get(f"{name}_ci_high"))
            cells.append(f"{mean} [{low}, {high}]" if low and high else mean)
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    if "rate_distortion" in figures:
        lines += [
            "",
            "## Rate and distortion",
            "",
            f"![the VAE's distortion against its rate, and its sample quality against β]"
            f"({link(figures['rate_distortion'])})",
        ]
    for target in results.targets:
        lines += [
            "",
            f"## {target}",
            "",
            f"![{target}: samples by model and latent dimension]"
            f"({link(figures[f'samples_{target}'])})",
            "",
            f"![{target}: metrics against the latent dimension]"
            f"({link(figures[f'metrics_{target}'])})",
        ]
        if f"interpolations_{target}" in figures:
            lines += [
                "",
                f"![{target}: images along paths between two latent draws]"
                f"({link(figures[f'interpolations_{target}'])})",
            ]
        if f"convergence_{target}" in figures:
            lines += [
                "",
                f"![{target}: metrics against the training steps]"
                f"({link(figures[f'convergence_{target}'])})",
            ]
    if gifs:
        lines += ["", "## Training animations", ""]
        lines += [f"![{animation_caption(results, path)}]({link(path)})" for path in gifs]
    bad = failures(results)
    if not bad.empty:
        lines += ["", "## Failed runs", "", "| " + " | ".join(bad.columns) + " |"]
        lines.append("|" + "---|" * len(bad.columns))
        for row in bad.itertuples(index=False):
            lines.append("| " + " | ".join(md_cell(str(v)) for v in row) + " |")
    lines += ["", "## Configuration", "", "```json", config_json(results), "```"]
    lines += ["", "## Provenance", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {md_cell(value)} |" for name, value in provenance(results)]
    lines += ["", "The machine that built this report:", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {md_cell(value)} |" for name, value in machine_rows]
    return "\n".join(lines) + "\n"


def md_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")

"""``report.html``: the whole report as one self-contained page.

The page's skeleton, style sheet and script are files of this package
(``templates/report.html``, ``report.css``, ``report.js``), read with ``importlib.resources``
and filled in with ``string.Template``. Every ``$name`` of the template is filled with a
fragment built here, and every fragment escapes the text it takes from the results folder.
Figures and animations are embedded as data URIs and the style sheet and script inline, so the
page refers to no other file and opens anywhere.
"""

from __future__ import annotations

import base64
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd

from genbench import plots
from genbench.models import is_reference
from genbench.report.facts import (
    animation_caption,
    config_json,
    preset_name,
    provenance,
    summary,
)
from genbench.report.figures import safe_name
from genbench.report.folder import Results
from genbench.report.table import failures, leaderboard_rows, number, table_columns
from genbench.results import target_kind


def template(name: str) -> str:
    """The text of ``templates/NAME`` in this package, wherever the package is installed."""
    return (resources.files("genbench.report") / "templates" / name).read_text(encoding="utf-8")


def render_html(
    results: Results,
    figures: dict[str, Path],
    gifs: list[Path],
    machine_rows: list[tuple[str, str]],
) -> str:
    """The whole report as one HTML document with everything embedded; no external reference."""
    sections = [("leaderboard", "Leaderboard")]
    if "rate_distortion" in figures:
        sections.append(("rate-distortion", "Rate and distortion"))
    sections += [(f"target-{safe_name(d)}", d) for d in results.targets]
    if gifs:
        sections.append(("animations", "Training animations"))
    sections.append(("table", "Table"))
    if not failures(results).empty:
        sections.append(("failures", "Failed runs"))
    sections += [("config", "Configuration"), ("provenance", "Provenance")]

    def figure(name: str, caption: str) -> str:
        return (
            f'<figure><img src="{data_uri(figures[name], "image/png")}" '
            f'alt="{escape(caption)}" id="img-{escape(safe_name(name))}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )

    targets = []
    if "rate_distortion" in figures:
        targets += [
            '<h2 id="rate-distortion">Rate and distortion</h2>',
            figure(
                "rate_distortion",
                "Above: each VAE's distortion against its rate, one line per latent size through "
                "its values of β (labelled); a larger β buys a lower rate at a higher "
                "distortion. Below: the ranking metric against β, the oracle dashed.",
            ),
        ]
    for target in results.targets:
        targets += [
            f'<h2 id="target-{escape(safe_name(target))}">{escape(target)}</h2>',
            figure(
                f"samples_{target}",
                f"{target}: generated images, the first of one seed's, "
                "one row per model, one column per latent dimension."
                if target_kind(target) == "images"
                else f"{target}: generated samples (coloured) over the exact target density "
                "(grey), one row per model, one column per latent dimension.",
            ),
            figure(
                f"metrics_{target}",
                f"{target}: each metric against the latent dimension, one line per model with "
                "its 95 % interval as a band; the oracle (the target's own sampler) dashed.",
            ),
        ]
        if f"interpolations_{target}" in figures:
            targets.append(
                figure(
                    f"interpolations_{target}",
                    f"{target}: what the animated runs draw along paths between two latent "
                    "draws, one path per row (straight for a uniform prior, spherical for a "
                    "normal one or the sphere); a smooth row is a smooth map z → x.",
                )
            )
        if f"convergence_{target}" in figures:
            targets.append(
                figure(
                    f"convergence_{target}",
                    f"{target}: each metric against the training steps, one line per model "
                    "with its 95 % interval as a band; the oracle dashed. The figures above show "
                    "each model at its longest training.",
                )
            )
    page = Template(template("report.html"))
    return page.substitute(
        preset=escape(preset_name(results)),
        css=template("report.css"),
        nav="<nav>"
        + "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in sections)
        + "</nav>",
        summary="<ul>" + "".join(f"<li>{escape(line)}</li>" for line in summary(results)) + "</ul>",
        leaderboard=figure(
            "leaderboard",
            f"Rank of every entry within each target by {results.rank_metric} (1 = best; "
            "entries whose 95 % intervals overlap share a rank), with the mean value.",
        ),
        targets="\n".join(targets),
        animations=animations_html(results, gifs),
        table=html_table(results),
        failures=failures_html(results),
        config=escape(config_json(results), quote=False),
        provenance=facts_table(provenance(results)),
        machine=facts_table(machine_rows),
        script=template("report.js"),
    )


def data_uri(path: Path, mime: str) -> str:
    """The file at ``path`` as a ``data:`` URI, to embed it in the page."""
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def animations_html(results: Results, gifs: list[Path]) -> str:
    """The training animations' section, or an empty string when there are none."""
    if not gifs:
        return ""
    parts = [
        '<h2 id="animations">Training animations</h2><p>Samples during training, drawn '
        'from the same noise in every frame.</p><div class="gifs">'
    ]
    for path in gifs:
        caption = escape(animation_caption(results, path))
        parts.append(
            f'<figure><img src="{data_uri(path, "image/gif")}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    parts.append("</div>")
    return "\n".join(parts)


def html_table(results: Results) -> str:
    """The leaderboard as a sortable table: a row per entry, each metric's mean over its 95 %
    interval; the oracle's and failed entries' rows are marked by their class."""
    metric_columns = table_columns(results)
    headers = [
        ("target", "target", "text"),
        ("model", "model", "text"),
        ("latent_dim", "latent", ""),
        ("rank", "rank", ""),
        *[(f"{m}_mean", plots.axis_label(m), "") for m in metric_columns],
        ("train_seconds", "train s", ""),
        ("samples_per_second", "samples/s", ""),
        ("seeds", "seeds", ""),
        ("failed", "failed", ""),
    ]
    head = "".join(
        f'<th data-key="{escape(key)}" class="{kind}" scope="col">{escape(label)}</th>'
        for key, label, kind in headers
    )
    body = []
    for row in leaderboard_rows(results):
        oracle = is_reference(row["model"])
        failed = int(row.get("failed", 0) or 0) > 0 if pd.notna(row.get("failed")) else False
        classes = " ".join(c for c, on in [("oracle", oracle), ("failed", failed)] if on)
        cells = [
            f'<td class="text">{escape(str(row["target"]))}</td>',
            f'<td class="text">{escape(str(row["model"]))}</td>',
            f'<td data-value="{row["latent_dim"]}">{"—" if oracle else row["latent_dim"]}</td>',
            f"<td>{int(row['rank'])}</td>",
        ]
        for name in metric_columns:
            mean = number(row.get(f"{name}_mean"))
            low, high = number(row.get(f"{name}_ci_low")), number(row.get(f"{name}_ci_high"))
            interval = f'<span class="ci">[{low}, {high}]</span>' if low and high else ""
            cells.append(f'<td data-value="{mean}">{mean}{interval}</td>')
        for name in ["train_seconds", "samples_per_second", "seeds", "failed"]:
            value = number(row.get(name))
            cells.append(f'<td data-value="{value}">{value}</td>')
        body.append(f'<tr class="{classes}">' + "".join(cells) + "</tr>")
    return (
        '<div class="scroll"><table class="sortable" id="leaderboard-table"><thead><tr>'
        + head
        + "</tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></div>"
    )


def failures_html(results: Results) -> str:
    """The failed runs' section with their errors, or an empty string when every run finished."""
    bad = failures(results)
    if bad.empty:
        return ""
    head = "".join(f'<th class="text">{escape(c)}</th>' for c in bad.columns)
    body = "".join(
        '<tr class="failed">'
        + "".join(f'<td class="text">{escape(str(v))}</td>' for v in row)
        + "</tr>"
        for row in bad.itertuples(index=False)
    )
    return (
        f'<h2 id="failures">Failed runs</h2><p>{len(bad)} run(s) failed or diverged; their '
        f"metrics are left out of the means.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</div>"
    )


def facts_table(rows: list[tuple[str, str]]) -> str:
    """(name, value) rows as a two-column table."""
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(value)}</td></tr>" for name, value in rows
    )
    return f'<table class="facts">{body}</table>'

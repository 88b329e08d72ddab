"""``genbench report DIR``: the figures, ``report.html`` and ``report.md`` of a results folder.

Everything is derived from the folder alone (``config.json``, ``runs.csv``, ``leaderboard.csv``,
``samples/*.npy`` and any ``animations/*.gif``), so a report can be rebuilt anywhere, any time.
It writes

    figures/leaderboard.png         targets × entries, coloured by rank
    figures/samples_TARGET.png      samples by model (rows) and latent dimension (columns)
    figures/metrics_TARGET.png      every metric against the latent dimension
    report.html                     one self-contained file: figures and animations embedded
                                    as data URIs, a sortable leaderboard, config, provenance
    report.md                       the same, referring to the PNG files next to it

Every file is written to a temporary name and renamed into place, and the folder is checked
completely before anything is written, so a bad folder leaves no file behind.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import genbench
from genbench import plots
from genbench.config import ORACLE
from genbench.leaderboard import RANK_METRIC
from genbench.registry import UnknownNameError, metrics
from genbench.results import ID_COLUMNS, atomic_write_text
from genbench.targets import get_target

FIGURE_FOLDER = "figures"
ANIMATION_FOLDER = "animations"
RUN_COLUMNS = [*ID_COLUMNS, "status"]
BOARD_COLUMNS = ["target", "model", "latent_dim", "rank"]
PROVENANCE = ["preset", "genbench_version", "git_commit", "torch_version", "device"]


class ReportError(ValueError):
    """A folder that is not a genbench results folder; the message is one line for the user."""


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Results:
    """A results folder, read and checked."""

    folder: Path
    config: dict[str, Any]
    runs: pd.DataFrame  # runs.csv
    board: pd.DataFrame  # leaderboard.csv
    targets: list[str]  # in the preset's order
    models: list[str]  # leaderboard entries except the oracle, in the preset's order
    latent_dims: list[int]  # every latent size of a non-oracle entry, ascending
    metric_names: list[str]  # metrics with columns in the leaderboard, in registry order
    rank_metric: str  # the metric the leaderboard's ``rank`` column ranks by

    @property
    def preset(self) -> dict[str, Any]:
        """The resolved preset of config.json, or {} if it has none."""
        preset = self.config.get("preset")
        return preset if isinstance(preset, dict) else {}

    @property
    def entries(self) -> list[tuple[str, int]]:
        """(model, latent_dim) of every leaderboard entry, the oracle first."""
        present = set(zip(self.board["model"], self.board["latent_dim"].astype(int), strict=True))
        ordered = [(ORACLE, 0)] if (ORACLE, 0) in present else []
        for model in self.models:
            ordered += [(model, k) for k in self.latent_dims if (model, k) in present]
        return ordered


def load_results(folder: str | Path) -> Results:
    """Read and check a results folder; ReportError (one line) if it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder} is not a folder")
    for name in ["config.json", "runs.csv", "leaderboard.csv"]:
        if not (folder / name).is_file():
            raise ReportError(f"{folder} is not a genbench results folder: it has no {name}")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"{folder / 'config.json'} is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ReportError(f"{folder / 'config.json'} does not hold a JSON object")
    runs = read_table(folder / "runs.csv", RUN_COLUMNS)
    board = read_table(folder / "leaderboard.csv", BOARD_COLUMNS)
    for table, path in [(runs, "runs.csv"), (board, "leaderboard.csv")]:
        latent = pd.to_numeric(table["latent_dim"], errors="coerce")
        if latent.isna().any() or (latent != latent.round()).any():
            raise ReportError(f"{folder / path}: the latent_dim column holds non-integers")
        table["latent_dim"] = latent.astype(int)
    if pd.to_numeric(board["rank"], errors="coerce").isna().any():
        raise ReportError(f"{folder / 'leaderboard.csv'}: the rank column holds non-numbers")

    metric_names = [name for name in metrics.available() if f"{name}_mean" in board.columns]
    if not metric_names:
        raise ReportError(f"{folder / 'leaderboard.csv'} has no metric columns (<metric>_mean)")
    for name in metric_names:
        for statistic in ["mean", "ci_low", "ci_high"]:
            column = f"{name}_{statistic}"
            if column not in board.columns:
                raise ReportError(f"{folder / 'leaderboard.csv'} has no column {column}")
            board[column] = pd.to_numeric(board[column], errors="coerce")

    preset = config.get("preset", {}) if isinstance(config.get("preset"), dict) else {}
    targets = ordered(board["target"], preset.get("targets", []))
    for target in targets:
        try:
            get_target(target)
        except UnknownNameError as error:
            raise ReportError(f"{folder / 'leaderboard.csv'}: {error}") from None
    models = [m for m in ordered(board["model"], list(preset.get("models", {}))) if m != ORACLE]
    swept = board[board["model"] != ORACLE]
    return Results(
        folder=folder,
        config=config,
        runs=runs,
        board=board,
        targets=targets,
        models=models,
        latent_dims=sorted({int(k) for k in swept["latent_dim"]}),
        metric_names=metric_names,
        rank_metric=rank_metric(board, metric_names),
    )


def rank_metric(board: pd.DataFrame, metric_names: list[str]) -> str:
    """The metric whose ``<metric>_rank`` column is the leaderboard's ``rank``: the folder, not
    this version of genbench, says how its entries were ranked."""
    candidates = [RANK_METRIC, *metric_names] if RANK_METRIC in metric_names else metric_names
    for name in candidates:
        column = f"{name}_rank"
        if (
            column in board.columns
            and (board[column].astype(str) == board["rank"].astype(str)).all()
        ):
            return name
    return candidates[0]


def read_table(path: Path, required: list[str]) -> pd.DataFrame:
    """A non-empty CSV with the ``required`` columns; ReportError otherwise."""
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ReportError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error)
        raise ReportError(f"{path} is not a readable CSV ({message})") from None
    if "target" not in table.columns:  # written by a version that called targets datasets
        table = table.rename(columns={"dataset": "target"})
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ReportError(f"{path} is not a genbench table: it lacks {', '.join(missing)}")
    if table.empty:
        raise ReportError(f"{path} has no rows")
    return table


def ordered(values: pd.Series, preferred: list[str]) -> list[str]:
    """The distinct ``values``, those named in ``preferred`` first and in its order."""
    present = list(dict.fromkeys(str(v) for v in values))
    return [v for v in preferred if v in present] + [v for v in present if v not in preferred]


def shown_samples(
    results: Results, target: str
) -> tuple[dict[tuple[str, int], np.ndarray | None], set[int]]:
    """Per entry of ``target``, the samples of its lowest seed that finished and whose file
    reads as an (n, 2) finite array (None when there is none), and the seeds shown."""
    runs = results.runs[(results.runs["target"] == target) & (results.runs["status"] == "ok")]
    found: dict[tuple[str, int], np.ndarray | None] = {}
    seeds = set()
    for model, latent_dim in results.entries:
        found[model, latent_dim] = None
        rows = runs[(runs["model"] == model) & (runs["latent_dim"] == latent_dim)]
        for seed in sorted(int(s) for s in rows["seed"]):
            path = results.folder / "samples" / f"{target}__{model}__z{latent_dim}__s{seed}.npy"
            try:
                points = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                continue  # a missing or unreadable file: try the next seed
            if points.ndim == 2 and points.shape[1] == 2 and np.isfinite(points).all():
                found[model, latent_dim] = points
                seeds.add(seed)
                break
    return found, seeds


# ---------------------------------------------------------------------------- figures
def build_figures(results: Results) -> dict[str, Path]:
    """Draw every figure into ``folder/figures``; returns them by name (``leaderboard``,
    ``samples_TARGET``, ``metrics_TARGET``)."""
    out = results.folder / FIGURE_FOLDER
    figures = {}
    figure = plots.leaderboard_heatmap(
        results.board,
        targets=results.targets,
        entries=results.entries,
        rank_metric=results.rank_metric,
    )
    figures["leaderboard"] = plots.save_png(figure, out / "leaderboard.png")
    seeds = seed_count(results)
    for name in results.targets:
        target = get_target(name)
        part = results.board[results.board["target"] == name]
        samples, shown = shown_samples(results, name)
        which = f"seed {min(shown)}" if len(shown) == 1 else "the lowest finished seed"
        figure = plots.sample_grid(
            target,
            part,
            samples,
            models=results.models,
            latent_dims=results.latent_dims,
            subtitle=f"dots: the run with {which} of each entry; corner metrics: means over "
            f"{seeds}",
        )
        figures[f"samples_{name}"] = plots.save_png(figure, out / f"samples_{safe_name(name)}.png")
        figure = plots.metric_curves(
            part,
            models=results.models,
            metric_names=results.metric_names,
            title=f"{name}: metrics against the latent dimension "
            f"(mean and 95 % interval over {seeds})",
        )
        figures[f"metrics_{name}"] = plots.save_png(figure, out / f"metrics_{safe_name(name)}.png")
    return figures


def preset_name(results: Results) -> str:
    return str(results.preset.get("name", "")) or results.folder.name


def seed_count(results: Results) -> str:
    counts = sorted({int(n) for n in results.board.get("seeds", pd.Series(dtype=int)).dropna()})
    if not counts:
        return "seeds"
    if len(counts) == 1:
        return f"{counts[0]} seed" + ("s" if counts[0] != 1 else "")
    return f"{counts[0]}–{counts[-1]} seeds"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def animations(folder: Path) -> list[Path]:
    """The training animations in ``folder/animations``, if any."""
    return sorted((folder / ANIMATION_FOLDER).glob("*.gif"))


def animation_caption(path: Path) -> str:
    """``spiral__gan__z1__s0.gif`` → ``gan, latent dim 1, on spiral (seed 0)``."""
    match = re.fullmatch(r"(.+)__(.+)__z(\d+)__s(\d+)", path.stem)
    if not match:
        return path.stem
    target, model, latent_dim, seed = match.groups()
    return f"{model}, latent dim {latent_dim}, on {target} (seed {seed})"


# ---------------------------------------------------------------------------- the facts
def summary(results: Results) -> list[str]:
    """A few sentences that say what was run and who won, per target."""
    runs = results.runs
    failed = int((runs["status"] != "ok").sum())
    seeds = runs["seed"].nunique()
    preset = preset_name(results)
    lines = [
        f"Preset {preset}: {len(results.targets)} target(s) × {len(results.models)} model(s) "
        f"over latent dims {', '.join(map(str, results.latent_dims)) or '—'}, {seeds} seed(s): "
        f"{len(runs)} runs, {failed} failed or diverged."
    ]
    for target in results.targets:
        part = results.board[(results.board["target"] == target)]
        models = by_rank(part[part["model"] != ORACLE], results.rank_metric)
        oracle = part[part["model"] == ORACLE]
        if models.empty:
            continue
        best = models.iloc[0]
        name = results.rank_metric
        floor = (
            f"; the oracle's floor is {oracle[f'{name}_mean'].iloc[0]:.3g}"
            if not oracle.empty
            else ""
        )
        lines.append(
            f"{target}: best is {best['model']} with latent dim {int(best['latent_dim'])}, "
            f"{name} = {best[f'{name}_mean']:.3g}{floor}."
        )
    return lines


def provenance(results: Results) -> list[tuple[str, str]]:
    """Where the results came from, as (name, value) rows: runs.csv and config.json."""
    runs = results.runs
    rows = []
    for column in PROVENANCE:
        if column in runs.columns:
            values = [str(v) for v in runs[column].dropna().unique()]
            rows.append((column, ", ".join(values) or "—"))
    if "finished_at" in runs.columns and runs["finished_at"].notna().any():
        times = sorted(str(t) for t in runs["finished_at"].dropna())
        rows.append(("runs finished", f"{times[0]} … {times[-1]}"))
    if "train_seconds" in runs.columns:
        total = pd.to_numeric(runs["train_seconds"], errors="coerce").sum()
        rows.append(("total training time", f"{total:,.1f} s"))
    environment = results.config.get("environment", {})
    if isinstance(environment, dict):
        for key, value in environment.items():
            rows.append((f"config.json {key}", str(value)))
    return rows


def machine() -> list[tuple[str, str]]:
    """The machine building the report (the runs' device is in the provenance)."""
    return [
        ("platform", platform.platform()),
        ("processor", cpu_name()),
        ("CPU cores", str(os.cpu_count() or "?")),
        ("Python", sys.version.split()[0]),
        ("genbench", genbench.__version__),
        ("report built", datetime.now(timezone.utc).isoformat(timespec="seconds")),
    ]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "?"


def number(value: Any) -> str:
    """A metric value for a table: 3 significant digits, or an empty string."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.3g}" if np.isfinite(value) else ""


# ---------------------------------------------------------------------------- the table
TABLE_METRICS = ["w2", "w1", "kl_forward", "kl_reverse", "mode_coverage", "negative_space"]


def table_columns(results: Results) -> list[str]:
    """The metric columns of the tables: the ranking metric first."""
    order = [results.rank_metric, *TABLE_METRICS, *results.metric_names]
    return [m for m in dict.fromkeys(order) if m in results.metric_names]


def leaderboard_rows(results: Results) -> list[dict[str, Any]]:
    """The leaderboard rows in report order: by target, then rank."""
    order = {name: index for index, name in enumerate(results.targets)}
    board = results.board.assign(_order=results.board["target"].map(order))
    board = board.sort_values(["_order"], kind="stable")
    board = pd.concat(
        [by_rank(part, results.rank_metric) for _, part in board.groupby("_order", sort=True)]
    )
    return board.drop(columns="_order").to_dict("records")


def by_rank(part: pd.DataFrame, name: str) -> pd.DataFrame:
    """``part`` by rank, then by the distance of the rank metric's mean to its ideal value."""
    ideal = metrics.get(name).ideal
    distance = (part[f"{name}_mean"] - ideal).abs()
    return (
        part.assign(_distance=distance)
        .sort_values(["rank", "_distance"], kind="stable")
        .drop(columns="_distance")
    )


# ---------------------------------------------------------------------------- HTML
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1em; } figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; } .gifs { display: flex; flex-wrap: wrap; gap: 1em; }
.gifs figure { width: 320px; } table { border-collapse: collapse; font-size: 0.85em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #eee; text-align: right; }
th { position: sticky; top: 0; background: #fafafa; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.text, th.text { text-align: left; } tr.oracle { color: #555; font-style: italic; }
tr.failed { color: #b00; } td { white-space: nowrap; }
.ci { display: block; color: #888; font-size: 0.8em; } .scroll { overflow-x: auto; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.facts td:first-child { text-align: left; color: #555; } .facts td { text-align: left; }
"""

# Click a header to sort by it (again to reverse); empty cells stay last. Once loaded, the body
# records how many images decoded ("shown/total"), which the browser test reads.
SCRIPT = """
(() => {
  for (const table of document.querySelectorAll("table.sortable")) {
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((header, column) => {
      const key = (row) => {
        const cell = row.cells[column];
        const text = (cell.dataset.value ?? cell.textContent).trim();
        const value = Number(text);
        return text === "" ? null : Number.isNaN(value) ? text : value;
      };
      const sort = () => {
        const ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach((other) => other.removeAttribute("aria-sort"));
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).sort((a, b) => {
          const x = key(a), y = key(b);
          if (x === null || y === null) return (x === null) - (y === null);
          const order = typeof x === "number" && typeof y === "number"
            ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      };
      header.tabIndex = 0;
      header.addEventListener("click", sort);
      header.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
    });
  }
  window.addEventListener("load", () => {
    const images = Array.from(document.images);
    const shown = images.filter((image) => image.complete && image.naturalWidth > 0);
    document.body.dataset.imagesShown = `${shown.length}/${images.length}`;
  });
})();
"""


def config_json(results: Results) -> str:
    """The resolved preset of config.json (the whole file if it has none), as indented JSON."""
    return json.dumps(results.preset or results.config, indent=2)


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def render_html(
    results: Results,
    figures: dict[str, Path],
    gifs: list[Path],
    machine_rows: list[tuple[str, str]],
) -> str:
    """The whole report as one HTML document with everything embedded; no external reference."""
    e = html.escape
    preset = preset_name(results)
    sections = [("leaderboard", "Leaderboard")]
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
            f'alt="{e(caption)}" id="img-{e(safe_name(name))}">'
            f"<figcaption>{e(caption)}</figcaption></figure>"
        )

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>genbench report: {e(preset)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>genbench report: {e(preset)}</h1>",
        "<nav>" + "".join(f'<a href="#{e(a)}">{e(t)}</a>' for a, t in sections) + "</nav>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in summary(results)) + "</ul>",
        '<h2 id="leaderboard">Leaderboard</h2>',
        figure(
            "leaderboard",
            f"Rank of every entry within each target by {results.rank_metric} (1 = best; "
            "entries whose 95 % intervals overlap share a rank), with the mean value.",
        ),
    ]
    for target in results.targets:
        parts += [
            f'<h2 id="target-{e(safe_name(target))}">{e(target)}</h2>',
            figure(
                f"samples_{target}",
                f"{target}: generated samples (coloured) over the exact target density (grey), "
                "one row per model, one column per latent dimension.",
            ),
            figure(
                f"metrics_{target}",
                f"{target}: each metric against the latent dimension, one line per model with "
                "its 95 % interval as a band; the oracle (the target's own sampler) dashed.",
            ),
        ]
    if gifs:
        parts.append(
            '<h2 id="animations">Training animations</h2><p>Samples during training, drawn '
            'from the same noise in every frame.</p><div class="gifs">'
        )
        for path in gifs:
            caption = animation_caption(path)
            parts.append(
                f'<figure><img src="{data_uri(path, "image/gif")}" alt="{e(caption)}">'
                f"<figcaption>{e(caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts += [
        '<h2 id="table">Table</h2>',
        "<p>Click a column to sort by it. Metrics are means over seeds with their 95 % "
        "interval; the oracle row is the estimators' floor.</p>",
        html_table(results),
        failures_html(results),
        '<h2 id="config">Configuration</h2>',
        f"<pre>{e(config_json(results), quote=False)}</pre>",
        '<h2 id="provenance">Provenance</h2>',
        "<h3>The runs</h3>",
        facts_table(provenance(results)),
        "<h3>The machine that built this report</h3>",
        facts_table(machine_rows),
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def html_table(results: Results) -> str:
    e = html.escape
    metric_columns = table_columns(results)
    headers = [
        ("target", "target", "text"),
        ("model", "model", "text"),
        ("latent_dim", "latent", ""),
        ("rank", "rank", ""),
        *[(f"{m}_mean", plots.METRIC_LABELS.get(m, m), "") for m in metric_columns],
        ("train_seconds", "train s", ""),
        ("samples_per_second", "samples/s", ""),
        ("seeds", "seeds", ""),
        ("failed", "failed", ""),
    ]
    head = "".join(
        f'<th data-key="{e(key)}" class="{kind}" scope="col">{e(label)}</th>'
        for key, label, kind in headers
    )
    body = []
    for row in leaderboard_rows(results):
        oracle = row["model"] == ORACLE
        failed = int(row.get("failed", 0) or 0) > 0 if pd.notna(row.get("failed")) else False
        classes = " ".join(c for c, on in [("oracle", oracle), ("failed", failed)] if on)
        cells = [
            f'<td class="text">{e(str(row["target"]))}</td>',
            f'<td class="text">{e(str(row["model"]))}</td>',
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


def failures(results: Results) -> pd.DataFrame:
    """The runs that failed or diverged, with their error messages."""
    runs = results.runs
    bad = runs[runs["status"] != "ok"]
    columns = [*ID_COLUMNS, "status", *(["error"] if "error" in runs.columns else [])]
    return bad[columns].fillna("")


def failures_html(results: Results) -> str:
    bad = failures(results)
    if bad.empty:
        return ""
    e = html.escape
    head = "".join(f'<th class="text">{e(c)}</th>' for c in bad.columns)
    body = "".join(
        '<tr class="failed">' + "".join(f'<td class="text">{e(str(v))}</td>' for v in row) + "</tr>"
        for row in bad.itertuples(index=False)
    )
    return (
        f'<h2 id="failures">Failed runs</h2><p>{len(bad)} run(s) failed or diverged; their '
        f"metrics are left out of the means.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</div>"
    )


def facts_table(rows: list[tuple[str, str]]) -> str:
    e = html.escape
    body = "".join(f"<tr><td>{e(name)}</td><td>{e(value)}</td></tr>" for name, value in rows)
    return f'<table class="facts">{body}</table>'


# ---------------------------------------------------------------------------- Markdown
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
    header = ["target", "model", "latent", "rank"] + [
        plots.METRIC_LABELS.get(m, m) for m in metric_columns
    ]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in leaderboard_rows(results):
        oracle = row["model"] == ORACLE
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
    if gifs:
        lines += ["", "## Training animations", ""]
        lines += [f"![{animation_caption(path)}]({link(path)})" for path in gifs]
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
    return text.replace("|", "\\|")


# ---------------------------------------------------------------------------- entry points
def build_report(folder: str | Path) -> list[Path]:
    """Build the figures, ``report.html`` and ``report.md`` of a results folder.

    Returns the paths written: the figures, then ``report.html`` and ``report.md``. Raises
    ReportError, before writing anything, for a folder that is not a results folder.
    """
    results = load_results(folder)
    figures = build_figures(results)
    gifs = animations(results.folder)
    machine_rows = machine()
    html_path = results.folder / "report.html"
    markdown_path = results.folder / "report.md"
    atomic_write_text(html_path, render_html(results, figures, gifs, machine_rows))
    atomic_write_text(markdown_path, render_markdown(results, figures, gifs, machine_rows))
    return [*figures.values(), html_path, markdown_path]


def add_report_command(commands: argparse._SubParsersAction) -> None:
    """Add ``report DIR`` to the command line's subcommands."""
    parser = commands.add_parser(
        "report",
        help="build the figures, report.html and report.md of a results folder",
        description="Draw the figures of a results folder (sample grids, metric curves, the "
        "leaderboard heatmap) and write a self-contained report.html and a report.md into it.",
    )
    parser.add_argument("folder", metavar="DIR", help="a results folder written by 'genbench run'")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    written = build_report(args.folder)
    figures = written[-2].parent / FIGURE_FOLDER
    print(f"wrote {written[-2]} and {written[-1]} ({len(written) - 2} figures in {figures})")
    return 0

"""Figures of a results folder: sample grids, metric curves and the leaderboard heatmap.

Every function here is a pure function of tables and arrays that returns a matplotlib
``Figure``; ``save_png`` writes one atomically. Figures are built on the Agg canvas directly
(``matplotlib.figure.Figure``, never pyplot), so drawing needs no display and leaves the
process's matplotlib backend alone.

Conventions shared by all figures, so that a reader learns them once:

- a target is always drawn on its own fixed square ``[-plot_range, plot_range]²`` with equal
  aspect, its exact density as a faint grey image underneath;
- each model has one colour from the Okabe–Ito palette (distinguishable with every common
  colour-vision deficiency) in every figure; the oracle is black and dashed;
- every panel that shows a run states its key metrics (seed means) in its corner.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from genbench.config import ORACLE
from genbench.results import atomic_write
from genbench.targets.base import Target

# Okabe & Ito (2008), "Color universal design": safe for protan-, deutan- and tritanopia.
# Ordered so that the first four (the built-in families) are the most distinct on light grey.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]  # a second cue besides colour, per model
ORACLE_COLOUR = "#000000"

MAX_POINTS = 2_000  # points drawn per panel: enough to show the shape, few enough to stay light
DENSITY_PIXELS = 200  # resolution of the background density image, per axis
DENSITY_DARKEST = 0.32  # the target's densest region is drawn at this grey level (0 white, 1 black)
PANEL_INCHES = 1.75  # side of one sample panel
DPI = 110  # enough for a slide, small enough for files of a few hundred KB

METRIC_LABELS = {
    "kl_forward": "KL(p ‖ q̂)  [nats]",
    "kl_reverse": "KL(q̂ ‖ p̂)  [nats]",
    "w1": "W₁",
    "w2": "W₂",
    "mode_coverage": "mode coverage",
    "negative_space": "negative space",
}
# Distances spanning orders of magnitude are read on a log axis; fractions on a linear one.
LOG_METRICS = {"kl_forward", "kl_reverse", "w1", "w2"}
FRACTION_METRICS = {"mode_coverage", "negative_space"}
# The metrics a sample panel states in its corner, with their short labels.
CORNER_METRICS = [("w2", "W₂"), ("kl_forward", "KL"), ("mode_coverage", "modes")]


# The built-in families keep their colour and marker in every report; other entries take the
# remaining ones in order.
FAMILY_INDEX = {"gan": 0, "vae": 1, "realnvp": 2, "ddpm": 3}


def _style_indices(models: Sequence[str]) -> dict[str, int]:
    indices = {m: FAMILY_INDEX[m] for m in models if m in FAMILY_INDEX}
    free = [i for i in range(len(PALETTE)) if i not in indices.values()]
    others = [m for m in models if m != ORACLE and m not in indices]
    for position, model in enumerate(others):
        indices[model] = free[position] if position < len(free) else position % len(PALETTE)
    return indices


def model_colours(models: Sequence[str]) -> dict[str, str]:
    """One palette colour per model; the oracle is black."""
    indices = _style_indices(models)
    return {ORACLE: ORACLE_COLOUR} | {m: PALETTE[i] for m, i in indices.items()}


def model_markers(models: Sequence[str]) -> dict[str, str]:
    """One marker per model, a second cue besides colour; the oracle has none (a dashed line)."""
    indices = _style_indices(models)
    return {ORACLE: "_"} | {m: MARKERS[i % len(MARKERS)] for m, i in indices.items()}


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, independent of pyplot's global state."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically (never a half-written file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, facecolor="white")
    return write_file(path, buffer.getvalue())


def write_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    atomic_write(path, lambda stream: stream.write(data))
    return path


# ---------------------------------------------------------------------------- target panels
def density_image(target: Target, pixels: int = DENSITY_PIXELS) -> np.ndarray:
    """The target's density on its plot range as grey levels in [0, 1], (pixels, pixels).

    Row i is y, column j is x (``imshow``'s ``origin="lower"`` layout). The density is scaled
    by its 99th percentile, so that an integrable spike (the spiral's centre) does not wash out
    the rest.
    """
    points, _ = target.grid(pixels)  # (pixels², 2), x-major
    density = target.prob(points).reshape(pixels, pixels).T  # (y, x)
    positive = density[density > 0]
    scale = np.quantile(positive, 0.99) if positive.size else 1.0
    return np.sqrt(np.clip(density / scale, 0.0, 1.0)) * DENSITY_DARKEST


def draw_target(axes: Axes, target: Target, density: np.ndarray | None = None) -> None:
    """The target's fixed square, equal aspect, no ticks, its density faintly underneath."""
    r = target.plot_range
    if density is None:
        density = density_image(target)
    axes.imshow(
        density,
        cmap="Greys",
        vmin=0.0,
        vmax=1.0,
        origin="lower",
        extent=(-r, r, -r, r),
        interpolation="bilinear",
    )
    axes.set_xlim(-r, r)
    axes.set_ylim(-r, r)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_color("#BBBBBB")


def draw_samples(axes: Axes, samples: np.ndarray, colour: str, size: float = 1.6) -> None:
    """At most ``MAX_POINTS`` of ``samples`` (n, 2) as small translucent dots.

    Samples are i.i.d., so the first ``MAX_POINTS`` are a fair subset.
    """
    points = np.asarray(samples, dtype=float)[:MAX_POINTS]
    axes.scatter(
        points[:, 0],
        points[:, 1],
        s=size,
        c=colour,
        alpha=0.5,
        linewidths=0,
        rasterized=True,
    )


def corner_text(axes: Axes, text: str, colour: str = "#222222") -> None:
    axes.text(
        0.03,
        0.97,
        text,
        transform=axes.transAxes,
        ha="left",
        va="top",
        fontsize=6.2,
        color=colour,
        linespacing=1.15,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "linewidth": 0},
    )


def metrics_text(row: Mapping[str, float]) -> str:
    """The corner label of a panel: W₂, forward KL and mode coverage, seed means."""
    lines = []
    for name, label in CORNER_METRICS:
        value = row.get(f"{name}_mean", np.nan)
        if value is None or not np.isfinite(value):
            continue
        shown = f"{value:.0%}" if name == "mode_coverage" else f"{value:.3g}"
        lines.append(f"{label} {shown}")
    return "\n".join(lines)


def blank_panel(axes: Axes, text: str, colour: str = "#999999") -> None:
    """A panel with no samples: a pale frame and a short word in its middle."""
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_facecolor("#F7F7F7")
    for spine in axes.spines.values():
        spine.set_color("#DDDDDD")
    axes.text(
        0.5,
        0.5,
        text,
        transform=axes.transAxes,
        ha="center",
        va="center",
        fontsize=8,
        color=colour,
    )


# ---------------------------------------------------------------------------- sample grids
def sample_grid(
    target: Target,
    board: pd.DataFrame,
    samples: Mapping[tuple[str, int], np.ndarray | None],
    *,
    models: Sequence[str],
    latent_dims: Sequence[int],
    subtitle: str = "",
) -> Figure:
    """Generated samples over the target: one row per model, one column per latent dimension.

    The first row holds the oracle (the target's own sampler) and a key to the figure.

    Parameters
    ----------
    target : the target, for its density and fixed plot range.
    board : this target's leaderboard rows (``model``, ``latent_dim``, ``<metric>_mean``, …).
    samples : (model, latent_dim) → an (n, 2) sample array to draw, or None when the entry has
        no usable samples (every seed failed); the oracle's key is (``ORACLE``, 0).
    models : the model rows, in order (the oracle is added on top).
    latent_dims : the latent dimension columns, in order.
    subtitle : a line under the title (which seed is shown, say).

    Every axes gets a label that says what it shows, ``samples:MODEL:K``, ``failed:MODEL:K`` or
    ``n/a:MODEL:K``, and ``key`` for the explanation panel, so that tests and callers can find
    panels without reading pixels.
    """
    models = [m for m in models if m != ORACLE]
    columns = max(1, len(latent_dims))
    rows = 1 + len(models)
    spacer = 0.1  # room between the oracle row and the column titles, in panel heights
    figure = new_figure(0.9 + columns * PANEL_INCHES, 0.75 + (rows + spacer) * PANEL_INCHES)
    grid = figure.add_gridspec(
        rows + 1,
        columns,
        height_ratios=[1, spacer] + [1] * (rows - 1),
        left=0.85 / figure.get_figwidth(),
        right=1 - 0.05 / figure.get_figwidth(),
        bottom=0.08 / figure.get_figheight(),
        top=1 - 0.7 / figure.get_figheight(),
        wspace=0.06,
        hspace=0.06,
    )
    colours = model_colours(models)
    density = density_image(target)
    entries = {(row.model, int(row.latent_dim)): row._asdict() for row in board.itertuples()}

    def panel(row: int, column: int, model: str, latent_dim: int) -> None:
        axes = figure.add_subplot(grid[row + 1 if row else 0, column])  # skip the spacer row
        entry = entries.get((model, latent_dim))
        points = samples.get((model, latent_dim))
        if entry is None:
            axes.set_label(f"n/a:{model}:{latent_dim}")
            blank_panel(axes, "n/a")
        elif points is None:
            axes.set_label(f"failed:{model}:{latent_dim}")
            failed = int(entry.get("failed", 0) or 0)
            blank_panel(
                axes, f"failed\n({failed} of {int(entry.get('seeds', 0))} seeds)", "#D55E00"
            )
        else:
            axes.set_label(f"samples:{model}:{latent_dim}")
            draw_target(axes, target, density)
            draw_samples(axes, points, colours[model])
            corner_text(axes, metrics_text(entry))
        if row == 1:  # column titles over the first model row
            axes.set_title(f"latent dim {latent_dim}", fontsize=9, pad=3)
        if column == 0:
            label = "oracle" if model == ORACLE else model
            axes.set_ylabel(label, fontsize=10, color=colours[model], fontweight="bold")

    # first row: the oracle, then a key to the figure
    panel(0, 0, ORACLE, 0)
    figure.axes[-1].set_title("target's own sampler", fontsize=9, pad=3)
    if columns > 1:
        key = figure.add_subplot(grid[0, 1:])
        key.set_label("key")
        key.axis("off")
        key.text(
            0.02,
            0.5,
            "grey: the exact target density\n"
            "dots: generated samples (first 2,000)\n"
            "corner: W₂ (lower is better), KL(p ‖ q̂),\n"
            "    mode coverage; means over seeds\n"
            f"axes: [−{target.plot_range:g}, {target.plot_range:g}]², equal aspect\n"
            "n/a: latent dim not in the sweep (flows\n"
            "    and diffusion are fixed at 2)",
            transform=key.transAxes,
            ha="left",
            va="center",
            fontsize=7.5,
            color="#444444",
            linespacing=1.35,
        )
    for row, model in enumerate(models, start=1):
        for column, latent_dim in enumerate(latent_dims):
            panel(row, column, model, latent_dim)

    figure.suptitle(f"{target.name}: samples by model and latent dimension", fontsize=11, y=0.995)
    if subtitle:
        figure.text(
            0.5,
            1 - 0.34 / figure.get_figheight(),
            subtitle,
            ha="center",
            va="top",
            fontsize=7.5,
            color="#555555",
        )
    return figure


# ---------------------------------------------------------------------------- metric curves
def metric_curves(
    board: pd.DataFrame,
    *,
    models: Sequence[str],
    metric_names: Sequence[str],
    title: str,
) -> Figure:
    """Each metric against the latent dimension: one line per model, its 95 % interval as a
    band, the oracle as a dashed line. One panel per metric (axes label ``metric:NAME``).

    ``board`` is one target's leaderboard rows. A model swept over one latent size only (a flow,
    a diffusion model) is a single marker with its interval as an error bar.
    """
    models = [m for m in models if m != ORACLE]
    colours, markers = model_colours(models), model_markers(models)
    columns = 3 if len(metric_names) > 4 else max(1, len(metric_names))
    rows = int(np.ceil(len(metric_names) / columns))
    figure = new_figure(3.3 * columns, 2.55 * rows + 0.8)
    grid = figure.add_gridspec(
        rows,
        columns,
        left=0.07,
        right=0.985,
        bottom=0.55 / figure.get_figheight() + 0.02,
        top=1 - 0.55 / figure.get_figheight(),
        wspace=0.28,
        hspace=0.38,
    )
    swept = board[board["model"] != ORACLE]
    latent_dims = sorted(int(k) for k in swept["latent_dim"].unique())
    oracle = board[board["model"] == ORACLE]
    # Models with one latent size (flows, diffusion) share an x; nudge them apart on the log axis.
    single = [m for m in models if (swept["model"] == m).sum() == 1]
    nudge = {m: 1.07 ** (i - (len(single) - 1) / 2) for i, m in enumerate(single)}

    for index, name in enumerate(metric_names):
        axes = figure.add_subplot(grid[index // columns, index % columns])
        axes.set_label(f"metric:{name}")
        values = []  # every drawn value, to fit the y-range of a log axis
        for model in models:
            part = swept[swept["model"] == model].sort_values("latent_dim")
            if part.empty:
                continue
            x = part["latent_dim"].to_numpy(dtype=float)
            mean = part[f"{name}_mean"].to_numpy(dtype=float)
            low = part[f"{name}_ci_low"].to_numpy(dtype=float)
            high = part[f"{name}_ci_high"].to_numpy(dtype=float)
            if name in FRACTION_METRICS:  # a fraction's interval ends at its bounds
                low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
            values += [mean, low, high]
            style = {"color": colours[model], "marker": markers[model], "markersize": 4.5}
            if len(part) > 1:
                axes.plot(x, mean, label=model, linewidth=1.6, **style)
                axes.fill_between(x, low, high, color=colours[model], alpha=0.18, linewidth=0)
            else:
                error = np.array([[mean[0] - low[0]], [high[0] - mean[0]]])
                error = np.where(np.isfinite(error), np.abs(error), 0.0)
                axes.errorbar(
                    x * nudge[model],
                    mean,
                    yerr=error,
                    label=model,
                    capsize=3,
                    linestyle="none",
                    **style,
                )
        if not oracle.empty:
            level = float(oracle[f"{name}_mean"].iloc[0])
            values.append(np.array([level]))
            if np.isfinite(level):
                axes.axhline(
                    level, color=ORACLE_COLOUR, linestyle="--", linewidth=1.1, label=ORACLE
                )
        style_metric_axes(axes, name, latent_dims, np.concatenate(values) if values else None)

    handles = [
        Line2D([], [], color=colours[m], marker=markers[m], markersize=5, linewidth=1.6, label=m)
        for m in models
        if (swept["model"] == m).any()
    ]
    if not oracle.empty:
        handles.append(
            Line2D([], [], color=ORACLE_COLOUR, linestyle="--", linewidth=1.1, label="oracle")
        )
    figure.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        frameon=False,
        fontsize=8.5,
        bbox_to_anchor=(0.5, 0.0),
    )
    figure.suptitle(title, fontsize=11, y=0.995)
    return figure


def style_metric_axes(
    axes: Axes, name: str, latent_dims: Sequence[int], values: np.ndarray | None
) -> None:
    axes.set_title(METRIC_LABELS.get(name, name), fontsize=9.5)
    axes.set_xscale("log")
    if latent_dims:
        axes.set_xticks(latent_dims)
        axes.set_xticklabels([str(k) for k in latent_dims])
        axes.set_xlim(min(latent_dims) / 1.35, max(latent_dims) * 1.35)
    axes.minorticks_off()
    axes.set_xlabel("latent dimension", fontsize=8)
    axes.tick_params(labelsize=7.5)
    axes.grid(True, color="#E5E5E5", linewidth=0.6)
    axes.set_axisbelow(True)
    finite = values[np.isfinite(values)] if values is not None else np.array([])
    if name in LOG_METRICS and (finite > 0).any():
        positive = finite[finite > 0]
        axes.set_yscale("log", nonpositive="clip")  # an interval reaching below 0 runs off the axis
        low, high = positive.min() / 1.6, positive.max() * 1.6
        axes.set_ylim(low, high)
        # plain numbers (0.2, 0.5, 1) rather than 2×10⁻¹; 1-2-5 steps when the range is narrow
        subs = (1.0, 2.0, 5.0) if high / low < 300 else (1.0,)
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_locator(NullLocator())
    elif name in FRACTION_METRICS:
        top = max(1.0, float(finite.max())) if name == "mode_coverage" and finite.size else None
        if name == "mode_coverage":
            axes.set_ylim(-0.04, (top or 1.0) + 0.06)
        elif finite.size:
            axes.set_ylim(min(0.0, float(finite.min())), max(0.05, float(finite.max()) * 1.1))


# ---------------------------------------------------------------------------- leaderboard heatmap
def leaderboard_heatmap(
    board: pd.DataFrame,
    *,
    targets: Sequence[str],
    entries: Sequence[tuple[str, int]],
    rank_metric: str = "w2",
) -> Figure:
    """Targets × leaderboard entries, coloured by rank within the target (1 = best).

    Each cell states the rank and the mean of ``rank_metric``. Ranks are normalised per target,
    (rank − 1) / (entries − 1), so that the colour scale means the same on every row. The image
    axes is labelled ``heatmap``; its data is the (targets, entries) array of normalised ranks.
    """
    ranks = np.full((len(targets), len(entries)), np.nan)
    cells: dict[tuple[int, int], tuple[int, float]] = {}
    for i, target in enumerate(targets):
        part = board[board["target"] == target]
        worst = max(1, len(part) - 1)
        for row in part.itertuples():
            key = (row.model, 0 if row.model == ORACLE else int(row.latent_dim))
            if key not in entries:
                continue
            j = entries.index(key)
            ranks[i, j] = (int(row.rank) - 1) / worst
            cells[i, j] = (int(row.rank), float(getattr(row, f"{rank_metric}_mean")))

    figure = new_figure(1.9 + 0.74 * len(entries), 1.3 + 0.62 * len(targets))
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    axes.set_label("heatmap")
    # perceptually uniform and CVD-safe; reversed so that the best rank is the brightest
    image = axes.imshow(
        np.ma.masked_invalid(ranks), cmap="viridis_r", vmin=0, vmax=1, aspect="auto"
    )
    axes.set_facecolor("#F2F2F2")
    for (i, j), (rank, value) in cells.items():
        colour = "white" if ranks[i, j] > 0.55 else "black"
        axes.text(
            j,
            i - 0.1,
            str(rank),
            ha="center",
            va="center",
            fontsize=9.5,
            color=colour,
            fontweight="bold",
        )
        shown = f"{value:.3g}" if np.isfinite(value) else "failed"
        axes.text(j, i + 0.22, shown, ha="center", va="center", fontsize=6.5, color=colour)
    for i in range(len(targets)):
        for j in range(len(entries)):
            if (i, j) not in cells:
                axes.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="#999999")
    axes.set_xticks(range(len(entries)))
    axes.set_xticklabels(
        ["oracle" if m == ORACLE else f"{m}\nz={k}" for m, k in entries], fontsize=7.5
    )
    axes.set_yticks(range(len(targets)))
    axes.set_yticklabels(targets, fontsize=8.5)
    axes.tick_params(length=0)
    axes.xaxis.tick_top()
    for spine in axes.spines.values():
        spine.set_visible(False)
    caption = (
        f"bold: rank within the target by {METRIC_LABELS.get(rank_metric, rank_metric)}, shared "
        f"while 95 % intervals overlap; below it: the mean {rank_metric}"
    )
    width = int(figure.get_figwidth() * 15)  # characters that fit on one line, about
    axes.set_xlabel(textwrap.fill(caption, width), fontsize=7.5, color="#555555")
    colourbar = figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01, ticks=[0, 1])
    colourbar.ax.set_yticklabels(["best", "worst"], fontsize=7.5)
    colourbar.outline.set_visible(False)
    return figure

"""Metric curves: each metric against the latent dimension (or the training steps of a
convergence study), one line per model, the oracle as a dashed level."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from genbench.metrics import Metric
from genbench.models import is_reference
from genbench.plots.style import (
    ORACLE_COLOUR,
    model_colours,
    model_linestyles,
    model_markers,
    new_figure,
    text_inches,
)
from genbench.registry import metrics


def metric_curves(
    board: pd.DataFrame,
    *,
    models: Sequence[str],
    metric_names: Sequence[str],
    title: str,
    x: str = "latent_dim",
) -> Figure:
    """Each metric against column ``x`` of ``board`` (``latent_dim``, or ``steps`` for a
    convergence study): one line per model, its 95 % interval as a band, the oracle as a
    dashed line. One panel per metric (axes label ``metric:NAME``).

    ``board`` is one target's leaderboard rows, one per (model, x). A model with a single x (a
    flow, a diffusion model against the latent dimension) is a single marker with its interval
    as an error bar.
    """
    models = [m for m in models if not is_reference(m)]
    colours, markers = model_colours(models), model_markers(models)
    lines = model_linestyles(models)
    columns = 3 if len(metric_names) > 4 else max(1, len(metric_names))
    rows = int(np.ceil(len(metric_names) / columns))
    figure = new_figure(max(3.3 * columns, text_inches(title, 11) + 0.3), 2.55 * rows + 0.8)
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
    swept = board[~board["model"].map(is_reference)]
    ticks = sorted(int(k) for k in swept[x].unique())
    oracle = board[board["model"].map(is_reference)]
    # Models with one x (flows, diffusion) share it; nudge them apart on the log axis.
    single = [m for m in models if (swept["model"] == m).sum() == 1]
    nudge = {m: 1.07 ** (i - (len(single) - 1) / 2) for i, m in enumerate(single)}

    for index, name in enumerate(metric_names):
        metric = metrics.get(name)
        axes = figure.add_subplot(grid[index // columns, index % columns])
        axes.set_label(f"metric:{name}")
        values = []  # every drawn value, to fit the y-range of a log axis
        for model in models:
            part = swept[swept["model"] == model].sort_values(x)
            if part.empty:
                continue
            where = part[x].to_numpy(dtype=float)
            mean = part[f"{name}_mean"].to_numpy(dtype=float)
            low = part[f"{name}_ci_low"].to_numpy(dtype=float)
            high = part[f"{name}_ci_high"].to_numpy(dtype=float)
            if metric.scale == "linear":  # an interval ends at the bounds; a log axis drops ≤ 0
                low, high = np.clip(low, *metric.bounds), np.clip(high, *metric.bounds)
            values += [mean, low, high]
            style = {"color": colours[model], "marker": markers[model], "markersize": 4.5}
            if len(part) > 1:
                axes.plot(where, mean, label=model, linewidth=1.6, linestyle=lines[model], **style)
                axes.fill_between(where, low, high, color=colours[model], alpha=0.18, linewidth=0)
            else:
                error = np.array([[mean[0] - low[0]], [high[0] - mean[0]]])
                error = np.where(np.isfinite(error), np.abs(error), 0.0)
                axes.errorbar(
                    where * nudge[model],
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
                floor = str(oracle["model"].iloc[0])
                axes.axhline(level, color=ORACLE_COLOUR, linestyle="--", linewidth=1.1, label=floor)
        drawn = np.concatenate(values) if values else None
        style_metric_axes(axes, metric, ticks, drawn, X_LABELS.get(x, x))

    handles = [
        Line2D(
            [],
            [],
            color=colours[m],
            marker=markers[m],
            markersize=5,
            linewidth=1.6,
            linestyle=lines[m],
            label=m,
        )
        for m in models
        if (swept["model"] == m).any()
    ]
    if not oracle.empty:
        handles.append(
            Line2D(
                [],
                [],
                color=ORACLE_COLOUR,
                linestyle="--",
                linewidth=1.1,
                label=str(oracle["model"].iloc[0]),
            )
        )
    legend_below(figure, grid, handles)
    figure.suptitle(title, fontsize=11, y=0.995)
    return figure


X_LABELS = {"latent_dim": "latent dimension", "steps": "training steps"}


def tick_label(value: int) -> str:
    """``3`` → ``3``, ``30000`` → ``30k``: short enough for a row of ticks."""
    return f"{value / 1000:g}k" if value >= 1000 and value % 100 == 0 else str(value)


def style_metric_axes(
    axes: Axes,
    metric: Metric,
    ticks: Sequence[int],
    values: np.ndarray | None,
    xlabel: str = "latent dimension",
) -> None:
    """Title, a log x-axis with ``ticks``, and a y-axis on the metric's scale fitted to
    ``values`` (every drawn mean and interval end, (m,)): log from the smallest to the largest
    positive value, or for a metric bounded on both sides linear over its whole range where the
    ideal is the top (higher is better), else from the lower bound up to the largest value."""
    axes.set_title(metric.axis_label, fontsize=9.5)
    axes.set_xscale("log")
    if ticks:
        axes.set_xticks(ticks)
        axes.set_xticklabels([tick_label(k) for k in ticks])
        axes.set_xlim(min(ticks) / 1.35, max(ticks) * 1.35)
    axes.minorticks_off()
    axes.set_xlabel(xlabel, fontsize=8)
    axes.tick_params(labelsize=7.5)
    axes.grid(True, color="#E5E5E5", linewidth=0.6)
    axes.set_axisbelow(True)
    finite = values[np.isfinite(values)] if values is not None else np.array([])
    low, high = metric.bounds
    if metric.scale == "log" and (finite > 0).any():
        positive = finite[finite > 0]
        axes.set_yscale("log", nonpositive="clip")  # an interval reaching below 0 runs off the axis
        bottom, top = positive.min() / 1.6, positive.max() * 1.6
        axes.set_ylim(bottom, top)
        # plain numbers (0.2, 0.5, 1) rather than 2×10⁻¹; 1-2-5 steps when the range is narrow
        subs = (1.0, 2.0, 5.0) if top / bottom < 300 else (1.0,)
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_locator(NullLocator())
    elif metric.scale == "linear" and np.isfinite(low) and np.isfinite(high):
        span = high - low
        if metric.ideal == high:  # a perfect score touches the top, so show all of the range
            top = max(high, float(finite.max())) if finite.size else high
            axes.set_ylim(low - 0.04 * span, top + 0.06 * span)
        elif finite.size:  # zoom in on the values, but to no less than 5 % of the range
            axes.set_ylim(
                min(low, float(finite.min())),
                max(low + 0.05 * span, low + 1.1 * (float(finite.max()) - low)),
            )


def legend_below(figure: Figure, grid: GridSpec, handles: Sequence[Line2D]) -> None:
    """A legend of ``handles`` along the bottom of ``figure``, in one row if it fits the
    figure's width, else in as few rows as do; the figure grows by the extra rows, under the
    panels of ``grid``."""
    if not handles:
        return
    renderer = figure.canvas.get_renderer()
    for columns in range(len(handles), 0, -1):
        legend = figure.legend(
            handles=handles,
            loc="lower center",
            ncol=columns,
            frameon=False,
            fontsize=8.5,
            bbox_to_anchor=(0.5, 0.0),
        )
        if columns == 1 or legend.get_window_extent(renderer).width <= figure.bbox.width:
            break
        legend.remove()
    rows = -(-len(handles) // columns)
    if rows > 1:
        width, height = figure.get_size_inches()
        extra = legend.get_window_extent(renderer).height / figure.dpi * (rows - 1) / rows
        above, below = (1 - grid.top) * height, grid.bottom * height  # inches
        figure.set_size_inches(width, height + extra)
        grid.update(top=1 - above / (height + extra), bottom=(below + extra) / (height + extra))
        for axes in figure.axes:  # update() moves the axes of pyplot's figures only
            axes.set_position(axes.get_subplotspec().get_position(figure))

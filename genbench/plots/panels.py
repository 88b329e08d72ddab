"""The pieces of a panel that shows a target: its exact density as a faint grey image on its
fixed square, samples as dots over it, and the labels in its corner or in place of samples."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.axes import Axes

from genbench.metrics import Metric, registered
from genbench.targets.base import Target

MAX_POINTS = 2_000  # points drawn per panel: enough to show the shape, few enough to stay light
DENSITY_PIXELS = 200  # resolution of the background density image, per axis
IMAGE_TILES = 6  # an image target's panel shows a 6 × 6 mosaic of the first samples
DENSITY_DARKEST = 0.32  # the target's densest region is drawn at this grey level (0 white, 1 black)


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


def image_mosaic(samples: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """The first ``IMAGE_TILES``² of ``samples`` (n, h·w) laid out ``IMAGE_TILES`` a row, a
    pixel apart (NaN between them and where there are fewer), values clipped to [−1, 1]."""
    height, width = image_shape
    tiles = IMAGE_TILES
    images = np.asarray(samples, dtype=float)[: tiles * tiles].reshape(-1, height, width)
    mosaic = np.full((tiles * (height + 1) - 1, tiles * (width + 1) - 1), np.nan)
    for index, image in enumerate(images):
        row, column = divmod(index, tiles)
        top, left = row * (height + 1), column * (width + 1)
        mosaic[top : top + height, left : left + width] = image
    return np.clip(mosaic, -1, 1)


def draw_images(axes: Axes, samples: np.ndarray, image_shape: tuple[int, int]) -> None:
    """The first ``IMAGE_TILES``² of ``samples`` (n, h·w), values in [−1, 1], as a mosaic of
    grey images (white background, dark ink, as the digits are drawn), a pixel apart."""
    cmap = matplotlib.colormaps["Greys"].with_extremes(bad="#FFFFFF")
    mosaic = image_mosaic(samples, image_shape)
    axes.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_color("#BBBBBB")


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


def metrics_text(row: Mapping[str, float], kind: str = "points") -> str:
    """The corner label of a panel: each headline metric's seed mean (``<name>_mean`` in
    ``row``) under its short label, one per line; fractions in whole percent. ``kind``: the
    kind of the panel's target, whose headline metrics these are."""
    lines = []
    for metric in registered(kind):
        value = row.get(f"{metric.name}_mean", np.nan)
        if not metric.headline or value is None or not np.isfinite(value):
            continue
        shown = f"{value:.0%}" if is_fraction(metric) else f"{value:.3g}"
        lines.append(f"{metric.short_label} {shown}")
    return "\n".join(lines)


def is_fraction(metric: Metric) -> bool:
    """Whether ``metric`` takes values in [0, 1] (a share of regions or of samples)."""
    return metric.bounds == (0.0, 1.0)


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

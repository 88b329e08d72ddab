"""Figures of a results folder: sample grids, metric curves and the leaderboard heatmap.

Every figure function here is a pure function of tables and arrays that returns a matplotlib
``Figure``; ``save_png`` writes one atomically. Figures are built on the Agg canvas directly
(``matplotlib.figure.Figure``, never pyplot), so drawing needs no display and leaves the
process's matplotlib backend alone.

Conventions shared by all figures, so that a reader learns them once:

- a target is always drawn on its own fixed square ``[-plot_range, plot_range]²`` with equal
  aspect, its exact density as a faint grey image underneath;
- each model has one colour from the Okabe–Ito palette (distinguishable with every common
  colour-vision deficiency) and one marker in every figure, and no two models share both
  (past seven models the colours repeat with other markers and line styles); the oracle is
  black and dashed;
- every panel that shows a run states its key metrics (seed means) in its corner.

The package, by concept: ``style`` (model colours and markers, the canvas, PNG writing, label
sizes), ``panels`` (a target's density and samples in one axes), ``samples`` (the sample grid),
``curves`` (metrics against the latent dimension) and ``heatmap`` (the leaderboard).
"""

from genbench.plots.curves import legend_below, metric_curves, style_metric_axes
from genbench.plots.heatmap import (
    CELL_INCHES,
    ENTRY_FONT_SIZE,
    ENTRY_LABEL_CHARS,
    LABEL_GAP_INCHES,
    TARGET_FONT_SIZE,
    entry_label,
    leaderboard_heatmap,
)
from genbench.plots.interpolation import interpolation_grid, path_mosaic
from genbench.plots.panels import (
    DENSITY_DARKEST,
    DENSITY_PIXELS,
    MAX_POINTS,
    blank_panel,
    corner_text,
    density_image,
    draw_images,
    draw_samples,
    draw_target,
    image_mosaic,
    is_fraction,
    metrics_text,
)
from genbench.plots.samples import PANEL_INCHES, sample_grid
from genbench.plots.style import (
    DPI,
    FAMILY_INDEX,
    MARKERS,
    ORACLE_COLOUR,
    PALETTE,
    axis_label,
    model_colours,
    model_linestyles,
    model_markers,
    new_figure,
    save_png,
    text_inches,
    wrap_name,
    write_file,
)

__all__ = [
    "CELL_INCHES",
    "DENSITY_DARKEST",
    "DENSITY_PIXELS",
    "DPI",
    "ENTRY_FONT_SIZE",
    "ENTRY_LABEL_CHARS",
    "FAMILY_INDEX",
    "LABEL_GAP_INCHES",
    "MARKERS",
    "MAX_POINTS",
    "ORACLE_COLOUR",
    "PALETTE",
    "PANEL_INCHES",
    "TARGET_FONT_SIZE",
    "axis_label",
    "blank_panel",
    "corner_text",
    "density_image",
    "draw_images",
    "draw_samples",
    "draw_target",
    "entry_label",
    "image_mosaic",
    "interpolation_grid",
    "is_fraction",
    "leaderboard_heatmap",
    "legend_below",
    "metric_curves",
    "metrics_text",
    "model_colours",
    "model_linestyles",
    "model_markers",
    "new_figure",
    "path_mosaic",
    "sample_grid",
    "save_png",
    "style_metric_axes",
    "text_inches",
    "wrap_name",
    "write_file",
]

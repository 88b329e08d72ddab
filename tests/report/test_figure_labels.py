"""Every label of the report's figures can be read: no two labels of a kind overlap and none is
cut off by the figure's edge, however many entries there are and however long their names.

Text boxes are measured with the Agg renderer after the figure is laid out, in pixels."""

from __future__ import annotations

import itertools
import weakref
from unittest.mock import patch

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from genbench import plots
from genbench.registry import metrics
from genbench.targets import get_target

ORACLE = "oracle"  # the reference model's entry

# Names as long as plug-ins and sampler variants get: breakable at "_", and one that is not.
LONG_MODELS = ["ddpm_dpm_solver_sde", "conditional_gan_label_embedding", "flowmatchingheun"]
# The entries of the quick preset, whose figures the long names join.
QUICK_MODELS = ["gan", "vae", "realnvp", "ddpm", "ddpm_ddim"]
LATENT_DIMS = [1, 2, 3, 10]
TARGETS = ["gaussian", "eight_gaussians", "checkerboard_with_holes"]
METRICS = metrics.available()
_DRAWN: weakref.WeakKeyDictionary[Figure, dict[Text, Bbox]] = weakref.WeakKeyDictionary()


def drawn(figure: Figure) -> dict[Text, Bbox]:
    """Every non-empty text that drawing the figure puts on the canvas, with its extent.

    Watching ``Text.draw`` rather than listing the figure's texts leaves out what matplotlib
    keeps but does not draw (the labels of ticks outside an axis's range, say), and lets the
    layout engine, which runs at draw time, place everything first. A figure is drawn once:
    the assertions only read it, and a figure of every metric takes seconds to draw.
    """
    if figure in _DRAWN:
        return _DRAWN[figure]
    extents = {}
    draw = Text.draw

    def draw_and_measure(text: Text, renderer) -> None:
        draw(text, renderer)
        if text.get_visible() and text.get_text().strip():
            extents[text] = text.get_window_extent(renderer)

    with patch.object(Text, "draw", draw_and_measure):
        figure.canvas.draw()
    _DRAWN[figure] = extents
    return extents


def assert_apart(figure: Figure, texts: list[Text]) -> None:
    """No two of ``texts`` that are drawn overlap."""
    extents = drawn(figure)
    shown = [(text.get_text(), extents[text]) for text in texts if text in extents]
    assert shown, "none of these texts is drawn"
    for (a, box_a), (b, box_b) in itertools.combinations(shown, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


def assert_inside(figure: Figure) -> None:
    """Every text drawn lies wholly within the figure."""
    frame = figure.bbox
    for text, box in drawn(figure).items():
        assert (
            box.x0 >= frame.x0 and box.y0 >= frame.y0 and box.x1 <= frame.x1 and box.y1 <= frame.y1
        ), f"{text.get_text()!r} is cut off: {box.extents} outside {frame.extents}"


def board(models: list[str], targets: list[str]) -> pd.DataFrame:
    """A leaderboard of ``models`` at every latent size on ``targets``, with the oracle."""
    rows = []
    entries = [(ORACLE, 0)] + [(m, k) for m in models for k in LATENT_DIMS]
    for target in targets:
        for rank, (model, latent_dim) in enumerate(entries, start=1):
            row = {"target": target, "model": model, "latent_dim": latent_dim, "rank": rank}
            for name in METRICS:
                value = 0.9 / rank  # within every metric's bounds
                row |= {
                    f"{name}_mean": value,
                    f"{name}_ci_low": value * 0.8,
                    f"{name}_ci_high": value * 1.1,
                }
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- leaderboard heatmap
def heatmap(models: list[str]) -> Figure:
    entries = [(ORACLE, 0)] + [(m, k) for m in models for k in LATENT_DIMS]
    return plots.leaderboard_heatmap(board(models, TARGETS), targets=TARGETS, entries=entries)


@pytest.mark.parametrize("models", [["gan", "vae"], LONG_MODELS], ids=["short", "long"])
def test_heatmap_tick_labels_neither_overlap_nor_leave_the_figure(models):
    figure = heatmap(models)
    (axes,) = [a for a in figure.axes if a.get_label() == "heatmap"]
    assert len(axes.get_xticklabels()) == 1 + len(models) * len(LATENT_DIMS)
    assert_apart(figure, axes.get_xticklabels())
    assert_apart(figure, axes.get_yticklabels())
    assert_inside(figure)  # cells, ticks, caption, colour bar


def test_heatmap_labels_keep_the_whole_entry_name():
    """Wrapping a long name into lines loses no character of it."""
    figure = heatmap(LONG_MODELS)
    (axes,) = [a for a in figure.axes if a.get_label() == "heatmap"]
    shown = ["".join(label.get_text().split()) for label in axes.get_xticklabels()]
    assert shown == ["oracle"] + [f"{m}z={k}" for m in LONG_MODELS for k in LATENT_DIMS]


# ---------------------------------------------------------------------------- sample grid
def test_sample_grid_labels_neither_overlap_nor_leave_the_figure():
    target = get_target("gaussian")
    models = [*QUICK_MODELS, *LONG_MODELS]
    part = board(models, ["gaussian"])
    samples = {(ORACLE, 0): target.sample(200, 0)}  # the other panels are blank ("failed")
    figure = plots.sample_grid(
        target, part, samples, models=models, latent_dims=[*LATENT_DIMS, 100], subtitle="sub"
    )
    rows = [axes.yaxis.label for axes in figure.axes if axes.get_label() != "key"]
    titles = [axes.title for axes in figure.axes]
    assert_apart(figure, rows)
    assert_apart(figure, titles)
    assert_inside(figure)


def test_a_one_column_sample_grid_keeps_its_title_inside():
    # the DDPM samplers alone: fixed at latent 2, one column narrower than the title
    target = get_target("eight_gaussians")
    models = ["ddpm", "ddpm_ddim", "ddpm_dpm_solver_sde"]
    part = board(models, ["eight_gaussians"])
    part = part[part["latent_dim"].isin([0, 2])]
    samples = {(ORACLE, 0): target.sample(200, 0)}
    subtitle = "dots: the run with seed 0 of each entry; corner metrics: means over 3 seeds"
    figure = plots.sample_grid(
        target, part, samples, models=models, latent_dims=[2], subtitle=subtitle
    )
    assert_inside(figure)


# ---------------------------------------------------------------------------- metric curves
@pytest.mark.parametrize(
    "models", [["gan", "vae"], [*QUICK_MODELS, *LONG_MODELS]], ids=["few", "many"]
)
def test_metric_curve_labels_neither_overlap_nor_leave_the_figure(models):
    part = board(models, ["spiral"])
    part = part[part["model"] != "flowmatchingheun"]
    figure = plots.metric_curves(
        pd.concat([part, single_size_entry("flowmatchingheun")]),
        models=models,
        metric_names=METRICS,
        title="spiral: metrics against the latent dimension (mean and 95 % interval over 3 seeds)",
    )
    for axes in figure.axes:
        assert_apart(figure, axes.get_xticklabels())
        assert_apart(figure, axes.get_yticklabels())
    (legend,) = figure.legends
    below = [text for axes in figure.axes for text in [axes.xaxis.label, *axes.get_xticklabels()]]
    assert_apart(figure, [*legend.get_texts(), *below])
    assert_inside(figure)


def test_a_figure_of_one_metric_keeps_its_title_inside():
    part = board(["gan", "vae"], ["spiral"])
    figure = plots.metric_curves(
        part,
        models=["gan", "vae"],
        metric_names=METRICS[:1],
        title="spiral: metrics against the latent dimension (mean and 95 % interval over 3 seeds)",
    )
    assert_inside(figure)


def single_size_entry(model: str) -> pd.DataFrame:
    """A model fixed at latent size 2, as flows and diffusion models are."""
    row = {"target": "spiral", "model": model, "latent_dim": 2, "rank": 2}
    for name in METRICS:
        row |= {f"{name}_mean": 0.3, f"{name}_ci_low": 0.2, f"{name}_ci_high": 0.4}
    return pd.DataFrame([row])


def test_measurements_see_an_overlap():
    """The check above is not vacuous: two labels drawn on top of each other are caught."""
    figure = plots.new_figure(2, 1)
    texts = [figure.text(0.5, 0.5, "ddpm_dpm_solver_sde"), figure.text(0.55, 0.5, "gan z=1")]
    with pytest.raises(AssertionError, match="overlaps"):
        assert_apart(figure, texts)
    figure = plots.new_figure(2, 1)  # a figure is measured once: draw a new one
    figure.text(0.9, 0.5, "ddpm_dpm_solver_sde")
    with pytest.raises(AssertionError, match="cut off"):
        assert_inside(figure)

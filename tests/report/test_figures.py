"""The report's figures show what they say: a panel per model and latent size, a curve per
metric and model, a heatmap cell per target and entry."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genbench import plots
from genbench.report import load_results
from genbench.report.folder import shown_samples
from genbench.targets import get_target
from tests.report.conftest import TARGETS
from tests.report.images import grey, panel_pixels, png


def test_sample_grid_has_a_panel_per_model_and_latent_dim(results_folder):
    results = load_results(results_folder[0])
    target = get_target("spiral")
    samples, _ = shown_samples(results, "spiral")
    board = results.board[results.board["target"] == "spiral"]
    figure = plots.sample_grid(
        target, board, samples, models=results.models, latent_dims=results.latent_dims
    )
    labels = sorted(axes.get_label() for axes in figure.axes)
    assert labels == sorted(
        [
            "key",
            "samples:oracle:0",
            "samples:gan:1",
            "n/a:gan:2",
            "samples:gan:3",
            "n/a:realnvp:1",
            "samples:realnvp:2",
            "n/a:realnvp:3",
        ]
    )
    # every sample panel shows the target's fixed square with equal aspect, and its pixels vary
    image = grey(png(figure))
    for axes in figure.axes:
        if axes.get_label().startswith("samples:"):
            assert axes.get_xlim() == (-target.plot_range, target.plot_range)
            assert axes.get_ylim() == (-target.plot_range, target.plot_range)
            assert axes.get_aspect() == 1.0
            assert panel_pixels(image, axes).var() > 50, axes.get_label()


def test_sample_grid_marks_failed_entries():
    target = get_target("gaussian")
    board = pd.DataFrame(
        {
            "model": ["oracle", "gan", "gan"],
            "latent_dim": [0, 1, 3],
            "seeds": [2, 2, 2],
            "failed": [0, 0, 2],
            "w2_mean": [0.1, 0.5, np.nan],
        }
    )
    samples = {("oracle", 0): target.sample(500, 0), ("gan", 1): target.sample(500, 1)}
    figure = plots.sample_grid(target, board, samples, models=["gan"], latent_dims=[1, 3])
    labels = {axes.get_label() for axes in figure.axes}
    assert {"samples:oracle:0", "samples:gan:1", "failed:gan:3"} <= labels


def test_metric_curves_have_a_panel_per_metric_with_every_model(results_folder):
    results = load_results(results_folder[0])
    board = results.board[results.board["target"] == "gaussian"]
    figure = plots.metric_curves(
        board, models=results.models, metric_names=results.metric_names, title="t"
    )
    assert [axes.get_label() for axes in figure.axes] == [
        f"metric:{name}" for name in results.metric_names
    ]
    for axes in figure.axes:
        labels = [line.get_label() for line in axes.get_lines()]
        assert "gan" in labels and "oracle" in labels
        oracle = next(line for line in axes.get_lines() if line.get_label() == "oracle")
        assert oracle.get_linestyle() == "--"
        assert axes.collections, "no interval band or error bar"
    image = grey(png(figure))
    for axes in figure.axes:
        assert panel_pixels(image, axes).var() > 50, axes.get_label()


def test_heatmap_has_a_cell_per_target_and_entry(results_folder):
    results = load_results(results_folder[0])
    figure = plots.leaderboard_heatmap(
        results.board, targets=results.targets, entries=results.entries
    )
    (axes,) = [a for a in figure.axes if a.get_label() == "heatmap"]
    ranks = axes.get_images()[0].get_array()
    assert ranks.shape == (len(TARGETS), len(results.entries)) == (2, 4)
    assert np.ma.count_masked(ranks) == 0
    assert ((ranks >= 0) & (ranks <= 1)).all()

"""The report's figures, drawn from a checked results folder into ``folder/figures``:

leaderboard.png         targets × entries, coloured by rank
samples_TARGET.png      samples by model (rows) and latent dimension (columns)
metrics_TARGET.png      every metric against the latent dimension
convergence_TARGET.png  every metric against the training steps, for a grid that trains
                        entries for several step counts (a convergence study)
rate_distortion.png     a VAE's distortion against its rate and its sample quality against β,
                        for a grid that scores rate and distortion at several βs
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from genbench import plots
from genbench.models import is_reference
from genbench.plots.tradeoff import has_tradeoff, rate_distortion
from genbench.report.folder import Results, interpolations, shown_samples
from genbench.targets import get_target

FIGURE_FOLDER = "figures"


def build_figures(results: Results) -> dict[str, Path]:
    """Draw every figure into ``folder/figures``; returns them by name (``leaderboard``,
    ``samples_TARGET``, ``metrics_TARGET``, for a convergence study ``convergence_TARGET``
    and, for a β sweep scored for rate and distortion, ``rate_distortion``)."""
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
    if has_tradeoff(results.board):
        figure = rate_distortion(
            results.board,
            targets=results.targets,
            rank_metric=results.rank_metric,
            title=f"The VAE's rate–distortion trade-off as β varies, and its sample quality "
            f"(means and 95 % intervals over {seeds})",
        )
        figures["rate_distortion"] = plots.save_png(figure, out / "rate_distortion.png")
    for name in results.targets:
        target = get_target(name)
        part = results.board[results.board["target"] == name]
        # a grid of mixed kinds: only the entries, latent sizes and metrics of this target
        models = [model for model in results.models if model in set(part["model"])]
        latent_dims = [
            size
            for size in results.latent_dims
            if size in set(part.loc[part["model"].isin(models), "latent_dim"])
        ]
        metric_names = [
            metric for metric in results.metric_names if part[f"{metric}_mean"].notna().any()
        ]
        samples, shown = shown_samples(results, name)
        which = f"seed {min(shown)}" if len(shown) == 1 else "the lowest finished seed"
        figure = plots.sample_grid(
            target,
            part,
            samples,
            models=models,
            latent_dims=latent_dims or results.latent_dims,
            subtitle=f"{'images' if target.kind == 'images' else 'dots'}: the run with {which} "
            f"of each entry; corner metrics: means over {seeds}",
        )
        figures[f"samples_{name}"] = plots.save_png(figure, out / f"samples_{safe_name(name)}.png")
        figure = plots.metric_curves(
            part,
            models=models,
            metric_names=metric_names,
            title=f"{name}: metrics against the latent dimension "
            f"(mean and 95 % interval over {seeds})",
        )
        figures[f"metrics_{name}"] = plots.save_png(figure, out / f"metrics_{safe_name(name)}.png")
        paths = interpolations(results, name) if target.image_shape else {}
        if paths:
            figure = plots.interpolation_grid(name, target.image_shape, paths)
            path = out / f"interpolations_{safe_name(name)}.png"
            figures[f"interpolations_{name}"] = plots.save_png(figure, path)
        study = convergence_board(results.full_board[results.full_board["target"] == name])
        if study is not None:
            figure = plots.metric_curves(
                study,
                models=list(dict.fromkeys(study["model"])),
                metric_names=metric_names,
                title=f"{name}: metrics against the training steps "
                f"(mean and 95 % interval over {seeds})",
                x="steps",
            )
            path = out / f"convergence_{safe_name(name)}.png"
            figures[f"convergence_{name}"] = plots.save_png(figure, path)
    return figures


def convergence_board(part: pd.DataFrame) -> pd.DataFrame | None:
    """One target's leaderboard rows of the entries trained for several step counts, with the
    reference rows (the floor), or None when no entry was. An entry swept over latent sizes
    too is one line per size, named ``MODEL z=K``."""
    if "steps" not in part.columns:
        return None
    floor = part["model"].map(is_reference)
    counts = part[~floor].groupby(["model", "latent_dim"])["steps"].transform("nunique")
    study = part[~floor][counts > 1]
    if study.empty:
        return None
    several = study.groupby("model")["latent_dim"].transform("nunique") > 1
    study = study.assign(
        model=study["model"].where(
            ~several, study["model"] + " z=" + study["latent_dim"].astype(str)
        )
    )
    return pd.concat([part[floor], study], ignore_index=True)


def seed_count(results: Results) -> str:
    """How many seeds each entry's means are over: ``3 seeds``, or a range if they differ."""
    counts = sorted({int(n) for n in results.board.get("seeds", pd.Series(dtype=int)).dropna()})
    if not counts:
        return "seeds"
    if len(counts) == 1:
        return f"{counts[0]} seed" + ("s" if counts[0] != 1 else "")
    return f"{counts[0]}–{counts[-1]} seeds"


def safe_name(name: str) -> str:
    """``name`` with every character that is unsafe in a file name or an HTML id replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)

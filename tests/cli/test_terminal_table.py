"""The leaderboard table printed after a run fits an 80-column terminal whole."""

import io

import pandas as pd
from rich.console import Console

from genbench.metrics import ranking_metric, registered
from genbench.tables import print_leaderboard


def row(model: str, rank: int, ranking: tuple[float, float, float]) -> dict:
    """A leaderboard row: the ranking metric's mean and interval, and a long mean (0.00923)
    for every other metric."""
    mean, low, high = ranking
    name = ranking_metric().name
    return (
        {
            "target": "eight_gaussians",
            "model": model,
            "latent_dim": 0 if model == "oracle" else 100,
            "rank": rank,
            "failed": 0,
            "train_seconds": 1234.5,
        }
        | {f"{m.name}_mean": 0.00923456 for m in registered()}
        | {f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high}
    )


def test_leaderboard_fits_80_columns_without_cutting_anything():
    # The longest built-in entry name and interval seen in real runs, at rank 10.
    board = pd.DataFrame(
        [
            row("oracle", 1, (0.0246, 0.0234, 0.0266)),
            row("ddpm_dpm_solver", 10, (0.184, 0.0893, 0.391)),
        ]
    )
    out = io.StringIO()
    print_leaderboard(board, Console(file=out, width=80))
    text = out.getvalue()
    assert max(map(len, text.splitlines())) <= 80
    assert "…" not in text  # nothing shortened
    line = next(line for line in text.splitlines() if "ddpm_dpm_solver" in line)
    assert line.split()[:3] == ["10", "ddpm_dpm_solver", "100"]
    assert "0.184 [0.089, 0.39]" in line


def test_the_columns_are_the_ranking_metric_then_the_other_headline_metrics():
    board = pd.DataFrame([row("gan", 1, (0.184, 0.0893, 0.391))])
    out = io.StringIO()
    print_leaderboard(board, Console(file=out, width=200))
    header = next(line for line in out.getvalue().splitlines() if line.lstrip().startswith("#"))
    rank_name = ranking_metric().name
    headline = [m.short_label for m in registered("points") if m.headline and m.name != rank_name]
    assert header.split() == ["#", "model", "z", rank_name, *headline, "train", "s"]


def header_of(board: pd.DataFrame) -> list[str]:
    out = io.StringIO()
    print_leaderboard(board, Console(file=out, width=200))
    return next(
        line for line in out.getvalue().splitlines() if line.lstrip().startswith("#")
    ).split()


def test_a_steps_column_only_for_an_entry_trained_for_several_counts():
    # entries with their own step counts (quick: GAN 400, DDPM 3,500): no column
    board = pd.DataFrame(
        [
            row("oracle", 1, (0.02, 0.01, 0.03)) | {"steps": 0},
            row("gan", 2, (0.2, 0.1, 0.3)) | {"steps": 400},
            row("ddpm", 2, (0.2, 0.1, 0.3)) | {"steps": 3000},
        ]
    )
    assert "steps" not in header_of(board)
    # a convergence study: the GAN at two counts
    study = pd.concat([board, pd.DataFrame([row("gan", 4, (0.5, 0.4, 0.6)) | {"steps": 100}])])
    assert header_of(study)[:4] == ["#", "model", "z", "steps"]

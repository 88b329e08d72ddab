"""The leaderboard table printed after a run fits an 80-column terminal whole."""

import io

import pandas as pd
from rich.console import Console

from genbench.tables import print_leaderboard


def row(model: str, rank: int, kl: tuple[float, float, float]) -> dict:
    mean, low, high = kl
    return {
        "target": "eight_gaussians",
        "model": model,
        "latent_dim": 0 if model == "oracle" else 100,
        "rank": rank,
        "failed": 0,
        "train_seconds": 1234.5,
        "kl_forward_mean": mean,
        "kl_forward_ci_low": low,
        "kl_forward_ci_high": high,
        "w2_mean": 0.123456,
        "mode_coverage_mean": 0.875,
        "negative_space_mean": 0.00923456,
    }


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

"""The quick-preset benchmark's verdict check (benchmarks/test_quick_preset.py) on planted
leaderboards: which pairs the full protocol separates, and whether quick orders them alike."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "test_quick_preset.py"
spec = importlib.util.spec_from_file_location("quick_preset_benchmark", PATH)
benchmark = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = benchmark
spec.loader.exec_module(benchmark)


def board(rows: list[tuple[str, str, int, float, float]]) -> pd.DataFrame:
    """(target, model, latent_dim, mean, half-width of the interval) rows."""
    return pd.DataFrame(
        [
            {
                "target": target,
                "model": model,
                "latent_dim": latent,
                "kl_forward_mean": mean,
                "kl_forward_ci_low": mean - half,
                "kl_forward_ci_high": mean + half,
            }
            for target, model, latent, mean, half in rows
        ]
    )


ARTICLE = board(
    [
        ("spiral", "oracle", 0, 0.27, 0.01),
        ("spiral", "ddpm", 2, 0.30, 0.02),  # separated from both GAN and VAE
        ("spiral", "gan", 1, 9.0, 1.0),
        ("spiral", "gan", 3, 1.0, 0.3),  # the GAN's best latent size
        ("spiral", "vae", 2, 1.2, 0.3),  # overlaps the GAN's best: not separated
    ]
)


def test_pairs_the_full_protocol_separates_are_counted_at_each_entrys_best_latent():
    quick = board(
        [
            ("spiral", "oracle", 0, 0.3, 0.01),
            ("spiral", "ddpm", 2, 0.5, 0.1),
            ("spiral", "gan", 1, 0.9, 0.1),  # quick's best GAN is another latent size
            ("spiral", "gan", 3, 2.0, 0.1),
            ("spiral", "vae", 2, 0.8, 0.1),  # the unseparated pair may go either way
        ]
    )
    assert benchmark.verdicts(quick, ARTICLE) == (2, 2, [])


def test_a_reversed_verdict_is_named():
    quick = board([("spiral", "ddpm", 2, 1.5, 0.1), ("spiral", "gan", 3, 1.0, 0.1)])
    quick = pd.concat([quick, board([("spiral", "vae", 2, 2.0, 0.1)])])
    separated, agreeing, disagreements = benchmark.verdicts(quick, ARTICLE)
    assert (separated, agreeing) == (2, 1)
    assert disagreements == ["spiral: ddpm < gan"]

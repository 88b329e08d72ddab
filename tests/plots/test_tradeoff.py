"""The rate–distortion figure: one line per VAE entry (less its β), latent size and step
count, through its βs in order."""

import numpy as np
import pandas as pd

from genbench.plots.tradeoff import has_tradeoff, lines_of, rate_distortion


def board(entries):
    rows = []
    for model, latent, beta, rate in entries:
        rows.append(
            {
                "target": "spiral", "model": model, "latent_dim": latent, "steps": 100,
                "beta": beta, "rate_mean": rate, "rate_ci_low": rate - 0.1,
                "rate_ci_high": rate + 0.1, "distortion_mean": -rate,
                "distortion_ci_low": -rate - 0.1, "distortion_ci_high": -rate + 0.1,
                "kl_forward_mean": 0.3, "kl_forward_ci_low": 0.2, "kl_forward_ci_high": 0.4,
            }
        )  # fmt: skip
    rows.append({"target": "spiral", "model": "oracle", "latent_dim": 0, "steps": 0,
                 "beta": "", "rate_mean": np.nan, "distortion_mean": np.nan,
                 "kl_forward_mean": 0.27})  # fmt: skip
    return pd.DataFrame(rows)


SWEPT = [
    ("vae_normal_beta0.1", 2, 0.1, 9.0), ("vae_normal_beta4", 2, 4.0, 1.0),
    ("vae_sphere_beta0.1", 2, 0.1, 8.0), ("vae_sphere_beta4", 2, 4.0, 2.0),
    ("vae_normal_beta0.1", 10, 0.1, 7.0), ("vae_normal_beta4", 10, 4.0, 0.5),
]  # fmt: skip


def test_entries_that_differ_by_more_than_beta_are_separate_lines():
    rows = board(SWEPT).iloc[:-1]
    assert list(lines_of(rows)) == [
        "vae_normal, latent 2", "vae_normal, latent 2", "vae_sphere, latent 2",
        "vae_sphere, latent 2", "vae_normal, latent 10", "vae_normal, latent 10",
    ]  # fmt: skip
    assert list(lines_of(rows[rows["model"].str.startswith("vae_normal")])) == [
        "latent 2", "latent 2", "latent 10", "latent 10",
    ]  # fmt: skip


def test_each_line_goes_through_its_betas_in_order():
    figure = rate_distortion(board(SWEPT), targets=["spiral"], rank_metric="kl_forward", title="t")
    (above,) = [axes for axes in figure.axes if axes.get_label() == "rd:spiral"]
    drawn = sorted(tuple(bars.lines[0].get_xdata()) for bars in above.containers)
    assert drawn == [(7.0, 0.5), (8.0, 2.0), (9.0, 1.0)]  # by β: 0.1, then 4


def test_a_single_beta_has_no_tradeoff_to_draw():
    assert has_tradeoff(board(SWEPT))
    assert not has_tradeoff(board([(m, k, b, r) for m, k, b, r in SWEPT if b == 4.0]))

"""The regression gate of ``genbench compare`` on real results: it fails on a gross
regression, stays quiet between runs of the same code, pairs seeds when it can, and reports
in the forms CI needs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genbench.cli import main
from genbench.compare import benjamini_hochberg, compare, read_results
from genbench.leaderboard import leaderboard
from genbench.metrics.base import default_metrics
from genbench.registry import metrics

QUICK = Path(__file__).resolve().parents[2] / "results" / "quick"


@pytest.fixture
def runs():
    """The committed quick results: 45 entries × 3 seeds of real metrics."""
    return pd.read_csv(QUICK / "runs.csv")


def worse_gan_w2(table: pd.DataFrame) -> pd.DataFrame:
    """Every GAN run's w2 five times worse plus one, as a broken GAN would score; in a
    leaderboard, its mean and interval so, and its spread over seeds five times wider."""
    table = table.copy()
    gan = table["model"] == "gan"
    columns = ["w2"] if "seed" in table.columns else ["w2_mean", "w2_ci_low", "w2_ci_high"]
    table.loc[gan, columns] = table.loc[gan, columns] * 5 + 1
    if "w2_std" in table.columns:
        table.loc[gan, "w2_std"] *= 5
    return table


@pytest.mark.parametrize("form", ["folder", "runs", "leaderboard"])
def test_a_gross_regression_fails_the_gate(runs, tmp_path, capsys, form):
    if form == "leaderboard":
        old, new = QUICK / "leaderboard.csv", tmp_path / "leaderboard.csv"
        worse_gan_w2(pd.read_csv(old)).to_csv(new, index=False)
    else:
        old = QUICK if form == "folder" else QUICK / "runs.csv"
        new = tmp_path / "runs.csv"
        worse_gan_w2(runs).to_csv(new, index=False)
        if form == "folder":
            new = tmp_path
    assert main(["compare", str(old), str(new), "--fail-on-regression"]) == 1
    result = compare(read_results(old), read_results(new))
    regressions = result.regressions
    assert set(regressions["model"]) == {"gan"} and set(regressions["metric"]) == {"w2"}
    assert len(regressions) >= 12  # of the 15 GAN entries
    assert "significant regression" in capsys.readouterr().err


def test_the_same_results_raise_no_alarm(capsys):
    for old, new in [(QUICK, QUICK), (QUICK / "leaderboard.csv", QUICK / "leaderboard.csv")]:
        assert main(["compare", str(old), str(new), "--fail-on-regression"]) == 0
    assert "No significant change" in capsys.readouterr().out


def test_runs_of_the_same_code_with_other_seeds_raise_no_alarm(runs):
    # The committed runs redrawn with each entry's own seed-to-seed scatter on the log scale
    # (log-normal around its geometric mean): new seeds of the same code, 20 times over.
    rng = np.random.default_rng(1)
    names = [n for n in default_metrics() if metrics.get(n).scale == "log"]
    logs = np.log(runs[names])
    groups = logs.groupby([runs["target"], runs["model"], runs["latent_dim"]])
    centre, scatter = groups.transform("mean"), groups.transform("std").fillna(0)
    alarms = 0
    for _ in range(20):
        old, new = runs.copy(), runs.copy()
        for table, seeds in [(old, 0), (new, 3)]:
            table[names] = np.exp(centre + scatter * rng.standard_normal(centre.shape))
            table["seed"] = table["seed"] + seeds  # other seeds: no pairing
        result = compare(old, new)
        assert result.test.startswith("Student t")
        alarms += not result.regressions.empty
    assert alarms <= 2  # the gate's false-alarm rate is about 5 %


def test_seeds_are_paired_when_both_sides_hold_them(runs):
    # A noisy entry (its kl_forward spans 89 to 587 nats over seeds) made 1.5 times (± 0.5 %)
    # worse on every seed: the seeds' scatter hides it from a test that ignores which seed is
    # which; paired by seed, the change is plain.
    entry = (
        (runs["target"] == "eight_gaussians") & (runs["model"] == "gan") & (runs["latent_dim"] == 1)
    )
    new = runs.copy()
    jitter = np.exp(0.005 * np.random.default_rng(0).standard_normal(int(entry.sum())))
    new.loc[entry, "kl_forward"] *= 1.5 * jitter
    paired = compare(runs, new)
    assert paired.test.startswith("paired t")
    found = paired.regressions
    assert list(found["metric"]) == ["kl_forward"] and found["test"].iloc[0] == "paired t"
    unpaired = compare(leaderboard(runs), leaderboard(new))
    assert unpaired.test.startswith("Student t") and unpaired.regressions.empty


def test_a_change_below_the_practical_threshold_is_never_significant(runs):
    # Every seed of every entry 5 % worse: a paired test finds it beyond doubt, yet it is below
    # the 20 % that a user of a log-scale metric is asked to care about.
    new = runs.copy()
    jitter = np.exp(0.001 * np.random.default_rng(0).standard_normal(len(new)))
    new["kl_forward"] *= 1.05 * jitter
    result = compare(runs, new)
    kl = result.changes[result.changes["metric"] == "kl_forward"]
    assert (kl["p_value"] < 1e-3).all()
    assert result.regressions.empty


def test_the_output_lists_regressions_first_with_their_test(runs, tmp_path, capsys):
    new = worse_gan_w2(runs)
    new.loc[new["model"] == "vae", "kl_forward"] /= 3  # and the VAEs three times better
    new.to_csv(tmp_path / "runs.csv", index=False)
    args = ["compare", str(QUICK), str(tmp_path / "runs.csv")]
    assert main([*args, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test"].startswith("paired t")
    assert {r["model"] for r in report["regressions"]} == {"gan"}
    assert {r["model"] for r in report["improvements"]} == {"vae"}
    first = report["regressions"][0]
    assert {"old", "new", "change", "test", "p_value", "q_value"} <= set(first)
    assert first["new"] == pytest.approx(first["old"] * 5 + 1, rel=0.3)
    assert main([*args, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "gan" in line]
    assert rows and "| worse |" in rows[0] and "paired t" in rows[0]
    assert markdown.index("| worse |") < markdown.index("| better |")


def test_a_folder_without_results_exits_2(tmp_path, capsys):
    assert main(["compare", str(QUICK), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "neither runs.csv nor leaderboard.csv" in err[0]


def test_benjamini_hochberg_q_values():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    assert benjamini_hochberg(p)[[0, 1, 2, 4]] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert np.isnan(benjamini_hochberg(p)[3])

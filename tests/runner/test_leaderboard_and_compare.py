"""Aggregation with intervals, shared ranks, and comparison of leaderboards."""

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from genbench.cli import main
from genbench.compare import compare, read_leaderboard
from genbench.leaderboard import confidence_interval, leaderboard
from genbench.registry import metrics


def runs_table(values_by_entry, target="spiral"):
    """A runs table where every metric of entry e, seed s equals values_by_entry[e][s]."""
    rows = []
    for (model, latent_dim), values in values_by_entry.items():
        for seed, value in enumerate(values):
            row = {
                "target": target,
                "model": model,
                "latent_dim": latent_dim,
                "steps": 0 if model == "oracle" else 100,
                "seed": seed,
                "status": "ok" if np.isfinite(value) else "failed",
                "train_seconds": 1.0,
                "samples_per_second": 1e5,
                "target_fingerprint": "abc",
                "preset": "toy",
            }
            row |= dict.fromkeys(metrics.available(), value)
            rows.append(row)
    return pd.DataFrame(rows)


def test_confidence_interval_is_student_t():
    values = np.array([1.0, 2.0, 4.0])
    mean, std, low, high = confidence_interval(values)
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    assert (mean, std) == pytest.approx((7 / 3, values.std(ddof=1)))
    assert (low, high) == pytest.approx((mean - half, mean + half))
    assert np.isnan(confidence_interval(np.array([3.0]))[2])


def test_log_scale_interval_is_coxs():
    values = np.array([107.0, 191.0, 400.0])  # a GAN that drops modes on some seeds
    logs = np.log(values)
    centre = logs.mean() + logs.var(ddof=1) / 2
    half = stats.t.ppf(0.975, 2) * np.sqrt(logs.var(ddof=1) / 3 + logs.var(ddof=1) ** 2 / 4)
    mean, std, low, high = confidence_interval(values, log_scale=True)
    assert (mean, std) == pytest.approx((values.mean(), values.std(ddof=1)))
    assert (low, high) == pytest.approx((np.exp(centre - half), np.exp(centre + half)))
    assert 0 < low < mean < high  # where Student's t would reach down to -143 nats
    # A value that is not positive cannot go on a log scale: Student's t instead.
    assert confidence_interval(np.array([-0.01, 0.02, 0.03]), log_scale=True) == pytest.approx(
        confidence_interval(np.array([-0.01, 0.02, 0.03]))
    )


def test_log_scale_interval_covers_a_skewed_mean_95_percent_of_the_time():
    """Log-normal values with σ = 1 on 3 seeds: Cox's interval holds the true mean e^{1/2}
    about 95 % of the time, Student's t only about 85 %."""
    rng = np.random.default_rng(0)
    true_mean = np.exp(0.5)
    hits = {True: 0, False: 0}
    trials = 2000
    for _ in range(trials):
        values = np.exp(rng.normal(0.0, 1.0, 3))
        for log_scale in hits:
            _, _, low, high = confidence_interval(values, log_scale=log_scale)
            hits[log_scale] += low <= true_mean <= high
    assert 0.92 < hits[True] / trials < 0.97
    assert hits[False] / trials < 0.90


def test_log_scale_metrics_get_log_scale_intervals():
    values = np.array([107.0, 191.0, 400.0])
    row = leaderboard(runs_table({("a", 2): values})).iloc[0]
    for name in metrics.available():
        log_scale = metrics.get(name).scale == "log"
        _, _, low, high = confidence_interval(values, log_scale=log_scale)
        assert (row[f"{name}_ci_low"], row[f"{name}_ci_high"]) == pytest.approx((low, high))
    # the divergences and distances have long tails over seeds; the bounded fractions do not
    assert [metrics.get(name).scale for name in ["kl_forward", "w2", "mode_coverage"]] == [
        "log",
        "log",
        "linear",
    ]


def test_overlapping_intervals_share_a_rank():
    board = leaderboard(
        runs_table(
            {
                ("oracle", 0): [0.10, 0.11, 0.12],
                ("a", 2): [0.50, 0.52, 0.54],
                ("b", 2): [0.51, 0.53, 0.55],  # overlaps a: shares its rank
                ("c", 2): [2.0, 2.1, 2.2],
            }
        )
    ).set_index("model")
    assert board.loc["oracle", "rank"] == 1
    assert board.loc["a", "rank"] == board.loc["b", "rank"] == 2
    assert board.loc["c", "rank"] == 4  # competition ranking: 1, 2, 2, 4
    # whole numbers in the CSV and the terminal table, as a user reads them
    assert board["rank"].to_csv(index=False).split() == ["rank", "1", "2", "2", "4"]
    assert [str(rank) for rank in board["rank"]] == ["1", "2", "2", "4"]


def test_failed_seeds_are_counted_not_averaged():
    board = leaderboard(runs_table({("a", 2): [0.5, np.nan, 0.7]})).iloc[0]
    assert board["seeds"] == 3 and board["failed"] == 1
    assert board["w2_mean"] == pytest.approx(0.6)


def test_rank_follows_distance_to_the_ideal_value():
    # mode_coverage: 1 is ideal, so the higher mean ranks first
    board = leaderboard(runs_table({("a", 2): [0.5, 0.5, 0.5], ("b", 2): [0.9, 0.9, 0.9]}))
    ranks = board.set_index("model")["mode_coverage_rank"]
    assert ranks["b"] == 1 and ranks["a"] == 2


def test_an_entry_without_a_value_ranks_last_and_a_metric_without_any_ranks_none():
    table = runs_table({("a", 2): [0.5, 0.5, 0.5], ("b", 2): [np.nan] * 3, ("c", 2): [0.9] * 3})
    table.loc[table["status"] == "ok", "w2"] = 0.2  # "b" failed: no w2 either
    table["mode_coverage"] = np.nan  # a metric no entry was scored for here
    board = leaderboard(table).set_index("model")
    assert board["w2_rank"].to_dict() == {"a": 1, "c": 1, "b": 3}
    assert board["mode_coverage_rank"].isna().all()
    assert board["rank"].notna().all()


@pytest.fixture
def boards(tmp_path):
    base = {
        ("oracle", 0): [0.1, 0.11, 0.12],
        ("gan", 1): [1.0, 1.1, 0.9],
        ("gan", 3): [0.5, 0.6, 0.55],
    }
    worse = dict(base) | {("gan", 3): [0.9, 1.0, 0.95]}  # gan z=3 clearly worse
    noisy = dict(base) | {("gan", 1): [1.05, 1.0, 1.1]}  # within noise
    paths = {}
    for name, table in [("base", base), ("worse", worse), ("noisy", noisy)]:
        paths[name] = tmp_path / f"{name}.csv"
        leaderboard(runs_table(table)).to_csv(paths[name], index=False)
    return paths


def test_compare_with_itself_finds_nothing(boards):
    result = compare(read_leaderboard(boards["base"]), read_leaderboard(boards["base"]))
    assert not result.changes["significant"].any() and result.regressions.empty


def test_compare_finds_a_planted_regression(boards):
    result = compare(read_leaderboard(boards["base"]), read_leaderboard(boards["worse"]))
    worse = result.regressions
    assert set(worse["model"] + worse["latent_dim"].astype(str)) == {"gan3"}
    # every metric rose from ~0.55 to ~0.95: worse for those whose ideal is nearer 0.55
    # (distances want 0), better for the others (mode_coverage wants 1); diagnostics neither
    nearer_old = {
        n
        for n in metrics.available()
        if not metrics.get(n).diagnostic and metrics.get(n).ideal < (0.55 + 0.95) / 2
    }
    assert set(worse["metric"]) == nearer_old
    coverage = result.changes.set_index(["model", "latent_dim", "metric"])
    assert coverage.loc[("gan", 3, "mode_coverage"), "direction"] == "better"


def test_noise_is_not_a_regression(boards):
    result = compare(read_leaderboard(boards["base"]), read_leaderboard(boards["noisy"]))
    assert result.regressions.empty


def test_fail_on_regression_exit_codes(boards, capsys):
    assert main(["compare", str(boards["base"]), str(boards["base"]), "--fail-on-regression"]) == 0
    assert main(["compare", str(boards["base"]), str(boards["worse"]), "--fail-on-regression"]) == 1
    assert main(["compare", str(boards["base"]), str(boards["worse"])]) == 0
    assert "significantly worse" in capsys.readouterr().out


def test_rows_in_only_one_file_are_listed(boards, tmp_path, capsys):
    board = pd.read_csv(boards["base"])
    board[board["model"] != "oracle"].to_csv(tmp_path / "fewer.csv", index=False)
    assert main(["compare", str(boards["base"]), str(tmp_path / "fewer.csv")]) == 0
    assert "only in the old results: spiral oracle z=0" in capsys.readouterr().out


def test_different_targets_give_a_warning(boards, tmp_path, capsys):
    board = pd.read_csv(boards["base"])
    board["target_fingerprint"] = "changed"
    board.to_csv(tmp_path / "other.csv", index=False)
    main(["compare", str(boards["base"]), str(tmp_path / "other.csv")])
    assert "warning: the target definitions differ" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("a,b\n1,2\n", "not a genbench leaderboard: it lacks target, model, latent_dim"),
        ("target,model,latent_dim,seeds,failed,rank\nspiral,gan,1,3,0,1\n", "no metric columns"),
    ],
)
def test_malformed_leaderboards_exit_2(boards, tmp_path, capsys, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    assert main(["compare", str(boards["base"]), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_disjoint_leaderboards_exit_2(boards, tmp_path, capsys):
    board = pd.read_csv(boards["base"])
    board["target"] = "gaussian"
    board.to_csv(tmp_path / "other.csv", index=False)
    assert main(["compare", str(boards["base"]), str(tmp_path / "other.csv")]) == 2
    assert "no (target, model, latent_dim, steps) in common" in capsys.readouterr().err


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.lists(
                st.sampled_from(
                    [
                        "target",
                        "model",
                        "latent_dim",
                        "seeds",
                        "failed",
                        "w2_mean",
                        "w2_std",
                        "x",
                        "1",
                        "nan",
                        "",
                        "spiral",
                    ]
                ),
                max_size=8,
            ),
            max_size=6,
        ).map(lambda rows: "\n".join(",".join(row) for row in rows)),
    )
)
def test_any_csv_compares_or_exits_2_with_one_line(tmp_path, boards, text):
    bad = tmp_path / "any.csv"
    bad.write_text(text)
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()) as err,
    ):
        code = main(["compare", str(boards["base"]), str(bad)])
    assert code in (0, 2)
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1


def test_two_runs_of_the_same_code_seldom_raise_an_alarm():
    # 10 entries × every metric drawn twice from the same distribution, 20 times over: dozens
    # of tests per comparison, of which ~5 % pass p < 0.05 unadjusted; with the
    # Benjamini–Hochberg q-values, at most about 5 % of the comparisons raise any alarm
    rng = np.random.default_rng(0)
    alarms, unadjusted = 0, 0
    for _ in range(20):
        old, new = (
            leaderboard(
                runs_table({("gan", k): list(1 + 0.1 * rng.standard_normal(3)) for k in range(10)})
            )
            for _ in range(2)
        )
        result = compare(old, new)
        unadjusted += int((result.changes["p_value"] < 0.05).sum())
        alarms += not result.regressions.empty
    assert unadjusted > 20  # unadjusted, some would fire in most comparisons
    assert alarms <= 2


def test_an_entry_that_now_fails_on_every_seed_is_a_regression(boards, tmp_path, capsys):
    board = pd.read_csv(boards["base"])
    gan3 = (board["model"] == "gan") & (board["latent_dim"] == 3)
    for column in [
        c for c in board.columns if c.endswith(("_mean", "_std", "_ci_low", "_ci_high"))
    ]:
        board.loc[gan3, column] = np.nan
    board.loc[gan3, "failed"] = 3
    board.to_csv(tmp_path / "broken.csv", index=False)
    assert (
        main(["compare", str(boards["base"]), str(tmp_path / "broken.csv"), "--fail-on-regression"])
        == 1
    )
    result = compare(read_leaderboard(boards["base"]), read_leaderboard(tmp_path / "broken.csv"))
    judged = {n for n in metrics.available() if not metrics.get(n).diagnostic}
    assert set(result.regressions["metric"]) == judged | {"failed"}


@pytest.mark.parametrize("column", ["w2_mean", "seeds", "latent_dim"])
def test_text_in_a_number_column_exits_2(boards, tmp_path, capsys, column):
    board = pd.read_csv(boards["base"])
    board[column] = board[column].astype(object)
    board.loc[0, column] = "oops"
    board.to_csv(tmp_path / "text.csv", index=False)
    assert main(["compare", str(boards["base"]), str(tmp_path / "text.csv")]) == 2
    assert f"column {column} holds values that are not" in capsys.readouterr().err


def test_compare_warns_when_the_runs_drew_other_numbers_of_samples():
    base = {("oracle", 0): [0.1, 0.11, 0.12], ("gan", 3): [0.5, 0.6, 0.55]}
    old, new = runs_table(base).assign(num_samples=5000), runs_table(base).assign(num_samples=4000)
    assert leaderboard(old)["num_samples"].tolist() == [5000, 5000]
    for a, b in [(old, new), (leaderboard(old), leaderboard(new))]:
        warnings = compare(a, b).warnings
        assert any("the samples per run differ (5000 vs 4000)" in w for w in warnings)
    assert compare(old, old).warnings == []


def test_a_leaderboard_with_every_metric_reads_back_without_fragmentation(tmp_path):
    # every registered metric: five columns each, which pandas would hold as one block per
    # column if they were converted one at a time, and warn of in the next column added
    path = tmp_path / "leaderboard.csv"
    leaderboard(runs_table({("oracle", 0): [0.1, 0.2], ("gan", 2): [0.3, 0.5]})).to_csv(path)
    board = read_leaderboard(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        board.assign(extra=1.0)

"""The convergence study end to end on a tiny budget: the built-in preset's families, each
trained for several step counts, and the figure of every metric against the steps."""

import pandas as pd

from genbench.cli import main


def test_the_convergence_preset_trains_each_family_for_each_count_and_draws_it(tmp_path):
    out = tmp_path / "convergence"
    argv = ["run", "--preset", "convergence", "--steps", "5", "10", "--targets", "spiral",
            "--seeds", "2", "--num-samples", "200", "--workers", "1", "--out", str(out),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    trained = runs[runs["model"] != "oracle"]
    families = {"gan", "gan_stable", "vae", "realnvp", "ddpm", "fm", "gmm", "kde", "bayesnet"}
    assert set(trained["model"]) == families
    steps = trained.groupby("model")["steps"].apply(sorted)
    assert (steps == [[5, 5, 10, 10]] * len(families)).all()
    assert (runs["status"] == "ok").all()
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) == 1 + len(families) * 2  # the oracle, and each entry at each count
    assert (out / "figures" / "convergence_spiral.png").exists()
    html = (out / "report.html").read_text()
    assert 'id="img-convergence_spiral"' in html and "against the training steps" in html
    assert "convergence_spiral.png" in (out / "report.md").read_text()

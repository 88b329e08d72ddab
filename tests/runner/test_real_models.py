"""The built-in adapters through `genbench run`, on a grid small enough for CI."""

import pandas as pd

from genbench.cli import main


def test_every_builtin_model_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "tiny"
    argv = [
        "run",
        "--targets",
        "eight_gaussians",
        "--latent-dims",
        "1",
        "--seeds",
        "1",
        "--steps",
        "10",
        "--num-samples",
        "200",
        "--workers",
        "1",
        "--device",
        "auto",
        "--out",
        str(out),
        "--quiet",
        "--no-report",
    ]
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(runs["model"]) == [
        "bayesnet",
        "ddpm",
        "fm",
        "gan",
        "gmm",
        "kde",
        "oracle",
        "realnvp",
        "vae",
    ]
    assert (runs["status"] == "ok").all(), runs[["model", "error"]]
    assert (runs.loc[runs["model"] != "oracle", "train_seconds"] > 0).all()
    assert (runs["samples_per_second"] > 0).all() and runs["device"].str.startswith("cpu").all()
    # families with a fixed latent size ignore the sweep and run at 2
    assert runs.set_index("model").loc[["realnvp", "ddpm"], "latent_dim"].tolist() == [2, 2]
    board = pd.read_csv(out / "leaderboard.csv")
    assert board["model"].iloc[0] == "oracle" and board["rank"].iloc[0] == 1

"""An image target in a grid: the plan pairs families with the targets they learn, runs are
scored with the image metrics, ranked by KID, tabled, drawn and reported."""

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from genbench.api import run
from genbench.cli import main
from genbench.config import ConfigError, load_preset
from genbench.metrics.base import default_metrics
from genbench.plan import make_plan
from genbench.tables import print_leaderboard
from genbench.targets import get_target

MIXED = """
name = "mixed"
targets = ["spiral", "digits"]
seeds = 2
num_samples = 300
metrics = {metrics}
{train_points}

[models.gan]
latent_dims = [2]
steps = 20

[models.dcgan]
latent_dims = [2, 10]
steps = 30
params = {{ batch_size = 32 }}
"""


def preset_file(tmp_path, metrics="[]", train_points=""):
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED.format(metrics=metrics, train_points=train_points))
    return path


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """The mixed grid, run once: a 2-D GAN and a DCGAN, with memorisation asked for."""
    folder = tmp_path_factory.mktemp("mixed")
    path = folder / "mixed.toml"
    path.write_text(MIXED.format(metrics='["memorisation"]', train_points="train_points = 500"))
    result = run(str(path), out=folder / "out", quiet=True, workers=1, report=True)
    return folder / "out", result.leaderboard


def test_each_family_runs_on_the_targets_it_learns(tmp_path):
    plan = make_plan(load_preset(str(preset_file(tmp_path))))
    pairs = {(spec.target, spec.model) for spec in plan.runs}
    assert pairs == {
        ("spiral", "oracle"),
        ("spiral", "gan"),
        ("digits", "oracle"),
        ("digits", "dcgan"),
    }


def test_a_family_with_no_target_it_learns_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"dcgan.*learns image targets; none of the targets"):
        make_plan(load_preset(str(preset_file(tmp_path))), targets=["spiral"])
    with pytest.raises(ConfigError, match=r"gan.*learns 2-D targets; none of the targets"):
        make_plan(load_preset(str(preset_file(tmp_path))), targets=["digits"], models=["gan"])


def test_training_set_questions_on_images_need_no_train_points(tmp_path):
    # the 2-D target needs train_points for memorisation; the image target has its own half
    with pytest.raises(ConfigError, match="memorisation needs a finite training set"):
        make_plan(load_preset(str(preset_file(tmp_path, '["memorisation"]'))))
    plan = make_plan(
        load_preset(str(preset_file(tmp_path, '["memorisation"]'))),
        targets=["digits"],
        models=["dcgan"],
    )
    assert all(spec.metrics == ("memorisation",) for spec in plan.runs)
    with pytest.raises(ConfigError, match="train_points is for the 2-D targets; digits"):
        make_plan(
            load_preset(str(preset_file(tmp_path, train_points="train_points = 500"))),
            targets=["digits"],
            models=["dcgan"],
        )


def test_a_metric_of_another_kind_of_target_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="mmd2 scores points; none of the targets"):
        make_plan(
            load_preset(str(preset_file(tmp_path, '["mmd2"]'))),
            targets=["digits"],
            models=["dcgan"],
        )


def test_image_runs_get_the_image_metrics_and_the_2d_runs_theirs(mixed_run):
    out, _ = mixed_run
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["status"] == "ok").all(), runs["error"].dropna().tolist()
    images, points = runs[runs["target"] == "digits"], runs[runs["target"] == "spiral"]
    for name in default_metrics("images"):
        assert images[name].notna().all() and points[name].isna().all()
    for name in default_metrics("points"):
        assert points[name].notna().all() and images[name].isna().all()
    # memorisation: against the training half on digits, the 500 fixed draws on the spiral
    assert runs["memorisation"].notna().all()
    record = json.loads(next((out / "records").glob("digits*dcgan*.json")).read_text())
    assert "kl_forward" not in record and "kid" in record


def test_image_rows_rank_by_kid_and_the_2d_rows_by_kl(mixed_run):
    _, board = mixed_run
    for target, ranking in [("digits", "kid"), ("spiral", "kl_forward")]:
        part = board[board["target"] == target]
        assert (part["rank"] == part[f"{ranking}_rank"]).all()
    digits = board[board["target"] == "digits"].set_index("model")
    # the training half against the held-out half is the floor a 30-step DCGAN is far above
    assert digits.loc["oracle", "kid_mean"] < digits["kid_mean"].drop("oracle").min()


def test_the_terminal_table_names_each_targets_ranking_metric(mixed_run):
    _, board = mixed_run
    console = Console(record=True, width=120)
    print_leaderboard(board, console)
    text = console.export_text()
    assert "digits: ranked by kid" in text and "spiral: ranked by kl_forward" in text


def test_the_report_draws_image_mosaics(mixed_run):
    out, _ = mixed_run
    assert (out / "figures" / "samples_digits.png").is_file()
    html = (out / "report.html").read_text()
    assert "digits: generated images" in html


def test_sample_grid_draws_each_entry_as_a_mosaic_of_its_images(mixed_run):
    from genbench import plots
    from genbench.report.folder import load_results, shown_samples

    out, _ = mixed_run
    results = load_results(out)
    samples, _ = shown_samples(results, "digits")
    board = results.board[results.board["target"] == "digits"]
    figure = plots.sample_grid(
        get_target("digits"), board, samples, models=["dcgan"], latent_dims=[2, 10]
    )
    labels = {axes.get_label() for axes in figure.axes}
    assert {"samples:oracle:0", "samples:dcgan:2", "samples:dcgan:10"} <= labels
    panel = next(axes for axes in figure.axes if axes.get_label() == "samples:dcgan:2")
    mosaic = panel.get_images()[0].get_array()
    assert mosaic.shape == (6 * 9 - 1, 6 * 9 - 1)  # 6 × 6 images of 8 × 8, a pixel apart


def test_score_takes_flattened_images(tmp_path, capsys):
    target = get_target("digits")
    path = tmp_path / "training.npy"
    np.save(path, target.train_images)  # real images, scored against the held-out ones
    assert main(["score", "--target", "digits", str(path), "--json"]) == 0
    values = json.loads(capsys.readouterr().out)["metrics"]
    assert set(values) == set(default_metrics("images"))
    assert abs(values["kid"]) < 0.1 and values["fid"] < 3  # noise: KID 20, FID 150


def test_score_refuses_points_for_an_image_target_in_one_line(tmp_path, capsys):
    path = tmp_path / "points.npy"
    np.save(path, np.zeros((500, 2)))
    assert main(["score", "--target", "digits", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "must have shape (n, 64)" in error
    np.save(path, np.zeros((500, 64)))
    assert main(["score", "--target", "digits", str(path), "--metrics", "mmd2"]) == 2
    assert "mmd2 scores points, and digits is a target of images" in capsys.readouterr().err


def test_the_dcgans_training_is_animated_as_mosaics(mixed_run):
    from PIL import Image

    out, _ = mixed_run
    gifs = sorted((out / "animations").glob("*.gif"))
    digits = [gif for gif in gifs if gif.name.startswith("digits")]
    assert len(digits) == 1 and "dcgan" in digits[0].name  # dcgan at latent 2, seed 0
    with Image.open(digits[0]) as gif:
        assert gif.n_frames >= 5
        first = np.asarray(gif.convert("L"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("L"))
    assert not np.array_equal(first, last)  # the images change as the DCGAN trains


def test_the_animated_image_runs_record_latent_interpolations(mixed_run):
    out, _ = mixed_run
    recorded = sorted((out / "interpolations").glob("*.npy"))
    assert [path.stem for path in recorded] == ["digits__dcgan__z2__t30__s0"]  # not the 2-D GAN
    paths = np.load(recorded[0])
    assert paths.shape == (6, 8, 64) and np.abs(paths).max() <= 1
    # neighbouring images along a path differ less than the path's two ends
    steps = np.linalg.norm(np.diff(paths, axis=1), axis=2).mean()
    ends = np.linalg.norm(paths[:, -1] - paths[:, 0], axis=1).mean()
    assert steps < ends
    assert (out / "figures" / "interpolations_digits.png").is_file()
    assert "along paths between two latent" in (out / "report.html").read_text()


def test_a_dcgan_interpolates_along_its_priors_paths():
    from genbench.models.dcgan import DCGAN

    digits = get_target("digits")
    model = DCGAN(latent_dim=3, width=16, batch_size=32).fit(digits, 5, seed=0)
    paths = model.interpolate(4, 5, seed=1)
    assert paths.shape == (4, 5, 64)
    np.testing.assert_array_equal(paths, model.interpolate(4, 5, seed=1))
    # a path's ends are images the model draws: decoded from draws of its prior
    assert np.isfinite(paths).all() and np.abs(paths).max() <= 1


def test_the_digits_preset_runs_end_to_end_on_a_tiny_budget(tmp_path):
    result = run(
        "digits", steps=[20], seeds=1, num_samples=200, out=tmp_path / "digits", quiet=True,
        workers=1, report=False,
    )  # fmt: skip
    runs = pd.read_csv(tmp_path / "digits" / "runs.csv")
    assert (runs["status"] == "ok").all(), runs["error"].dropna().tolist()
    assert set(runs["model"]) == {
        "oracle", "dcgan", "cdcgan", "cdcgan_product", "conv_vae", "ddpm_unet", "fm_unet",
        "pca_gmm", "bayesnet",
    }  # fmt: skip
    board = result.leaderboard
    assert (board["rank"] == board["kid_rank"]).all()
    # label fidelity for the conditional entries only; the rest for every run
    conditional = runs["model"].isin(["cdcgan", "cdcgan_product"])
    assert runs.loc[conditional, "label_fidelity"].notna().all()
    assert runs.loc[~conditional, "label_fidelity"].isna().all()
    for name in ["memorisation", "precision", "recall", "density", "coverage_prdc"]:
        assert runs[name].notna().all()

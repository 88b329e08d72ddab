"""The VAE's KL weight β as a sweep axis: an entry's ``betas`` (or ``--betas``) runs it once per
β, as ``<entry>_beta<β>``, with a ``beta`` column in runs.csv and the leaderboard; scored for
rate and distortion, a report draws the trade-off."""

import re

import pandas as pd
import pytest

from genbench.cli import main
from genbench.config import ConfigError, load_preset
from genbench.plan import make_plan

TINY_VAE = "{ width = 16, depth = 1, batch_size = 64 }"
TINY_GAN = "{ generator_width = 16, discriminator_width = 16, batch_size = 64 }"


def preset(folder, vae="", gan="", extra=""):
    path = folder / "betas.toml"
    path.write_text(
        f"""name = "betas"
targets = ["eight_gaussians"]
seeds = 2
num_samples = 300
metrics = ["rate", "distortion"]
[models.vae]
latent_dims = [1, 2]
steps = 30
params = {TINY_VAE}
{vae}
[models.gan]
latent_dims = [2]
steps = 20
params = {TINY_GAN}
{gan}
{extra}"""
    )
    return str(path)


def test_each_beta_is_an_entry_with_that_beta(tmp_path):
    plan = make_plan(load_preset(preset(tmp_path, vae="betas = [0.5, 4, 0.5]")))
    trained = {(s.model, s.params.get("beta")) for s in plan.runs if s.model != "oracle"}
    assert trained == {("vae_beta0.5", 0.5), ("vae_beta4", 4.0), ("gan", None)}
    assert len([s for s in plan.runs if s.model == "vae_beta4"]) == 2 * 2  # latents × seeds


def test_priors_and_betas_sweep_together_and_the_flags_reach_their_families_only(tmp_path):
    plan = make_plan(load_preset(preset(tmp_path)), betas=[0.1, 1], priors=["uniform", "normal"])
    params = {s.model: s.params for s in plan.runs if s.model.startswith("vae")}
    assert params["vae_uniform_beta0.1"] == {
        "width": 16, "depth": 1, "batch_size": 64, "prior": "uniform", "beta": 0.1,
    }  # fmt: skip
    assert set(params) == {
        "vae_uniform_beta0.1", "vae_uniform_beta1", "vae_normal_beta0.1", "vae_normal_beta1",
    }  # fmt: skip
    assert {s.model for s in plan.runs if s.family == "gan"} == {"gan_uniform", "gan_normal"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (dict(gan="betas = [2]"), "has no KL weight beta to sweep"),
        (dict(vae="betas = [0]"), "betas must be a list of positive numbers"),
        (dict(vae='betas = ["high"]'), "betas must be a list of positive numbers"),
    ],
)
def test_a_beta_sweep_that_cannot_run_is_refused(tmp_path, entries, message):
    with pytest.raises(ConfigError, match=message):
        make_plan(load_preset(preset(tmp_path, **entries)))


@pytest.mark.parametrize(
    ("betas", "message"),
    [
        ([-1.0], "betas must be positive numbers, got -1.0"),
        ([float("nan")], "betas must be positive numbers, got nan"),
        (["0.5"], "betas must be positive numbers, got '0.5'"),
        ([0.1234561, 0.1234562], "two of its sweep's values are both 'vae_beta0.123456'"),
    ],
)
def test_betas_given_in_python_are_checked_like_the_presets(tmp_path, betas, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_plan(load_preset(preset(tmp_path)), betas=betas)


def test_both_betas_and_a_fixed_beta_are_refused(tmp_path):
    path = preset(tmp_path, vae="betas = [2]")
    with open(path, "a") as file:
        file.write('[models.vae2]\nfamily = "vae"\nsteps = 5\nbetas = [1]\nparams = { beta = 2 }\n')
    with pytest.raises(ConfigError, match=r"give either betas .* or params.beta, not both"):
        make_plan(load_preset(path))


def test_a_beta_sweeps_entry_can_be_chosen_by_its_name(tmp_path):
    path = preset(tmp_path, vae="betas = [0.1, 1, 4]")
    chosen = make_plan(load_preset(path), models=["vae_beta4", "vae_beta0.1"])
    assert {s.model for s in chosen.runs} == {"oracle", "vae_beta0.1", "vae_beta4"}
    with pytest.raises(ConfigError, match="vae_beta2"):
        make_plan(load_preset(path), models=["vae_beta2"])


def test_a_bad_beta_on_the_command_line_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--preset", preset(tmp_path), "--betas", "-1", "--out", str(tmp_path / "o")])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--betas" in error and "expected a positive number" in error
    assert not (tmp_path / "o").exists()


def test_runs_leaderboard_and_report_carry_beta_rate_and_distortion(tmp_path):
    out = tmp_path / "out"
    argv = ["run", "--preset", preset(tmp_path), "--betas", "0.1", "4", "--models", "vae",
            "--out", str(out), "--workers", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[:5]) == ["target", "model", "latent_dim", "beta", "steps"]
    vae = runs[runs["model"] != "oracle"]
    assert dict(zip(vae["model"], vae["beta"], strict=True)) == {
        "vae_beta0.1": 0.1,
        "vae_beta4": 4.0,
    }
    assert vae[["rate", "distortion"]].notna().all().all() and (vae["rate"] >= 0).all()
    assert runs.loc[runs["model"] == "oracle", ["rate", "distortion"]].isna().all().all()
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"rate_mean", "rate_ci_low", "distortion_mean"} <= set(board.columns)
    assert "rate_rank" not in board.columns and "distortion_rank" not in board.columns
    assert (out / "figures" / "rate_distortion.png").is_file()
    assert (board.loc[board["model"] != "oracle", "num_samples"] == 300).all()
    assert "## Rate and distortion" in (out / "report.md").read_text()

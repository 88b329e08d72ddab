"""Latent priors as a sweep axis: an entry's ``priors`` (or ``--priors``) runs it once per prior,
as ``<entry>_<prior>``, with a ``prior`` column in runs.csv and the leaderboard."""

from pathlib import Path

import pandas as pd
import pytest

from genbench.cli import main
from genbench.config import ConfigError, load_preset
from genbench.plan import make_plan

TINY_GAN = "{ generator_width = 16, discriminator_width = 16, batch_size = 64 }"
TINY_VAE = "{ width = 16, depth = 1, batch_size = 64 }"
TINY_FLOW = "{ num_couplings = 2, width = 16, depth = 1, batch_size = 64 }"


def preset(folder, gan="", vae="", flow="", extra=""):
    path = folder / "priors.toml"
    path.write_text(
        f"""name = "priors"
targets = ["eight_gaussians"]
seeds = 2
num_samples = 300
[models.gan]
latent_dims = [1, 3]
steps = 20
params = {TINY_GAN}
{gan}
[models.vae]
latent_dims = [2]
steps = 20
params = {TINY_VAE}
{vae}
[models.realnvp]
steps = 20
params = {TINY_FLOW}
{flow}
{extra}"""
    )
    return str(path)


def test_each_prior_is_an_entry_with_that_prior(tmp_path):
    plan = make_plan(load_preset(preset(tmp_path, gan='priors = ["normal", "sphere"]')))
    trained = {(s.model, s.params.get("prior")) for s in plan.runs if s.model != "oracle"}
    assert trained == {
        ("gan_normal", "normal"),
        ("gan_sphere", "sphere"),
        ("vae", None),
        ("realnvp", None),
    }
    assert len([s for s in plan.runs if s.model == "gan_sphere"]) == 2 * 2  # latents × seeds


def test_the_flag_sweeps_the_families_with_a_prior_only(tmp_path):
    plan = make_plan(load_preset(preset(tmp_path)), priors=["uniform", "sphere", "uniform"])
    entries = {s.model for s in plan.runs}
    assert entries == {
        "oracle",
        "gan_uniform",
        "gan_sphere",
        "vae_uniform",
        "vae_sphere",
        "realnvp",
    }


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (dict(flow='priors = ["sphere"]'), "has no latent prior"),
        (dict(gan='priors = ["cube"]'), "bad hyperparameters"),
    ],
)
def test_a_prior_sweep_that_cannot_run_is_refused(tmp_path, entries, message):
    with pytest.raises(ConfigError, match=message):
        make_plan(load_preset(preset(tmp_path, **entries)))


def test_both_priors_and_a_fixed_prior_are_refused(tmp_path):
    path = Path(preset(tmp_path, gan='priors = ["sphere"]'))
    path.write_text(
        path.read_text().replace(f"params = {TINY_GAN}", 'params = { prior = "normal" }')
    )
    with pytest.raises(ConfigError, match="not both"):
        make_plan(load_preset(str(path)))


def test_a_swept_entry_may_not_take_another_entrys_name(tmp_path):
    taken = f'[models.gan_sphere]\nfamily = "gan"\nsteps = 20\nparams = {TINY_GAN}'
    with pytest.raises(ConfigError, match="is taken"):
        make_plan(load_preset(preset(tmp_path, gan='priors = ["sphere"]', extra=taken)))


def test_runs_and_leaderboard_carry_the_prior(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--preset", preset(tmp_path), "--priors", "normal", "sphere", "--out",
            str(out), "--workers", "1", "--no-report", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv", keep_default_na=False)
    assert list(runs.columns[:5]) == ["target", "model", "latent_dim", "prior", "steps"]
    by_model = runs.groupby("model")["prior"].unique().to_dict()
    assert {m: list(p) for m, p in by_model.items()} == {
        "gan_normal": ["normal"],
        "gan_sphere": ["sphere"],
        "oracle": [""],
        "realnvp": [""],
        "vae_normal": ["normal"],
        "vae_sphere": ["sphere"],
    }
    assert (runs["status"] == "ok").all()
    board = pd.read_csv(out / "leaderboard.csv", keep_default_na=False)
    assert set(board.loc[board["model"] == "gan_sphere", "prior"]) == {"sphere"}


def test_without_a_prior_there_is_no_prior_column(tmp_path):
    out = tmp_path / "out"
    argv = ["run", "--preset", preset(tmp_path), "--models", "realnvp", "--out", str(out),
            "--workers", "1", "--no-report", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "prior" not in pd.read_csv(out / "runs.csv").columns
    assert "prior" not in pd.read_csv(out / "leaderboard.csv").columns


def test_a_prior_sweeps_entry_can_be_chosen_by_its_name(tmp_path):
    path = preset(tmp_path, gan='priors = ["normal", "uniform", "sphere"]')
    chosen = make_plan(load_preset(path), models=["gan_sphere", "gan_normal", "vae"])
    assert {s.model for s in chosen.runs} == {"oracle", "gan_sphere", "gan_normal", "vae"}
    whole = make_plan(load_preset(path), models=["gan", "gan_sphere"])
    assert {s.model for s in whole.runs} == {"oracle", "gan_normal", "gan_uniform", "gan_sphere"}
    with pytest.raises(ConfigError, match="gan_cube"):
        make_plan(load_preset(path), models=["gan_cube"])

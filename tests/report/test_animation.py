"""Training animations: recording is invisible to training, and the GIFs have their frames."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from genbench.animation import (
    Frame,
    FrameRecorder,
    default_animation_runs,
    record_animations,
    write_gif,
)
from genbench.targets import get_target
from tests.models.tiny import tiny_model

STEPS = 20


@pytest.mark.parametrize("name", ["gan", "vae", "realnvp", "ddpm"])
def test_recording_does_not_change_the_trained_model(name):
    """Sampling mid-fit uses the adapter's own seeded generator under inference mode, so the
    final samples are bit-identical with and without a recorder."""
    target = get_target("eight_gaussians")
    plain = tiny_model(name, latent_dim=3).fit(target, STEPS, seed=1)
    model = tiny_model(name, latent_dim=3)
    recorder = FrameRecorder(model, every=5, num_points=200, seed=4, steps=STEPS, max_overhead=1e9)
    model.fit(target, STEPS, seed=1, progress=recorder)
    assert np.array_equal(plain.sample(500, seed=7), model.sample(500, seed=7))
    assert [frame.step for frame in recorder.frames] == [5, 10, 15, 20]
    assert all(frame.points.shape == (200, 2) for frame in recorder.frames)
    assert recorder.skipped == 0


def test_frames_use_fixed_noise():
    """Same seed, same latent draws: a frame taken twice at the same step is identical."""
    target = get_target("spiral")
    model = tiny_model("gan", latent_dim=1).fit(target, STEPS, seed=0)
    recorder = FrameRecorder(model, every=1, num_points=100, seed=3, max_overhead=1e9)
    recorder(1, 0.5)
    recorder(2, 0.5)
    assert np.array_equal(recorder.frames[0].points, recorder.frames[1].points)


def test_recorder_passes_reports_on_and_keeps_to_its_time_budget():
    seen = []
    target = get_target("gaussian")
    model = tiny_model("gan", latent_dim=2).fit(target, STEPS, seed=0)
    recorder = FrameRecorder(
        model,
        every=1,
        num_points=50,
        steps=10,
        max_overhead=0.0,
        then=lambda step, loss: seen.append(step),
    )
    for step in range(1, 11):
        recorder(step, 0.0)
    assert seen == list(range(1, 11))
    # with no time to spare only the first frame and the last are recorded
    assert [frame.step for frame in recorder.frames] == [1, 10]
    assert recorder.skipped == 8


def test_write_gif_has_every_frame(tmp_path):
    target = get_target("eight_gaussians")
    frames = [Frame(step, 0.7, target.sample(300, step).astype(np.float32)) for step in (1, 2, 3)]
    path = write_gif(tmp_path / "out.gif", target, frames, title="test", total_steps=3)
    with Image.open(path) as image:
        assert image.format == "GIF" and image.n_frames == 3
        for index in range(3):
            image.seek(index)
            assert np.asarray(image.convert("L"), dtype=float).var() > 100
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match="no frames"):
        write_gif(tmp_path / "empty.gif", target, [])


def test_default_runs_are_the_gan_at_latent_1_and_3_seed_0(results_folder):
    folder, _ = results_folder
    assert default_animation_runs(folder) == [
        f"{target}__gan__z{k}__s0" for target in ["gaussian", "spiral"] for k in (1, 3)
    ]


def test_record_animations_writes_a_gif_per_run(results_folder):
    folder, _ = results_folder
    (path,) = folder.glob("animations/*.gif")  # the fixture recorded the first default run
    assert path.name == "gaussian__gan__z1__s0.gif"
    with Image.open(path) as image:
        assert image.n_frames >= 5
    with pytest.raises(ValueError, match="no record"):
        record_animations(folder, ["spiral__gan__z7__s0"])
    with pytest.raises(ValueError, match="oracle"):
        record_animations(folder, ["spiral__oracle__z0__s0"])


def test_record_animations_shows_its_progress(results_folder, capsys, tmp_path):
    folder = tmp_path / "results"  # a copy: the shared folder's GIF must stay as its report has it
    shutil.copytree(results_folder[0], folder)
    key = "gaussian__gan__z1__s0"
    steps = json.loads((folder / "records" / f"{key}.json").read_text())["config"]["steps"]
    record_animations(folder, [key], show_progress=True)
    out = capsys.readouterr().out
    assert "animations: training steps" in out
    assert f"{steps}/{steps}" in out  # the bar reached the end
    record_animations(folder, [key])  # quiet by default
    assert "animations" not in capsys.readouterr().out


def test_record_animations_in_worker_processes(results_folder, capsys, tmp_path):
    # As `run` records them: the runs retrain in parallel worker processes; the GIFs come back
    # in the order asked for, and the one progress bar counts every run's steps.
    folder = tmp_path / "results"
    shutil.copytree(results_folder[0], folder)
    keys = ["spiral__gan__z3__s0", "gaussian__gan__z1__s0"]
    total = sum(
        json.loads((folder / "records" / f"{key}.json").read_text())["config"]["steps"]
        for key in keys
    )
    paths = record_animations(folder, keys, show_progress=True, workers=2)
    assert [path.name for path in paths] == [f"{key}.gif" for key in keys]
    for path in paths:
        with Image.open(path) as image:
            assert image.n_frames >= 5
    assert f"{total}/{total}" in capsys.readouterr().out

"""Training animations: recorded from the run's own training, invisible to it, with every frame."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genbench.animation import write_gif
from genbench.frames import Frame, FrameRecorder
from genbench.models import get_model_class
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


def test_a_stack_member_is_recorded_as_it_trains_without_changing_the_stack():
    """In a stack (``fit_many``) a recorder watches one model: its frames are that model's
    samples mid-training, and every model ends as it would without the recorder."""
    targets = [get_target("eight_gaussians"), get_target("spiral")]
    family = get_model_class("gan")
    plain = family.fit_many(
        [tiny_model("gan", latent_dim=3) for _ in targets], targets, STEPS, [1, 2]
    )
    models = [tiny_model("gan", latent_dim=3) for _ in targets]
    recorder = FrameRecorder(
        models[1], every=5, num_points=200, seed=4, steps=STEPS, max_overhead=1e9
    )
    steps_seen = []
    family.fit_many(
        models,
        targets,
        STEPS,
        [1, 2],
        progress=lambda step, loss: steps_seen.append(step),
        watchers=[None, recorder],
    )
    for before, after in zip(plain, models, strict=True):
        assert np.array_equal(before.sample(500, seed=7), after.sample(500, seed=7))
    assert [frame.step for frame in recorder.frames] == [5, 10, 15, 20]
    assert steps_seen[-1] == STEPS
    # the last frame is the trained model itself; the first is far from it
    assert np.array_equal(recorder.frames[-1].points, models[1].sample(200, seed=4))
    assert not np.array_equal(recorder.frames[0].points, recorder.frames[-1].points)


def test_run_animates_the_gan_at_latent_1_and_3_seed_0_from_its_own_training(results_folder):
    folder, _ = results_folder
    names = sorted(path.name for path in folder.glob("animations/*.gif"))
    assert names == [f"{t}__gan__z{k}__t20__s0.gif" for t in ["gaussian", "spiral"] for k in (1, 3)]
    key = "spiral__gan__z3__t20__s0"
    samples = np.load(folder / "samples" / f"{key}.npy")
    with Image.open(folder / "animations" / f"{key}.gif") as image:
        assert image.n_frames >= 5  # 20 steps: a frame at each report
    assert samples.shape == (300, 2)


def test_a_frame_that_cannot_be_drawn_stops_the_recording_not_the_training():
    class Broken:
        def sample(self, num_samples, seed):
            raise RuntimeError("no frames today")

    seen = []
    recorder = FrameRecorder(Broken(), every=1, steps=3, then=lambda step, loss: seen.append(step))
    for step in (1, 2, 3):
        recorder(step, 0.0)
    assert recorder.frames == [] and "no frames today" in recorder.error
    assert seen == [1, 2, 3]  # the progress it passes on goes on

"""Training animations: what a generator draws as it learns, from the same noise every frame.

``FrameRecorder`` is a ``progress`` callback for ``fit``: every ``every`` steps it draws
``model.sample(num_points, seed)``. Every adapter's ``sample`` seeds its own local torch
generator from ``seed`` and runs under ``torch.inference_mode``, so

- the same ``seed`` gives the same latent draws in every frame (fixed noise: the frames show
  the map z → x changing, not fresh noise);
- recording neither consumes the training's random streams nor records gradients, so a fit
  with the recorder ends bit-identical to one without (tested).

``write_gif`` renders the frames over the target (matplotlib's Agg canvas, assembled by
Pillow: no ffmpeg), and ``record_animations`` retrains chosen runs of a results folder with a
recorder and writes ``DIR/animations/KEY.gif``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.patches import Rectangle
from PIL import Image

from genbench import plots
from genbench.config import ORACLE, RunSpec
from genbench.executors import in_workers, model_class_of, tell_main
from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.registry import models
from genbench.results import ResultStore
from genbench.targets import get_target
from genbench.targets.base import Target

ANIMATION_FOLDER = "animations"
DEFAULT_MODEL = "gan"  # the family whose training `run` animates by default
DEFAULT_LATENT_DIMS = (1, 3)  # a curve that cannot fill the plane, and a map that can
DEFAULT_SEED = 0
NUM_FRAMES = 40  # frames per animation, about: fit reports every ~1 % of the steps
NUM_POINTS = 1_000  # points per frame
MAX_OVERHEAD = 0.10  # recording may take at most this fraction of the training time so far
FRAME_SECONDS = 0.12  # display time of a frame; the last one stays 1.5 s


@dataclass(frozen=True)
class Frame:
    """The model's samples after ``step`` training steps."""

    step: int
    loss: float  # the training loss ``fit`` reported at that step
    points: np.ndarray  # (num_points, 2) float32


class FrameRecorder:
    """A ``progress`` callback that records ``model.sample(num_points, seed)`` every ``every``
    steps, and at the last step when ``steps`` is given.

    ``fit`` reports about every 1 % of its steps, so a frame is taken at the first report at or
    after each multiple of ``every``. Recording never takes more than ``max_overhead`` of the
    wall time since the recorder was created (create it just before ``fit``): a frame that would
    exceed the budget is skipped (counted in ``skipped``), so a slow sampler (a 1000-step DDPM)
    thins its frames instead of slowing training. ``then`` is called first with every report,
    so the recorder can sit in front of another callback (a progress bar).

    >>> recorder = FrameRecorder(model, every=10, steps=400)  # doctest: +SKIP
    >>> model.fit(target, 400, seed=0, progress=recorder)  # doctest: +SKIP
    >>> write_gif("gan.gif", target, recorder.frames)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: GenerativeModel,
        every: int = 1,
        *,
        num_points: int = NUM_POINTS,
        seed: int = 0,
        steps: int | None = None,
        max_overhead: float = MAX_OVERHEAD,
        then: ProgressCallback | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        self.model = model
        self.every = int(every)
        self.num_points = int(num_points)
        self.seed = int(seed)
        self.steps = steps
        self.max_overhead = max_overhead
        self.then = then
        self.frames: list[Frame] = []
        self.skipped = 0  # due frames left out to stay within the time budget
        self.seconds = 0.0  # wall time spent recording
        self._due = self.every
        self._started = time.perf_counter()

    def __call__(self, step: int, loss: float) -> None:
        if self.then is not None:
            self.then(step, loss)
        last = self.steps is not None and step >= self.steps
        if step < self._due and not last:
            return
        self._due = (step // self.every + 1) * self.every
        elapsed = time.perf_counter() - self._started
        if self.frames and not last and self.seconds > self.max_overhead * elapsed:
            self.skipped += 1
            return
        start = time.perf_counter()
        points = np.asarray(self.model.sample(self.num_points, self.seed), dtype=np.float32)
        self.frames.append(Frame(int(step), float(loss), points))
        self.seconds += time.perf_counter() - start


# ---------------------------------------------------------------------------- rendering
def write_gif(
    path: str | Path,
    target: Target,
    frames: Sequence[Frame],
    *,
    title: str = "",
    colour: str = plots.PALETTE[0],
    total_steps: int | None = None,
) -> Path:
    """Render ``frames`` over ``target`` as a looping GIF at ``path`` (written atomically).

    Each frame shows the target's density faintly, the frame's points on the target's fixed
    square, the step and the training loss, and a bar of training progress.
    """
    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    total = total_steps or max(frame.step for frame in frames)
    figure = plots.new_figure(3.4, 3.75)
    figure.set_dpi(100)
    axes = figure.add_axes((0.04, 0.1, 0.92, 0.8))
    plots.draw_target(axes, target)
    first = np.asarray(frames[0].points, dtype=float)
    dots = axes.scatter(first[:, 0], first[:, 1], s=2.5, c=colour, alpha=0.6, linewidths=0)
    figure.text(0.5, 0.96, title, ha="center", va="top", fontsize=9.5)
    label = figure.text(0.04, 0.055, "", ha="left", va="center", fontsize=8, color="#333333")
    track = figure.add_axes((0.55, 0.04, 0.41, 0.03))
    track.set_xlim(0, 1)
    track.set_ylim(0, 1)
    track.axis("off")
    track.add_patch(Rectangle((0, 0), 1, 1, color="#E5E5E5"))
    bar = Rectangle((0, 0), 0, 1, color=colour)
    track.add_patch(bar)

    images = []
    for frame in frames:
        dots.set_offsets(np.asarray(frame.points, dtype=float))
        label.set_text(f"step {frame.step:,} of {total:,}   loss {frame.loss:.3f}")
        bar.set_width(min(1.0, frame.step / max(total, 1)))
        figure.canvas.draw()
        rgb = np.asarray(figure.canvas.buffer_rgba())[..., :3]
        images.append(
            Image.fromarray(rgb).quantize(
                colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
        )
    durations = [int(FRAME_SECONDS * 1000)] * (len(images) - 1) + [1500]

    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
    )
    return plots.write_file(path, buffer.getvalue())


# ---------------------------------------------------------------------------- results folders
def default_animation_runs(folder: str | Path) -> list[str]:
    """Keys of the runs that ``run`` animates by default: the GAN with latent dims 1 and 3,
    seed 0, on each target, where those runs are in the folder and finished ``ok``."""
    keys = []
    for key, record in ResultStore(folder).records().items():
        config = record.get("config", {})
        if (
            config.get("model") == DEFAULT_MODEL
            and config.get("latent_dim") in DEFAULT_LATENT_DIMS
            and config.get("seed") == DEFAULT_SEED
            and record.get("status") == "ok"
        ):
            keys.append(key)
    return sorted(keys)


def record_animations(
    folder: str | Path,
    runs: Sequence[str] | None = None,
    device: str = "cpu",
    *,
    num_frames: int = NUM_FRAMES,
    num_points: int = NUM_POINTS,
    show_progress: bool = False,
    workers: int = 1,
) -> list[Path]:
    """Retrain runs of a results folder with a ``FrameRecorder`` and write their GIFs.

    Parameters
    ----------
    folder : a results folder (``records/KEY.json`` give each run's full config).
    runs : run keys (``dataset__model__zK__sS``) to animate; default
        :func:`default_animation_runs`. A key without a record raises ``ValueError``.
    device : torch device to retrain on.
    num_frames : about how many frames each animation has.
    num_points : points drawn in every frame (always from the same noise).
    show_progress : show a progress bar over the training steps of all the runs (on the
        ``article`` preset the six default runs retrain for about half an hour).
    workers : retrain in this many single-threaded worker processes at once (as ``run``
        trains its grid); 1 retrains in this process, one run after another.

    Returns the paths written, ``folder/animations/KEY.gif``, in the order of ``runs``. The
    stored results are not touched: the retraining is a replay of the recorded config and seed.
    """
    from genbench.runner import progress_display

    store = ResultStore(folder)
    records = store.records()
    keys = default_animation_runs(folder) if runs is None else list(runs)
    for key in keys:
        if key not in records:
            raise ValueError(f"{store.folder} has no record of run {key!r}")
        if records[key]["config"]["model"] == ORACLE:
            raise ValueError(f"run {key!r} is the oracle, which has no training to animate")
    specs = [
        RunSpec(**{**config, "params": dict(config.get("params", {}))})
        for config in (records[key]["config"] for key in keys)
    ]
    tasks = [
        (index, spec, device, max(1, spec.steps // num_frames), num_points, model_class_of(spec))
        for index, spec in enumerate(specs)
    ]
    bar = progress_display(enabled=show_progress)
    written: dict[int, Path] = {}
    with bar:
        progress = _AnimationProgress(bar, specs)
        if workers <= 1 or len(tasks) <= 1:

            def in_process(task: tuple) -> tuple[int, list[Frame]]:
                return task[0], record_frames(*task[1:], on_step=partial(progress.step, [task[0]]))

            results = map(in_process, tasks)
        else:
            results = in_workers(_record_in_worker, tasks, workers, progress)
        for index, frames in results:  # the GIFs are drawn here while the workers train on
            key, spec = keys[index], specs[index]
            title = (
                f"{spec.entry}, latent dim {spec.latent_dim}, on {spec.target} (seed {spec.seed})"
            )
            path = store.folder / ANIMATION_FOLDER / f"{key}.gif"
            colour = plots.model_colours([spec.entry])[spec.entry]  # as in the report's figures
            written[index] = write_gif(
                path,
                get_target(spec.target),
                frames,
                title=title,
                colour=colour,
                total_steps=spec.steps,
            )
    return [written[index] for index in range(len(specs))]


def record_frames(
    spec: RunSpec,
    device: str,
    every: int,
    num_points: int,
    model_class: type | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[Frame]:
    """Train ``spec``'s model afresh with a :class:`FrameRecorder` taking a frame every
    ``every`` steps; ``on_step(steps done)`` follows the training."""
    from genbench.runner import build

    model = build(model_class or models.get(spec.model), spec, device)
    recorder = FrameRecorder(
        model,
        every=every,
        num_points=num_points,
        seed=spec.seed,
        steps=spec.steps,
        then=(lambda step, loss: on_step(step)) if on_step else None,
    )
    model.fit(get_target(spec.target), spec.steps, spec.seed, progress=recorder)
    return recorder.frames


def _record_in_worker(
    index: int, spec: RunSpec, device: str, every: int, num_points: int, model_class: type | None
) -> tuple[int, list[Frame]]:
    tell_main("start", [index])
    frames = record_frames(
        spec, device, every, num_points, model_class, partial(tell_main, "step", [index])
    )
    return index, frames


class _AnimationProgress:
    """One progress bar over the training steps of all the animations, in whatever order
    (and however many at once) they train."""

    def __init__(self, bar: Any, specs: Sequence[RunSpec]) -> None:
        self.bar = bar
        self.task = bar.add_task("animations: training steps", total=sum(s.steps for s in specs))
        self.done = [0] * len(specs)

    def start(self, group: Sequence[int]) -> None:
        pass

    def step(self, group: Sequence[int], steps_done: int) -> None:
        self.done[group[0]] = steps_done
        self.bar.update(self.task, completed=sum(self.done))

"""Frames of a model in training: what its sampler draws, from the same noise every frame.

:class:`FrameRecorder` is a training callback (``fit``'s ``progress``, or a model's watcher in
``fit_many``). Every adapter's ``sample`` seeds its own local torch generator from ``seed``
and runs under ``torch.inference_mode``, so

- the same ``seed`` gives the same latent draws in every frame (fixed noise: the frames show
  the map z → x changing, not fresh noise);
- recording neither consumes the training's random streams nor records gradients, so a fit
  with the recorder ends bit-identical to one without (tested).

``genbench.animation`` renders the frames as a GIF.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from genbench.models.base import GenerativeModel, ProgressCallback

NUM_FRAMES = 40  # frames per animation, about: fit reports every ~1 % of the steps
NUM_POINTS = 1_000  # points per frame
FRAME_IMAGES = 36  # images per frame of an image target: a 6 × 6 mosaic
MAX_OVERHEAD = 0.10  # recording may take at most this fraction of the training time so far


@dataclass(frozen=True)
class Frame:
    """The model's samples after ``step`` training steps."""

    step: int
    loss: float  # the training loss ``fit`` reported at that step
    points: np.ndarray  # (num_points, dim) float32: 2-D points, or flattened images


class FrameRecorder:
    """A ``progress`` callback that records ``model.sample(num_points, seed)`` every ``every``
    steps, and at the last step when ``steps`` is given.

    ``fit`` reports about every 1 % of its steps, so a frame is taken at the first report at or
    after each multiple of ``every``. Recording never takes more than ``max_overhead`` of the
    wall time since the recorder was created (create it just before ``fit``): a frame that would
    exceed the budget is skipped (counted in ``skipped``), so a slow sampler (a 1000-step DDPM)
    thins its frames instead of slowing training. ``then`` is called first with every report,
    so the recorder can sit in front of another callback (a progress bar). In a stack
    (``fit_many``), pass it as the model's watcher.

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
        self.error = ""  # why recording stopped early, or ''; training goes on regardless
        self._due = self.every
        self._started = time.perf_counter()

    def __call__(self, step: int, loss: float) -> None:
        if self.then is not None:
            self.then(step, loss)
        last = self.steps is not None and step >= self.steps
        if self.error or (step < self._due and not last):
            return
        self._due = (step // self.every + 1) * self.every
        elapsed = time.perf_counter() - self._started
        if self.frames and not last and self.seconds > self.max_overhead * elapsed:
            self.skipped += 1
            return
        start = time.perf_counter()
        try:
            points = np.asarray(self.model.sample(self.num_points, self.seed), dtype=np.float32)
        except Exception as error:  # an animation is not worth a run: stop recording instead
            self.error = f"{type(error).__name__}: {error}"
        else:
            self.frames.append(Frame(int(step), float(loss), points))
        self.seconds += time.perf_counter() - start

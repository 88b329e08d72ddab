"""Training animations: a model's frames (``genbench.frames``) rendered as a looping GIF.

``write_gif`` draws the frames over the target on matplotlib's Agg canvas and assembles them
with Pillow (no ffmpeg). ``write_animation`` writes a finished run's frames as
``DIR/animations/KEY.gif``, titled and coloured as in the report's figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle
from PIL import Image

from genbench import plots
from genbench.frames import Frame
from genbench.results import RunRecord
from genbench.targets import get_target
from genbench.targets.base import Target

ANIMATION_FOLDER = "animations"
FRAME_SECONDS = 0.12  # display time of a frame; the last one stays 1.5 s


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
    square, the step and the training loss, and a bar of training progress; for an image
    target, a mosaic of the frame's images (the same noise every frame) instead.
    """
    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    total = total_steps or max(frame.step for frame in frames)
    figure = plots.new_figure(3.4, 3.75)
    figure.set_dpi(100)
    axes = figure.add_axes((0.04, 0.1, 0.92, 0.8))
    images_target = target.kind == "images"
    if images_target:
        plots.draw_images(axes, frames[0].points, target.image_shape)
        mosaic = axes.get_images()[0]
    else:
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
        if images_target:
            mosaic.set_data(plots.image_mosaic(frame.points, target.image_shape))
        else:
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


def caption(model: str, latent_dim: int, steps: int, target: str, seed: int) -> str:
    """What an animation shows: ``gan, latent dim 1, 400 steps, on spiral (seed 0)``."""
    return f"{model}, latent dim {latent_dim}, {steps:,} steps, on {target} (seed {seed})"


def write_animation(folder: str | Path, record: RunRecord) -> Path:
    """Write ``record.frames`` as ``folder/animations/KEY.gif``; returns the path."""
    if not record.frames:
        raise ValueError(f"run {record.key} has no frames to animate")
    colour = plots.model_colours([record.model])[record.model]  # as in the report's figures
    return write_gif(
        Path(folder) / ANIMATION_FOLDER / f"{record.key}.gif",
        get_target(record.target),
        record.frames,
        title=caption(record.model, record.latent_dim, record.steps, record.target, record.seed),
        colour=colour,
        total_steps=record.steps,
    )

"""What every figure shares: the model styles, the figure canvas, atomic PNG writing, and
measuring and wrapping labels before they are drawn."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from genbench.files import atomic_write
from genbench.models import is_reference, reference_models
from genbench.registry import metrics

# Okabe & Ito (2008), "Color universal design": safe for protan-, deutan- and tritanopia.
# Ordered so that the first four (the built-in families) are the most distinct on light grey.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]  # a second cue besides colour, per model
ORACLE_COLOUR = "#000000"
LINESTYLES = ["-", "-.", ":"]  # per turn of the palette: solid, then dash-dotted, dotted

DPI = 110  # enough for a slide, small enough for files of a few hundred KB


def axis_label(name: str) -> str:
    """The axis label of the metric registered as ``name`` (``Metric.axis_label``), or the name
    itself for a column no registered metric has."""
    return metrics.get(name).axis_label if name in metrics else name


# ---------------------------------------------------------------------------- model styles
# The built-in families keep their colour and marker in every report; other entries take the
# remaining styles in order.
FAMILY_INDEX = {"gan": 0, "vae": 1, "realnvp": 2, "ddpm": 3}


def _style_indices(models: Sequence[str]) -> dict[str, int]:
    """Each non-reference model's style number (see ``_style``), all different: the families'
    own, then the lowest numbers not taken, in the order of ``models``."""
    indices = {m: FAMILY_INDEX[m] for m in models if m in FAMILY_INDEX}
    taken = set(indices.values())
    free = (i for i in itertools.count() if i not in taken)
    for model in models:
        if not is_reference(model) and model not in indices:
            indices[model] = next(free)
    return indices


def _style(index: int) -> tuple[str, str]:
    """The colour and marker of style number ``index``.

    Style k < 7 is the k-th colour with the k-th marker. The colours then repeat, and each time
    they do the markers shift by one, so that no two of the first 7 × 7 = 49 styles share both
    colour and marker.
    """
    turn, colour = divmod(index, len(PALETTE))
    return PALETTE[colour], MARKERS[(colour + turn) % len(MARKERS)]


def model_colours(models: Sequence[str]) -> dict[str, str]:
    """One palette colour per model; the oracle is black."""
    floors = dict.fromkeys(reference_models(), ORACLE_COLOUR)
    return floors | {m: _style(i)[0] for m, i in _style_indices(models).items()}


def model_linestyles(models: Sequence[str]) -> dict[str, str]:
    """One line style per model: solid for the first seven, then dash-dotted and dotted as the
    colours repeat, so that two models of one colour differ in their lines as in their markers.
    The oracle is dashed."""
    floors = dict.fromkeys(reference_models(), "--")
    return floors | {
        m: LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]
        for m, i in _style_indices(models).items()
    }


def model_markers(models: Sequence[str]) -> dict[str, str]:
    """One marker per model, a second cue besides colour; the oracle has none (a dashed line).
    No two of the first 49 models have both the same colour and the same marker."""
    floors = dict.fromkeys(reference_models(), "_")
    return floors | {m: _style(i)[1] for m, i in _style_indices(models).items()}


# ---------------------------------------------------------------------------- canvas and files
def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, independent of pyplot's global state."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically (never a half-written file)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, facecolor="white")
    return write_file(path, buffer.getvalue())


def write_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    atomic_write(path, lambda stream: stream.write(data))
    return path


# ---------------------------------------------------------------------------- labels
def text_inches(text: str, fontsize: float, weight: str = "normal") -> float:
    """The width in inches of the widest line of ``text`` at ``fontsize`` points in the default
    font, to size a figure to its labels before it is drawn."""
    font = FontProperties(size=fontsize, weight=weight)
    widths = [
        TextPath((0, 0), line, prop=font).get_extents().width  # points
        for line in text.split("\n")
        if line
    ]
    return max(widths, default=0.0) / 72


def wrap_name(name: str, width: int) -> str:
    """``name`` broken after its "_" and "-" into lines of about ``width`` characters; a piece
    longer than that keeps a line of its own (``ddpm_dpm_solver_sde`` at 10 → ``ddpm_dpm_`` /
    ``solver_sde``)."""
    lines = [""]
    for piece in filter(None, re.split(r"(?<=[_-])", name)):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)

"""Each model's colour and marker: fixed for the built-in families, and no two models alike."""

from __future__ import annotations

import pytest

from genbench import plots
from genbench.models import reference_models


def styles(models: list[str]) -> dict[str, tuple[str, str]]:
    colours, markers = plots.model_colours(models), plots.model_markers(models)
    return {m: (colours[m], markers[m]) for m in models}


@pytest.mark.parametrize("count", [20, 49])
def test_every_model_has_its_own_colour_and_marker_pair(count):
    models = [f"model_{i:02d}" for i in range(count)]
    assert len(set(styles(models).values())) == count


def test_the_first_seven_models_take_the_palette_and_the_markers_in_order():
    models = [f"model_{i}" for i in range(7)]
    assert list(styles(models).values()) == list(zip(plots.PALETTE, plots.MARKERS, strict=True))


def test_the_families_keep_their_style_among_many_models():
    models = [f"plugin_{i:02d}" for i in range(16)] + ["ddpm", "gan", "vae", "realnvp"]
    shown = styles(models)
    assert len(set(shown.values())) == len(models)
    for family, index in plots.FAMILY_INDEX.items():
        assert shown[family] == (plots.PALETTE[index], plots.MARKERS[index])


def test_the_reference_is_black_without_a_marker_and_takes_no_style():
    oracle = reference_models()[0]
    shown = styles([oracle, *(f"model_{i}" for i in range(7))])
    assert shown[oracle] == (plots.ORACLE_COLOUR, "_")
    assert shown["model_0"] == (plots.PALETTE[0], plots.MARKERS[0])


def test_models_that_share_a_colour_differ_in_their_lines():
    oracle = reference_models()[0]
    models = [oracle, *(f"model_{i:02d}" for i in range(15))]
    colours, lines = plots.model_colours(models), plots.model_linestyles(models)
    assert lines[oracle] == "--"
    assert [lines[f"model_{i:02d}"] for i in (0, 6, 7, 13, 14)] == ["-", "-", "-.", "-.", ":"]
    pairs = {(colours[m], lines[m]) for m in models[1:]}
    assert len(pairs) == 15  # no two models alike in both colour and line

"""A tiny results folder, run once for every test of the report that only reads it."""

from __future__ import annotations

import pytest

import genbench
from genbench.report import build_report

# Two targets with closed-form HDRs (fast to score), a GAN at two latent sizes and a flow
# (fixed at latent 2), two seeds: the grid has every kind of panel, with "n/a" cells.
TINY = """
name = "tiny"
targets = ["gaussian", "spiral"]
seeds = 2
num_samples = 300

[models.gan]
latent_dims = [1, 3]
steps = 20

[models.gan.params]
generator_width = 16
generator_depth = 1
discriminator_width = 16
discriminator_depth = 1
batch_size = 64

[models.realnvp]
steps = 10
params = { num_couplings = 2, width = 8, depth = 1, batch_size = 64 }
"""
TARGETS = ["gaussian", "spiral"]
MODELS = ["gan", "realnvp"]


@pytest.fixture(scope="session")
def results_folder(tmp_path_factory):
    """The tiny grid's results folder, with its default training animations, and the paths that
    building its report wrote."""
    root = tmp_path_factory.mktemp("report")
    (root / "tiny.toml").write_text(TINY)
    folder = root / "out"
    genbench.run(str(root / "tiny.toml"), out=folder, workers=1, quiet=True, device="cpu")
    written = build_report(folder)  # again, for the list of what it writes
    return folder, written

"""Shared fixtures: a tiny model that trains instantly, registered only while a test uses it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from genbench.models.base import GenerativeModel
from genbench.registry import models


@dataclass(eq=False)
class ScaledTarget(GenerativeModel):
    """Draws from the target itself, scaled by ``scale``: a model of known, tunable quality."""

    latent_dim: int = 2  # unused: kept for the protocol
    device: str = "cpu"  # unused: numpy only
    scale: float = 1.0  # 1 reproduces the target; larger spreads samples outward
    fail: bool = False  # raise during fit, as a broken adapter would
    explode: bool = False  # return NaN samples, as a diverged model would

    name = "scaled_target"

    def _build(self) -> None:
        self.net_ = torch.nn.Linear(1, 1)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"net": self.net_}

    def fit(self, target, steps, seed, progress=None):
        if self.fail:
            raise RuntimeError("adapter broke")
        self._build()
        self.target_ = target
        for step in range(1, steps + 1):
            if progress and step % max(1, steps // 4) == 0:
                progress(step, 0.0)
        return self

    def sample(self, num_samples, seed):
        samples = self.scale * self.target_.sample(num_samples, seed + 10_000)
        if self.explode:
            samples[0, 0] = np.nan
        return samples.astype(np.float32)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests run torch on one thread: with two, a busy neighbour process on a 2-core machine
    makes these tiny networks 10–20 times slower, and timing would depend on the neighbours."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def scaled_target_model():
    models.register("scaled_target")(ScaledTarget)
    yield ScaledTarget
    models._entries.pop("scaled_target", None)

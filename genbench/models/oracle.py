"""The oracle: the target's own sampler, run and scored exactly as a model.

No model can beat it in expectation, so its scores are the floor of every metric at the grid's
sample size: what it shows above a metric's ideal value is the estimators' bias (KDE smoothing,
finite transport samples). It is a registered model marked ``reference``: every grid runs it
once per target and seed, and the leaderboard, tables and figures draw it as the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.nn import check_fitted
from genbench.registry import models
from genbench.targets import get_target
from genbench.targets.base import Target


@models.register("oracle")
@dataclass(eq=False)
class Oracle(GenerativeModel):
    """Draws from the target it was fitted to; nothing is learned, so ``fit`` ignores its
    steps and seed."""

    latent_dim: int = 0  # unused: the oracle has no latent space
    device: str = "cpu"  # unused: targets sample with numpy

    name: ClassVar[str] = "oracle"
    has_log_prob: ClassVar[bool] = True
    fixed_latent_dim: ClassVar[int | None] = 0
    reference: ClassVar[bool] = True
    kinds: ClassVar[tuple[str, ...]] = ("points", "images")

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> Oracle:
        self.target_ = target
        if progress is not None:
            progress(steps, 0.0)
        return self

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """The target's draws, as float32 like every model's."""
        check_fitted(self, "target_")
        return self.target_.sample(num_samples, seed).astype(np.float32)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """The target's exact log-density (−∞ where it has no mass)."""
        check_fitted(self, "target_")
        return self.target_.log_prob(x)

    # What it "learned" is which target it draws from: saved by name.
    def save(self, path: str | Path) -> None:
        check_fitted(self, "target_")
        torch.save({"model": self.name, "params": self.params(), "target": self.target_.name}, path)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> Oracle:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved["model"] != cls.name:
            raise ValueError(f"{path} holds a {saved['model']!r} model, not {cls.name!r}")
        params = dict(saved["params"]) | ({"device": device} if device is not None else {})
        oracle = cls(**params)
        oracle.target_ = get_target(saved["target"])
        return oracle

"""The model protocol: every adapter, built in or plugged in, is a ``GenerativeModel``.

scikit-learn discipline: a model is a dataclass whose fields are its hyperparameters (each with
its default and a comment); ``fit`` learns state in attributes ending with ``_`` and returns
``self``; ``sample`` and ``log_prob`` have fixed meanings. Capability flags say what a family
can do, so callers never probe with try/except:

- ``has_log_prob``: ``log_prob`` is implemented;
- ``log_prob_is_bound``: it returns a lower bound (the VAE's ELBO), not the exact log-density;
- ``fixed_latent_dim``: the latent size is forced (flows and diffusion: the data dimension 2),
  or ``None`` when ``latent_dim`` is free and swept;
- ``reference``: not a model to rank but a floor to read the others against (the oracle, the
  target's own sampler): every grid runs it once per target and seed, and tables and figures
  draw it as the floor.

A plug-in registers itself with ``@models.register("name")`` or through the ``genbench.models``
entry-point group (see ``genbench.registry``).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from genbench.targets.base import Target

# Called by ``fit`` now and then with (steps done, latest training loss); used for progress
# bars and to notice divergence. It may raise to abort training.
ProgressCallback = Callable[[int, float], None]


class GenerativeModel(ABC):
    """A generative model of 2-D points. Subclasses are ``@dataclass`` hyperparameter records."""

    name: ClassVar[str]
    has_log_prob: ClassVar[bool] = False
    log_prob_is_bound: ClassVar[bool] = False
    fixed_latent_dim: ClassVar[int | None] = None
    reference: ClassVar[bool] = False
    # the kinds of target it learns (``Target.kind``): 2-D "points", "images" or both
    kinds: ClassVar[tuple[str, ...]] = ("points",)

    # Every subclass declares these two fields first (dataclass fields cannot live on an ABC):
    #   latent_dim: int = 2     size of the latent space (ignored when fixed_latent_dim is set)
    #   device: str = "cpu"     torch device the model trains and samples on
    latent_dim: int
    device: str

    @abstractmethod
    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> GenerativeModel:
        """Train on fresh draws from ``target`` for ``steps`` optimiser steps; returns ``self``.

        The same ``seed`` (and device) gives the same trained model.
        """

    @abstractmethod
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` draws from the trained model, (n, 2) float32; same seed, same draws."""

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """log q(x) for ``x`` (n, 2), (n,); exact, or a lower bound if ``log_prob_is_bound``."""
        raise NotImplementedError(f"{self.name} has no log-likelihood (has_log_prob is False)")

    # ``interpolate`` is implemented: the model decodes paths through its latent space.
    interpolates: ClassVar[bool] = False

    def interpolate(self, num_paths: int, num_steps: int, seed: int) -> np.ndarray:
        """Samples along ``num_paths`` paths between two latent draws, ``num_steps`` evenly
        spaced points each, (num_paths, num_steps, dim): what the map z → x does between two
        codes. Families with a latent space implement it and set ``interpolates``."""
        raise NotImplementedError(f"{self.name} has no latent space to interpolate in")

    # Whether ``fit_many`` trains the models together (faster) rather than one after another.
    fits_many: ClassVar[bool] = False
    # Hyperparameters that change only how ``sample`` draws, not training: grid entries that
    # differ only in these share one trained model per target and seed.
    sampling_params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fit_many(
        cls,
        models: Sequence[GenerativeModel],
        targets: Sequence[Target],
        steps: int,
        seeds: Sequence[int],
        progress: ProgressCallback | None = None,
        watchers: Sequence[ProgressCallback | None] = (),
    ) -> list[GenerativeModel]:
        """Train each of ``models`` on its target with its seed; returns them.

        ``progress`` follows the training; ``watchers[m]``, where given, is model m's own
        callback (with its own loss), which may look at the model mid-training, as an
        animation's frame recorder does. This default fits the models one after another.
        Families whose step can run many copies at once (the built-in ones) override it and
        set ``fits_many``; the runner then trains a grid's runs of one entry and latent size
        together.
        """
        watchers = list(watchers) or [None] * len(models)
        for model, target, seed, watcher in zip(models, targets, seeds, watchers, strict=True):
            model.fit(target, steps, seed, chain(progress, watcher))
        return list(models)

    # ------------------------------------------------------------------ persistence
    # Torch models override both so that ``save``/``load`` round-trip; a model without torch
    # networks (a plug-in wrapping scikit-learn, say) may leave them and skip persistence.
    def modules(self) -> dict[str, torch.nn.Module]:
        """The trained networks by name; what ``save`` stores and ``load`` restores."""
        return {}

    def _build(self) -> None:
        """Create the untrained networks (and anything derived from hyperparameters)."""
        return None  # nothing to build for a model without torch networks

    def params(self) -> dict[str, Any]:
        """The hyperparameters, as saved with every result."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def save(self, path: str | Path) -> None:
        """Write hyperparameters and trained weights to ``path`` (a ``torch.save`` file)."""
        state = {name: module.state_dict() for name, module in self.modules().items()}
        torch.save({"model": self.name, "params": self.params(), "state": state}, path)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> GenerativeModel:
        """A model saved by :meth:`save`, on ``device`` (default: the one it was saved from)."""
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved["model"] != cls.name:
            raise ValueError(f"{path} holds a {saved['model']!r} model, not {cls.name!r}")
        params = dict(saved["params"])
        if device is not None:
            params["device"] = device
        model = cls(**params)
        model._build()
        for name, module in model.modules().items():
            module.load_state_dict(saved["state"][name])
        return model


def chain(*callbacks: ProgressCallback | None) -> ProgressCallback | None:
    """One callback that calls each of ``callbacks`` (None entries skipped) in turn."""
    present = [callback for callback in callbacks if callback is not None]
    if len(present) <= 1:
        return present[0] if present else None

    def both(step: int, loss: float) -> None:
        for callback in present:
            callback(step, loss)

    return both

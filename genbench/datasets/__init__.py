"""Exactly known 2-D targets, one per module; each registers itself in ``registry.targets``."""

from functools import cache

from genbench.datasets.base import HDR_MASS, Target
from genbench.datasets.eight_gaussians import EightGaussians
from genbench.datasets.gaussian import Gaussian
from genbench.datasets.spiral import Spiral
from genbench.registry import import_submodules, targets

import_submodules(__name__, __path__)  # a new target module registers itself by being here


@cache
def get_target(name: str) -> Target:
    """The target registered as ``name``, with its default parameters (one shared instance)."""
    return targets.get(name)()


__all__ = ["HDR_MASS", "EightGaussians", "Gaussian", "Spiral", "Target", "get_target"]

"""Targets, one per module: exactly known 2-D densities and a set of digit images; each
registers itself in ``registry.targets``."""

from functools import cache

from genbench.registry import import_submodules, targets
from genbench.targets.base import HDR_MASS, Target
from genbench.targets.digits import Digits
from genbench.targets.eight_gaussians import EightGaussians
from genbench.targets.gaussian import Gaussian
from genbench.targets.spiral import Spiral

import_submodules(__name__, __path__)  # a new target module registers itself by being here


@cache
def get_target(name: str) -> Target:
    """The target registered as ``name``, with its default parameters (one shared instance)."""
    return targets.get(name)()


__all__ = ["HDR_MASS", "Digits", "EightGaussians", "Gaussian", "Spiral", "Target", "get_target"]

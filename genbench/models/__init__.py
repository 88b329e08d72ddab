"""Model adapters, one family per module; each registers itself in ``registry.models``."""

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.registry import import_submodules, models

import_submodules(__name__, __path__)  # a new adapter module registers itself by being here


def get_model_class(name: str) -> type[GenerativeModel]:
    """The model class registered (or plugged in) as ``name``."""
    return models.get(name)


__all__ = ["GenerativeModel", "ProgressCallback", "get_model_class"]

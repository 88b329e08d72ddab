"""Model adapters, one family per module; each registers itself in ``registry.models``."""

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.registry import import_submodules, models

import_submodules(__name__, __path__)  # a new adapter module registers itself by being here


def get_model_class(name: str) -> type[GenerativeModel]:
    """The model class registered (or plugged in) as ``name``."""
    return models.get(name)


def reference_models() -> list[str]:
    """Registered models marked ``reference`` (the oracle), in registration order: every grid
    runs them, and tables and figures draw them as the floor."""
    return [name for name in models.available() if models.get(name).reference]


def is_reference(name: str) -> bool:
    """Whether the leaderboard entry ``name`` is a reference model (a floor, not a rival)."""
    return name in reference_models()


__all__ = [
    "GenerativeModel",
    "ProgressCallback",
    "get_model_class",
    "is_reference",
    "reference_models",
]

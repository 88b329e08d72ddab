"""genbench: benchmark generative models on exactly known 2-D distributions.

    >>> import genbench
    >>> results = genbench.run("quick")  # doctest: +SKIP  (train, sample, score, rank, plot)
    >>> genbench.score("spiral", samples)  # doctest: +SKIP  (score your own (n, 2) samples)

The names below are imported when first used, so that importing one part of genbench (a worker
process importing the runner, say) does not load the figures and the report.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("genbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

_PUBLIC = {
    "run": "genbench.api",
    "score": "genbench.api",
    "RunResults": "genbench.api",
    "Target": "genbench.targets",
    "get_target": "genbench.targets",
}

__all__ = ["RunResults", "Target", "__version__", "get_target", "run", "score"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'genbench' has no attribute {name!r}")

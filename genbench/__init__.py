"""genbench: benchmark generative models on exactly known 2-D distributions."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Importing the subpackages fills the target, metric and model registries.
from genbench import metrics, models  # noqa: F401
from genbench.targets import Target, get_target

__all__ = ["Target", "__version__", "get_target"]

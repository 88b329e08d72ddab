"""genbench: benchmark generative models on exactly known 2-D distributions.

>>> import genbench
>>> results = genbench.run("quick")  # doctest: +SKIP  (train, sample, score, rank, plot)
>>> genbench.score("spiral", samples)  # doctest: +SKIP  (score your own (n, 2) samples)
"""

from genbench.api import RunResults, run, score
from genbench.environment import genbench_version
from genbench.targets import Target, get_target

__version__ = genbench_version()

__all__ = ["RunResults", "Target", "__version__", "get_target", "run", "score"]

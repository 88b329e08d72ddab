"""How long one full score takes: every metric at the default sizes on 10,000 samples.

Run with ``pytest benchmarks/ --benchmark-only``. The issue's budget is 3 s per score on a
2-core CPU; the README quotes what this measured.
"""

import numpy as np
import pytest

from genbench.datasets import get_target
from genbench.metrics import score

NUM_SAMPLES = 10_000


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "spiral"])
def test_full_score(benchmark, name):
    target = get_target(name)
    _ = target.hdr_threshold  # computed once per target and cached; not part of a score
    samples = target.sample(NUM_SAMPLES, seed=0) * 1.05  # a slightly-off model
    result = benchmark.pedantic(score, args=(target, samples), rounds=3, iterations=1)
    assert np.isfinite(list(result.values())).all()
    benchmark.extra_info["num_samples"] = NUM_SAMPLES
    benchmark.extra_info["samples_per_second"] = NUM_SAMPLES / benchmark.stats.stats.mean

"""How long one full score takes: the default metrics at their default sizes on 10,000 samples.

Run with ``pytest benchmarks/ --benchmark-only``. The budget is 3 s per score on a
2-core CPU; docs/performance.md quotes what this measured.

The arithmetic of a score is the kernel sums of the two KL estimates (``kl_forward``: every
reference point against every sample; ``kl_reverse``: 10,000 draws against the samples and
against 10,000 reference points), about ``KERNEL_FLOPS`` float64 operations per pair (a 2-D
dot product, a subtraction, a clamp, an exponential and a sum). The optimal transport of W1 and
W2 is a network simplex, not arithmetic that a FLOP count describes, so it is left out: the
fraction of peak is a lower bound.
"""

import numpy as np
import pytest

from genbench.metrics import score
from genbench.metrics.kl import NUM_REFERENCE
from genbench.targets import get_target

NUM_SAMPLES = 10_000
KERNEL_FLOPS = 8


def kernel_pairs(num_samples: int) -> int:
    """Kernel evaluations of one score: kl_forward's and kl_reverse's."""
    return NUM_REFERENCE * num_samples + NUM_REFERENCE * (num_samples + NUM_REFERENCE)


@pytest.mark.parametrize("name", ["gaussian", "eight_gaussians", "spiral", "ring8", "grid25"])
def test_full_score(benchmark, name, peak_gflops, device):
    if device != "cpu":
        pytest.skip("scoring runs on the CPU")
    target = get_target(name)
    _ = target.hdr_threshold  # computed once per target and cached; not part of a score
    samples = target.sample(NUM_SAMPLES, seed=0) * 1.05  # a slightly-off model
    result = benchmark.pedantic(score, args=(target, samples), rounds=3, iterations=1)
    assert np.isfinite(list(result.values())).all()
    samples_per_second = NUM_SAMPLES / benchmark.stats.stats.mean
    flops = KERNEL_FLOPS * kernel_pairs(NUM_SAMPLES) / NUM_SAMPLES
    benchmark.extra_info["num_samples"] = NUM_SAMPLES
    benchmark.extra_info["samples_per_second"] = samples_per_second
    benchmark.extra_info["flops_per_sample"] = flops
    benchmark.extra_info["peak_gflops"] = peak_gflops  # float32; the kernel sums are float64
    benchmark.extra_info["fraction_of_peak"] = samples_per_second * flops / (peak_gflops * 1e9)


def test_full_image_score(benchmark, device):
    """The default image metrics of 10,000 digits: the classifier's features of the samples
    and of the held-out images, FID, KID on 10 subset pairs, and the class histograms. The
    classifier's training (once per process) is done before the timing."""
    if device != "cpu":
        pytest.skip("scoring runs on the CPU")
    target = get_target("digits")
    _ = target.classifier_accuracy  # trains the classifier: once per process, not per score
    samples = target.sample(NUM_SAMPLES, seed=0)  # training images, drawn with replacement
    result = benchmark.pedantic(score, args=(target, samples), rounds=3, iterations=1)
    assert np.isfinite(list(result.values())).all()
    benchmark.extra_info["num_samples"] = NUM_SAMPLES
    benchmark.extra_info["samples_per_second"] = NUM_SAMPLES / benchmark.stats.stats.mean

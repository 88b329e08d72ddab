"""Shared fixtures of the benchmarks: the device to run on and its matrix-multiply peak.

Every throughput is reported against the peak measured in the same session, on the same
device, so that a figure from a noisy shared machine still says how close to the hardware a
sampler is (issue 4). Run with ``pytest benchmarks/ --benchmark-only``.
"""

import time
from collections.abc import Callable

import pytest
import torch

# Square float32 matrices timed for the peak: large enough to reach the BLAS's best rate,
# small enough to take well under a second per product.
PEAK_SIZE = {"cpu": 2048, "cuda": 8192}
PEAK_REPEATS = 5  # the best of this many products, after one warm-up


@pytest.fixture(
    scope="session",
    params=[
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
        ),
    ],
)
def device(request) -> str:
    """Every benchmark that takes ``device`` runs on the CPU, and on CUDA when there is one."""
    return request.param


@pytest.fixture(scope="session")
def synchronize(device) -> Callable[[], None]:
    """Waits for ``device``'s queued kernels: call it inside a timed call, so that a CUDA
    timing measures the work and not only its launch. A no-op on the CPU."""
    return torch.cuda.synchronize if device == "cuda" else lambda: None


@pytest.fixture(scope="session")
def peak_gflops(device, synchronize) -> float:
    """The best float32 ``torch.mm`` rate on ``device`` in this session, GFLOP/s."""
    size = PEAK_SIZE[device]
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.mm(a, b)  # warm-up: BLAS thread pool, CUDA context and kernel choice
    synchronize()
    best = float("inf")
    for _ in range(PEAK_REPEATS):
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9  # a product is size³ multiply-adds

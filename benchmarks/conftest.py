"""Shared fixtures of the benchmarks: the device, its matrix-multiply peak and a calibration.

Every throughput is reported against two yardsticks measured in the same session, on the same
device, so that a figure from a noisy shared machine still means something: the
float32 matrix-multiply peak (how close to the hardware a sampler is), and a *calibration*, a
fixed plain-torch MLP timed beside each measurement (what the speed gate compares, see
``benchmarks/gate.py``). Run with ``pytest benchmarks/ --benchmark-only``.

``GENBENCH_BENCH_SHORT=1`` selects the short mode, the one the speed gate runs: torch uses one
thread, and the sampler benchmarks take smaller batches and rounds sized to last about a
second in all (see ``test_samplers.py``). One thread, because on a shared 2-core machine a
second busy process makes torch's two intra-op threads wait for each other: we measured
ancestral DDPM (the quick preset's former, narrower network) drawing 1,024 points in 0.43 s
on one thread and in 6–20 s on two, depending on the neighbours. One thread measures the
code; two measure the scheduler.
"""

import itertools
import os
import time
from collections.abc import Callable, Iterator

import pytest
import torch
from torch import nn

from genbench.executors import single_threaded

SHORT = os.environ.get("GENBENCH_BENCH_SHORT", "") not in ("", "0")
SHORT_THREADS = 1  # torch threads in the short mode (why: the module docstring)

# Square float32 matrices timed for the peak: large enough to reach the BLAS's best rate,
# small enough to take well under a second per product.
PEAK_SIZE = {"cpu": 2048, "cuda": 8192}
PEAK_REPEATS = 5  # the best of this many products, after one warm-up

# The calibration network: shaped like the quick preset's samplers (2-D in and out, hidden
# widths 32–128, ReLU), so that it meets the same mix of small matrix products and element-wise
# work, and so the same slow phases of a shared machine. Its weights are fixed by a seed; its
# values do not change its cost, but fixing them keeps denormals and the like out of the picture.
CALIBRATION_WIDTH = 64  # units of each hidden layer
CALIBRATION_DEPTH = 3  # hidden layers
CALIBRATION_SEED = 0


@pytest.fixture(scope="session")
def short_mode() -> bool:
    """Whether this is the short mode (``GENBENCH_BENCH_SHORT=1``), the speed gate's."""
    return SHORT


@pytest.fixture(scope="session", autouse=True)
def torch_threads() -> Iterator[int]:
    """The number of torch threads every benchmark runs with: one in the short mode."""
    before = torch.get_num_threads()
    if SHORT:
        torch.set_num_threads(SHORT_THREADS)
    yield torch.get_num_threads()
    torch.set_num_threads(before)


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


def measure_peak(device: str, synchronize: Callable[[], None]) -> float:
    """The best float32 ``torch.mm`` rate on ``device`` with torch's current threads, GFLOP/s."""
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


@pytest.fixture(scope="session")
def peak_gflops(device, synchronize) -> float:
    """The best float32 ``torch.mm`` rate on ``device`` in this session, GFLOP/s, with the
    threads the benchmarks run with (all cores, or one in the short mode)."""
    return measure_peak(device, synchronize)


@pytest.fixture(scope="session")
def single_thread_peak_gflops(device, synchronize) -> float:
    """The peak on one CPU thread (on CUDA, the device's): the yardstick of work that runs on
    one thread, as each of ``genbench run``'s worker processes does."""
    if device != "cpu":
        return measure_peak(device, synchronize)
    with single_threaded():
        return measure_peak(device, synchronize)


def calibration_network(device: str) -> nn.Sequential:
    """The fixed MLP 2 → width × depth (ReLU) → 2 that the calibration times."""
    sizes = [2] + [CALIBRATION_WIDTH] * CALIBRATION_DEPTH + [2]
    rng = torch.Generator().manual_seed(CALIBRATION_SEED)
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out, device=device)
        with torch.no_grad():  # uniform in ±1/sqrt(fan_in), torch's default, but seeded
            for parameter in layer.parameters():
                values = (torch.rand(parameter.shape, generator=rng) * 2 - 1) * fan_in**-0.5
                parameter.copy_(values)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers[:-1]).eval()  # a linear output, as the samplers have


@pytest.fixture(scope="session")
def calibrate(device, synchronize) -> Callable[[int, float], float]:
    """``calibrate(num_points, seconds)``: the rate of the calibration network on ``device``,
    in points per second, from forward passes over batches of ``num_points`` points repeated
    for about ``seconds`` (at least one pass).

    Run it around each timed round of a benchmark, for about as long as the round takes: the
    round and its calibration then share the machine's load, and their ratio moves with that
    load far less than either alone. (A much shorter calibration would fall between other
    processes' time slices, or in them, where a long round sees their average.)
    """
    network = calibration_network(device)
    rng = torch.Generator(device=device).manual_seed(CALIBRATION_SEED)

    @torch.inference_mode()
    def rate(num_points: int, seconds: float) -> float:
        x = torch.randn(num_points, 2, generator=rng, device=device)  # (n, 2), not timed
        synchronize()
        passes = 0
        start = time.perf_counter()
        while True:
            network(x).cpu()  # to host memory, as a sampler's NumPy result is
            synchronize()
            passes += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return passes * num_points / elapsed

    rate(1024, 0.0)  # warm-up: allocator, thread pool and kernel choice
    return rate

"""What the element-wise activations of the samplers cost, against the matrix-multiply peak.

The quick preset's networks are narrow (widths 32–128). A hidden layer of width w costs 2w
FLOPs of matrix product per output element, and then its activation, which is element-wise
and no faster at any width. Where the activation takes as long as the product would at the
peak, no sampler made of such layers can reach half the peak, however well its matrix
products run: for w-wide layers each followed by the activation, the fraction of the peak is
at most

    (2w / peak) / (2w / peak + activation time per element).

Each benchmark times one activation on a (8,192, 64) float32 tensor, the size of a CPU
sampling chunk of a width-64 layer, and records the nanoseconds per element and that ceiling
for widths 32, 64 and 128 (docs/performance.md).
"""

import pytest
import torch
from torch import nn

CHUNK = (8_192, 64)  # a sampling chunk (genbench.models.nn.SAMPLE_CHUNK["cpu"]) of width 64
WIDTHS = (32, 64, 128)
ACTIVATIONS = {"silu": nn.SiLU(), "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.01)}
CLOSED_FORMS = {
    "silu": lambda x: x * torch.sigmoid(x),
    "relu": lambda x: x.clamp_min(0),
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.01 * x),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation(benchmark, name, device, peak_gflops, synchronize):
    activation = ACTIVATIONS[name]
    x = torch.randn(CHUNK, generator=torch.Generator().manual_seed(0)).to(device)

    @torch.inference_mode()
    def run() -> torch.Tensor:
        y = activation(x)
        synchronize()
        return y

    y = benchmark.pedantic(run, rounds=20, iterations=10, warmup_rounds=2)
    torch.testing.assert_close(y, CLOSED_FORMS[name](x))  # it timed the right function
    if benchmark.disabled:
        return
    seconds_per_element = benchmark.stats.stats.min / x.numel()
    benchmark.extra_info["device"] = device
    benchmark.extra_info["ns_per_element"] = seconds_per_element * 1e9
    benchmark.extra_info["peak_gflops"] = peak_gflops
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()
    for width in WIDTHS:
        product = 2 * width / (peak_gflops * 1e9)  # s per output element at the peak
        ceiling = product / (product + seconds_per_element)
        benchmark.extra_info[f"ceiling_fraction_width_{width}"] = ceiling

"""Gaussian kernel density estimates with a fixed bandwidth, evaluated exactly in log space.

Why not scikit-learn's tree-based ``KernelDensity``: at the bandwidths used here a wide target
(N(0, I) with h = 0.2) has about half of all points within the 6h that a tree cannot prune, and
the tree query holds the GIL; the dense sum below uses both cores, is exact to ~1e-9, and was
3–6 times faster at 10,000 × 10,000 points on a 2-core CPU.
"""

from __future__ import annotations

import numpy as np
import torch

CHUNK_ROWS = 64  # evaluation points per block: a (64, m) float64 block stays in cache for m ≈ 10⁴
# Terms more than 60 nats below a row's largest change the sum by < e⁻⁶⁰ relative; clamping them
# keeps exp() off its slow path for huge negative inputs (3–5x faster for narrow kernels).
NEGLIGIBLE = -60.0


@torch.inference_mode()
def log_kde(points: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """log q̂(points), where q̂(x) = (1/m) Σⱼ N(x; dataⱼ, bandwidth²·I).

    Parameters: ``points`` (n, d) where to evaluate, ``data`` (m, d) the kernel centres,
    ``bandwidth`` the kernel's standard deviation. Returns (n,) finite log-densities, computed as
    a log-sum-exp over j of −‖x − yⱼ‖² / 2h², expanded as x·yⱼ − ‖yⱼ‖²/2 − ‖x‖²/2 in units of h.

    >>> log_kde(np.zeros((1, 2)), np.zeros((3, 2)), bandwidth=1.0).round(4)  # −log 2π
    array([-1.8379])
    """
    x = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float64)) / bandwidth  # (n, d)
    y = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float64)) / bandwidth  # (m, d)
    half_y2 = -0.5 * (y * y).sum(dim=1)  # (m,)
    out = torch.empty(len(x), dtype=torch.float64)
    for start in range(0, len(x), CHUNK_ROWS):
        block = x[start : start + CHUNK_ROWS]  # (b, d)
        exponent = torch.addmm(half_y2, block, y.T)  # (b, m): x·y − ‖y‖²/2
        peak = exponent.amax(dim=1, keepdim=True)  # (b, 1)
        total = exponent.sub_(peak).clamp_(min=NEGLIGIBLE).exp_().sum(dim=1)  # (b,)
        out[start : start + CHUNK_ROWS] = total.log_() + peak[:, 0] - 0.5 * (block * block).sum(1)
    d = x.shape[1]
    return out.numpy() - np.log(len(y)) - 0.5 * d * np.log(2 * np.pi * bandwidth**2)

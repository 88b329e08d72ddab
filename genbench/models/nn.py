"""Shared building blocks of the model families: plain MLPs, Glorot init, seeding, data streams.

The networks stay plain ``nn.Sequential`` stacks of ``nn.Linear`` and activations, so that many
copies (one per seed) can later be stacked and trained together with ``torch.func``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from genbench.seeding import derive_seed
from genbench.targets.base import Target

# Fresh target draws are made in chunks of about this many points, not one call per step:
# the draws do not depend on it, only the speed does.
DATA_CHUNK = 65_536
# ``sample`` runs the networks on at most this many points at a time: on the CPU few enough
# that a layer's activations stay in cache (8,192 × 128 floats = 4 MB), which made the quick
# GAN's generator about 1.3× faster than one pass over 65,536 points; on a GPU, many, so that
# its cores stay busy. Either way the memory stays bounded.
SAMPLE_CHUNK = {"cpu": 8_192, "cuda": 262_144}


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: Callable[[], nn.Module],
) -> nn.Sequential:
    """Linear → activation for each width in ``hidden``, then a final linear layer.

    >>> mlp(2, [8, 8], 1, nn.ReLU)
    Sequential(
      (0): Linear(in_features=2, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=8, bias=True)
      (3): ReLU()
      (4): Linear(in_features=8, out_features=1, bias=True)
    )
    """
    layers: list[nn.Module] = []
    widths = [in_features, *hidden]
    for fan_in, fan_out in pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    layers.append(nn.Linear(widths[-1], out_features))
    return nn.Sequential(*layers)


def glorot_(module: nn.Module) -> nn.Module:
    """Glorot-uniform (Keras' default) weights and zero biases for every linear layer; in place."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return module


def zero_last_(network: nn.Sequential) -> nn.Sequential:
    """Zero the last linear layer, so the network starts as the constant 0; in place."""
    last = network[-1]
    assert isinstance(last, nn.Linear)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return network


def adam(
    parameters: Iterable[nn.Parameter],
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    fused: bool = True,
) -> torch.optim.Adam:
    """Adam, with the fused kernel where torch has one unless ``fused=False``.

    The fused kernel makes one pass over all parameters per step, which makes the steps of
    these small networks about 25 % faster on the CPU; torch gained the CPU kernel in 2.4,
    older releases (genbench supports >= 2.2) use the default loop. Stacked models
    (``genbench.models.stack``) use the default: the fused CPU kernel rounds an element
    differently depending on where it falls in the tensor, so a model's result would depend on
    which other models share its stack.
    """
    params = list(parameters)
    on_cpu = all(p.device.type == "cpu" for p in params)
    fused = fused and (not on_cpu or FUSED_ADAM_ON_CPU)
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused or None)


# torch >= 2.4 ships a fused Adam for the CPU
FUSED_ADAM_ON_CPU = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 4)


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Run the block with torch's global CPU generator seeded, then restore its state.

    Networks are created on the CPU (then moved), so their initial weights depend on ``seed``
    alone, whatever the device, and the caller's random state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def generator(seed: int, device: str | torch.device) -> torch.Generator:
    """A local torch generator on ``device`` seeded with ``seed`` (global state is untouched)."""
    return torch.Generator(device=device).manual_seed(seed)


def target_batches(
    target: Target, batch_size: int, steps: int, seed: int, device: str | torch.device
) -> Iterator[torch.Tensor]:
    """``steps`` batches of fresh target draws, each (batch_size, 2) float32 on ``device``.

    Draws come in chunks of about ``DATA_CHUNK`` points seeded by ``derive_seed(seed, "data",
    chunk)``, so the stream is reproducible and never repeats a point.
    """
    steps_per_chunk = max(1, DATA_CHUNK // batch_size)
    for chunk, start in enumerate(range(0, steps, steps_per_chunk)):
        count = min(steps_per_chunk, steps - start)
        points = target.sample(count * batch_size, derive_seed(seed, "data", chunk))
        points = torch.as_tensor(points, dtype=torch.float32).to(device)
        yield from points.view(count, batch_size, 2)


def progress_due(step: int, steps: int) -> bool:
    """Whether ``fit`` reports after ``step`` (1-based) of ``steps``: every ~1 %, and the last."""
    return step % max(1, steps // 100) == 0 or step == steps


def sample_in_chunks(
    draw: Callable[[int], torch.Tensor], num_samples: int, device: str | torch.device
) -> np.ndarray:
    """``draw(count)`` called on chunks of at most ``SAMPLE_CHUNK`` points for ``device``'s
    type, as (n, 2) float32.

    ``draw`` takes its randomness from a generator the caller seeded, so the result depends on
    the seed and ``num_samples`` only.
    """
    if int(num_samples) != num_samples or num_samples < 0:
        raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
    num_samples = int(num_samples)
    size = SAMPLE_CHUNK.get(torch.device(device).type, SAMPLE_CHUNK["cuda"])
    chunks = [draw(min(size, num_samples - start)) for start in range(0, num_samples, size)]
    if not chunks:
        return np.zeros((0, 2), dtype=np.float32)
    return torch.cat(chunks).float().cpu().numpy()


def check_fitted(model: object, attribute: str) -> None:
    """Raise RuntimeError unless ``model`` has learned ``attribute`` (by ``fit`` or ``load``)."""
    if not hasattr(model, attribute):
        name = type(model).__name__
        raise RuntimeError(f"this {name} is not trained yet: call fit() or load() first")


def as_batch(x: np.ndarray, device: str | torch.device) -> torch.Tensor:
    """Points ``x`` (n, 2) as a float32 tensor on ``device``; ValueError for another shape."""
    array = np.asarray(x, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"expected points of shape (n, 2), got {array.shape}")
    return torch.as_tensor(array).to(device)

"""Shared building blocks of the model families: plain MLPs, Glorot init, seeding, data streams.

The networks stay plain ``nn.Sequential`` stacks of ``nn.Linear`` and activations, so that many
copies (one per seed) can later be stacked and trained together with ``torch.func``.
"""

from __future__ import annotations

import contextlib
import math
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


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer-style embedding of timesteps ``t`` (n,): sin and cos at ``dim``/2 frequencies
    from 1 to 1/``max_period`` radians per step, (n, dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies  # (n, dim/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def on_sphere(u: torch.Tensor) -> torch.Tensor:
    """``u`` (..., k) scaled to unit length: uniform on S^(k−1) when u is N(0, I_k)."""
    return u / u.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def fourier_features(x: torch.Tensor, count: int, scale: float) -> torch.Tensor:
    """x itself, then sin and cos of each coordinate at ``count`` frequencies from ``scale`` down
    to ``scale``/10,000 radians per unit (geometrically spaced), for ``x`` (..., d):
    (..., d · (1 + 2 · count)).

    A small MLP fed raw coordinates learns smooth functions first and blurs structure as narrow
    as the spiral's arm for thousands of steps; fed these, it can resolve it early (Tancik et
    al., 2020; the 2-D diffusion demos embed x and y this way).
    """
    if count == 0:
        return x
    frequencies = scale * torch.exp(
        -math.log(10_000.0) * torch.arange(count, device=x.device) / count
    )
    angles = (x[..., None] * frequencies).flatten(-2)  # (..., d · count)
    return torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=-1)


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
    draw: Callable[[int], torch.Tensor],
    num_samples: int,
    device: str | torch.device,
    chunk: int | None = None,
    width: int = 2,
) -> np.ndarray:
    """``draw(count)`` called on chunks of at most ``chunk`` samples (default: ``SAMPLE_CHUNK``
    for ``device``'s type), as (n, ``width``) float32.

    ``draw`` takes its randomness from a generator the caller seeded, so the result depends on
    the seed, ``num_samples`` and ``chunk`` only.
    """
    if int(num_samples) != num_samples or num_samples < 0:
        raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
    num_samples = int(num_samples)
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    size = chunk or SAMPLE_CHUNK.get(torch.device(device).type, SAMPLE_CHUNK["cuda"])
    chunks = [draw(min(size, num_samples - start)) for start in range(0, num_samples, size)]
    if not chunks:
        return np.zeros((0, width), dtype=np.float32)
    return torch.cat(chunks).float().cpu().numpy()


@contextlib.contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """Run the block with ``module`` in eval mode (batch norms by their running statistics),
    then put back the mode it had, so that sampling mid-training leaves the training as it was."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


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


# The target draws that fix a model's data standardisation: the same for every seed, so that
# the scaling is a property of the target, not of a run.
STANDARDIZE_DRAWS = 65_536


class Standardizer(nn.Module):
    """x ↦ (x − mean) / scale with the target's mean and one scale for both coordinates.

    One scale (the root mean of the two variances) keeps the target's shape: a circle stays a
    circle. Its buffers are saved with the model. Networks then see data of unit spread whatever
    the target's units, so one learning rate and one input embedding fit every target.
    """

    def __init__(self, mean: torch.Tensor | None = None, scale: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(2) if mean is None else mean)
        self.register_buffer("scale", torch.ones(()) if scale is None else scale)

    @classmethod
    def of_target(cls, target: Target) -> Standardizer:
        """The mean and scale of ``STANDARDIZE_DRAWS`` fixed draws from ``target``'s
        distribution (its ``population``: a finite training set's target)."""
        # an object that only quacks like a target (a ``sample`` method) is its own population
        population = getattr(target, "population", target)
        draws = population.sample(STANDARDIZE_DRAWS, derive_seed(0, "standardize"))
        draws = torch.as_tensor(draws)
        mean = draws.mean(0)
        scale = (draws - mean).pow(2).mean().sqrt()
        return cls(mean.float(), scale.float())

    @classmethod
    def stacked(cls, standardizers: Sequence[Standardizer], single: bool) -> Standardizer:
        """One standardizer applying each model's own to a stack's (M, B, 2) batches."""
        if single:
            return standardizers[0]
        mean = torch.stack([each.mean for each in standardizers])[:, None]  # (M, 1, 2)
        scale = torch.stack([each.scale for each in standardizers])[:, None, None]  # (M, 1, 1)
        return cls(mean, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Standardised points back in the target's units."""
        return y * self.scale + self.mean

    def log_abs_det(self) -> torch.Tensor:
        """log |det| of the map, −2 log(scale): () for one model, (M, 1) for a stack."""
        value = -2 * torch.log(self.scale)
        return value[..., 0] if value.ndim else value


def warmup_cosine(
    optimizer: torch.optim.Optimizer, steps: int, warmup: int, final: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate ramped linearly over ``warmup`` steps, then down a half cosine to
    ``final`` times its peak at the last of ``steps``; call ``step()`` after each update.

    The decay follows the run's own length, so a 300-step and a 30,000-step run both end at
    the low rate that lets the weights settle.
    """
    warmup = min(warmup, steps // 10)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class WeightAverage:
    """An exponential moving average of a network's weights, with the usual warm-up: after n
    updates the decay is min(``decay``, (1 + n) / (10 + n)), so that a short run is not an
    average dominated by its initial weights. ``decay=0`` keeps no average."""

    def __init__(self, network: nn.Module, decay: float) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"an averaging decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.network = network
        self.updates = 0
        with torch.no_grad():
            self.average = [p.detach().clone() for p in network.parameters()] if decay else []

    @torch.no_grad()
    def update(self) -> None:
        if not self.decay:
            return
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        current = [p.detach() for p in self.network.parameters()]
        torch._foreach_lerp_(self.average, current, 1 - decay)

    @torch.no_grad()
    def copy_to_network(self) -> None:
        """Make the averaged weights the network's (the trained model samples with them)."""
        if not self.decay:
            return
        for mine, averaged in zip(self.network.parameters(), self.average, strict=True):
            mine.copy_(averaged)


def check_schedule(model: object) -> None:
    """ValueError naming the first of a model's schedule settings (``warmup_steps``,
    ``final_lr``, ``ema_decay``) that is out of range, at construction rather than mid-fit."""
    if getattr(model, "warmup_steps", 0) < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {model.warmup_steps}")  # type: ignore[attr-defined]
    if not 0 < getattr(model, "final_lr", 1.0) <= 1:
        raise ValueError(f"final_lr must be in (0, 1], got {model.final_lr}")  # type: ignore[attr-defined]
    if not 0 <= getattr(model, "ema_decay", 0.0) < 1:
        raise ValueError(f"ema_decay must be in [0, 1), got {model.ema_decay}")  # type: ignore[attr-defined]

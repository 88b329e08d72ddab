"""Train many copies of one network at once: stacked weights and per-model random streams.

The grid's networks are tiny MLPs, so one model's training step is mostly per-operation
overhead. M models of the same shape (different seeds, targets) are trained as one: every
``nn.Linear`` becomes a :class:`StackedLinear` holding the M weight matrices, and a batch of
inputs (M, B, in) goes through one batched matmul per layer. The family code is written for
inputs with any leading dimensions, so the same step runs one model on (B, ·) or M on (M, B, ·).

Each model keeps its own optimiser state (Adam's update is element-wise, so one Adam over the
stacked tensors is M independent Adams) and its own random streams: :class:`Streams` draws each
model's noise and data from that model's generator, exactly as if it trained alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.nn import (
    Standardizer,
    WeightAverage,
    adam,
    generator,
    progress_due,
    target_batches,
    warmup_cosine,
)
from genbench.targets.base import Target


class StackedLinear(nn.Module):
    """M linear layers of the same shape applied to M batches at once: (M, B, in) → (M, B, out)."""

    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        # (M, in, out) and (M, 1, out): the layout baddbmm wants, so no transpose per step.
        self.weight = nn.Parameter(torch.stack([layer.weight.detach().t() for layer in layers]))
        self.bias = nn.Parameter(torch.stack([layer.bias.detach()[None] for layer in layers]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)

    def unstack_into(self, layers: Sequence[nn.Linear]) -> None:
        """Copy model m's weights back into ``layers[m]``."""
        with torch.no_grad():
            for m, layer in enumerate(layers):
                layer.weight.copy_(self.weight[m].t())
                layer.bias.copy_(self.bias[m, 0])


def stack_modules(modules: Sequence[nn.Module]) -> nn.Module:
    """One module that runs all of ``modules`` (same architecture) on a leading model axis.

    A deep copy of ``modules[0]`` in which every ``nn.Linear`` is replaced by the
    :class:`StackedLinear` of the corresponding layer of every module; other submodules
    (activations, containers) are shared structure and must hold no parameters.
    """
    if isinstance(modules[0], nn.Linear):
        return StackedLinear(modules)  # type: ignore[arg-type]
    structure = copy.deepcopy(modules[0])
    names = [name for name, child in structure.named_modules() if isinstance(child, nn.Linear)]
    owners = {name.rpartition(".")[0] for name, _ in structure.named_parameters()}
    if not owners <= set(names):
        others = sorted(owners - set(names))
        raise TypeError(f"can only stack the parameters of nn.Linear layers, not of {others}")
    for name in names:
        parent_name, _, attribute = name.rpartition(".")
        layers = [module.get_submodule(name) for module in modules]
        setattr(structure.get_submodule(parent_name), attribute, StackedLinear(layers))
    return structure


def unstack_modules(stacked: nn.Module, modules: Sequence[nn.Module]) -> None:
    """Copy the trained weights of a :func:`stack_modules` result back into ``modules``."""
    if isinstance(stacked, StackedLinear):
        stacked.unstack_into(modules)  # type: ignore[arg-type]
        return
    for name, child in stacked.named_modules():
        if isinstance(child, StackedLinear):
            child.unstack_into([module.get_submodule(name) for module in modules])


class Streams:
    """The random draws of M models, each from its own generators; M = 1 without a model axis.

    ``single=True`` (one model trained on its own) returns tensors without the leading model
    axis, so the same training code serves one model and a stack.
    """

    def __init__(self, seeds: Sequence[int], device: str | torch.device, single: bool) -> None:
        if single and len(seeds) != 1:
            raise ValueError("a single stream needs exactly one seed")
        self.device = device
        self.single = single
        self.generators = [generator(seed, device) for seed in seeds]

    def __len__(self) -> int:
        return len(self.generators)

    def draw(self, each: Callable[[int, torch.Generator], torch.Tensor]) -> torch.Tensor:
        """``each(m, generator of model m)`` for every model, stacked on a leading model axis."""
        parts = [each(m, rng) for m, rng in enumerate(self.generators)]
        return parts[0] if self.single else torch.stack(parts)

    def _each(self, draw: Callable[[torch.Generator], torch.Tensor]) -> torch.Tensor:
        return self.draw(lambda _, rng: draw(rng))

    def randn(self, *shape: int) -> torch.Tensor:
        """Standard normal draws, ``shape`` per model."""
        return self._each(lambda rng: torch.randn(shape, generator=rng, device=self.device))

    def rand(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) draws, ``shape`` per model."""
        return self._each(lambda rng: torch.rand(shape, generator=rng, device=self.device))

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        """Integers in [0, high), ``shape`` per model."""
        return self._each(lambda rng: torch.randint(high, shape, generator=rng, device=self.device))


def stacked_batches(
    targets: Sequence[Target],
    batch_size: int,
    steps: int,
    seeds: Sequence[int],
    device: str | torch.device,
    single: bool,
) -> Iterator[torch.Tensor]:
    """Each model's own stream of fresh target draws (see ``target_batches``), step by step:
    (batch, 2) for a single model, (M, batch, 2) for a stack."""
    streams = [
        target_batches(target, batch_size, steps, seed, device)
        for target, seed in zip(targets, seeds, strict=True)
    ]
    if single:
        yield from streams[0]
        return
    for batches in zip(*streams, strict=True):
        yield torch.stack(batches)


def descend(
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    max_grad_norm: float = 0.0,
    single: bool = True,
) -> None:
    """One optimiser step on ``loss``: clear the gradients, backpropagate, update.

    ``max_grad_norm`` > 0 first scales each model's gradient down to that norm at most (the
    optimiser's parameters are one model's when ``single``, else stacks whose first axis is
    the model), so that a stack clips as its models would alone.
    """
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm > 0:
        clip_per_model(optimizer, max_grad_norm, single)
    optimizer.step()


@torch.no_grad()
def clip_per_model(optimizer: torch.optim.Optimizer, max_norm: float, single: bool) -> None:
    """Scale the gradient of each model in ``optimizer`` to a norm of ``max_norm`` at most."""
    gradients = [
        p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None
    ]
    if not gradients:
        return
    if single:  # one model: a leading axis of 1
        gradients = [gradient[None] for gradient in gradients]
    # Every sum runs along a contiguous row of one model's numbers, so that model m's norm is
    # rounded the same whatever else is in its stack (a sum across rows is ordered by M).
    squares = torch.stack([g.contiguous().flatten(1).pow(2).sum(1) for g in gradients], 1)
    scales = (max_norm / (squares.sum(1).sqrt() + 1e-6)).clamp(max=1.0)  # (M,)
    for gradient in gradients:
        gradient.mul_(scales.view(-1, *[1] * (gradient.dim() - 1)))


class Monitor:
    """Where a training loop reports its losses, every ~1 % of the steps and at the last.

    ``progress`` gets the step and the mean loss of the models in training. ``watchers[m]``,
    where given, gets model m's own loss, after the stack's current weights are copied into the
    models (``sync``), so that it can look at model m mid-training (sample from it, as an
    animation's frame recorder does) while the stack trains on.
    """

    def __init__(
        self,
        steps: int,
        progress: ProgressCallback | None = None,
        watchers: Sequence[ProgressCallback | None] = (),
        sync: Callable[[], None] | None = None,
    ) -> None:
        self.steps = steps
        self.progress = progress
        self.watchers = list(watchers)
        self.sync = sync

    def report(self, step: int, losses: torch.Tensor) -> None:
        """``losses``: each model's loss, () for one model or (M,) for a stack."""
        watching = any(self.watchers)
        if not (self.progress or watching) or not progress_due(step, self.steps):
            return
        values = losses.detach().reshape(-1)  # (M,)
        if self.progress is not None:
            self.progress(step, values.sum().item() / len(values))
        if watching:
            if self.sync is not None:
                self.sync()
            for watcher, value in zip(self.watchers, values.tolist(), strict=True):
                if watcher is not None:
                    watcher(step, value)


def model_means(values: torch.Tensor, single: bool) -> torch.Tensor:
    """The mean of ``values`` per model: a scalar for one model, (M,) for a stack.

    Training sums these: model m's gradient is then that of its own mean loss, as if alone.
    """
    return values.mean() if single else values.flatten(1).mean(1)


# (step, ([M,] B, 2) standardised[, the same batch in the targets' units]) → ([M],)
StepLosses = Callable[..., torch.Tensor]


def optimise(
    model: Any,
    network: nn.Module,
    models: Sequence[Any],
    targets: Sequence[Target],
    seeds: Sequence[int],
    steps: int,
    monitor: Monitor,
    single: bool,
    step_losses: StepLosses,
    max_grad_norm: float = 0.0,
    raw: bool = False,
) -> None:
    """The training loop of the families trained on one loss (the VAE, RealNVP, DDPM, flow
    matching): ``steps`` Adam steps on ``network`` at ``model.lr``, warmed up over
    ``model.warmup_steps`` and decayed on a cosine to ``model.final_lr`` of it, each on
    ``step_losses(step, x)`` (each model's mean loss) for a batch ``x`` of ``model.batch_size``
    draws of each model's target, standardised by its ``standardizer_``. The network ends
    as the moving average of its weights (``model.ema_decay``; none at 0). With ``raw``,
    ``step_losses`` also gets the batch as drawn, in the targets' units (to label it)."""
    optimizer = adam(network.parameters(), lr=model.lr, fused=single)
    schedule = warmup_cosine(optimizer, steps, model.warmup_steps, model.final_lr)
    average = WeightAverage(network, model.ema_decay)
    standardize = Standardizer.stacked([m.standardizer_ for m in models], single)
    batches = stacked_batches(targets, model.batch_size, steps, seeds, model.device, single)
    for step, batch in enumerate(batches, start=1):  # batch: ([M,] batch, 2)
        x = standardize(batch)
        losses = step_losses(step, x, batch) if raw else step_losses(step, x)  # per model
        descend(optimizer, losses.sum(), max_grad_norm, single)
        schedule.step()
        average.update()
        monitor.report(step, losses)
    average.copy_to_network()  # the averaged weights are the trained model


class StackableModel(GenerativeModel):
    """A family whose training step is written for an optional leading model axis.

    Subclasses name their trained networks in ``stacked_modules`` and implement ``_prepare``
    (build one model's untrained state) and ``_train`` (the loop, given the networks, which are
    the model's own for ``fit`` and the stacks of M models' for ``fit_many``).
    """

    fits_many: ClassVar[bool] = True
    stacked_modules: ClassVar[tuple[str, ...]]

    def _prepare(self, target: Target, seed: int) -> None:
        """Build the untrained networks; a family with ``standardize`` on also fits its
        ``standardizer_`` (built as the identity) to the target."""
        self._build(seed)  # type: ignore[call-arg]
        if getattr(self, "standardize", False):
            self.standardizer_ = Standardizer.of_target(target).to(self.device)  # type: ignore[attr-defined]

    def _train(
        self,
        networks: dict[str, nn.Module],
        models: Sequence[Any],
        targets: Sequence[Target],
        seeds: Sequence[int],
        steps: int,
        monitor: Monitor,
        single: bool,
    ) -> None:
        raise NotImplementedError

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> Any:
        self._prepare(target, seed)
        networks = {name: self.modules()[name] for name in self.stacked_modules}
        self._train(networks, [self], [target], [seed], steps, Monitor(steps, progress), True)
        return self

    @classmethod
    def fit_many(
        cls,
        models: Sequence[Any],
        targets: Sequence[Target],
        steps: int,
        seeds: Sequence[int],
        progress: ProgressCallback | None = None,
        watchers: Sequence[ProgressCallback | None] = (),
    ) -> list[Any]:
        """Train ``models`` (same class and hyperparameters) as one stack; each on its target
        with its seed. A model's result is statistically the same as from ``fit``, but not
        bit-identical: a batched matmul rounds differently from a plain one. ``watchers``: see
        :class:`Monitor`."""
        check_same(models)
        for model, target, seed in zip(models, targets, seeds, strict=True):
            model._prepare(target, seed)
        stacks = {
            name: stack_modules([model.modules()[name] for model in models])
            for name in cls.stacked_modules
        }

        def sync() -> None:  # the stacks' weights into each model's own networks
            for name, stack in stacks.items():
                unstack_modules(stack, [model.modules()[name] for model in models])

        monitor = Monitor(steps, progress, watchers, sync)
        models[0]._train(stacks, models, targets, seeds, steps, monitor, single=False)
        sync()
        return list(models)


def check_same(models: Sequence[GenerativeModel]) -> None:
    """ValueError unless ``models`` share one class and all hyperparameters."""
    if not models:
        raise ValueError("fit_many needs at least one model")
    first = models[0]
    for model in models[1:]:
        if type(model) is not type(first) or model.params() != first.params():
            raise ValueError("fit_many trains models of one class with the same hyperparameters")

"""Training the whole quick grid on the whole machine: genbench's way against a plain loop.

The question is how "batched grid training" compares with "the plain one-model-at-a-time
PyTorch loop". ``test_training_steps.py`` takes that ratio per family on one thread, which
isolates what stacking alone gains. This benchmark takes it for the grid as a user runs it,
on every core, three ways over the same trainings:

- ``plain_loop``: one process, torch's default threads (all cores), each model built and
  trained by its ``fit``, one after another: what one writes without genbench;
- ``one_at_a_time_workers``: ``genbench run``'s worker pool (one single-threaded process per
  core), each task one model's ``fit``: what the processes alone gain;
- ``genbench``: the same pool, each task one training group's stack (``fit_many``), longest
  first, as ``genbench run`` trains them.

The trainings are the quick preset's: every group of ``genbench.plan``, one model
per target and seed (the DDPM samplers share theirs), each family's step count divided by
``STEP_DIVISOR`` so that a round takes seconds, with the same mix of work across families as
the real grid. The pool is started before the rounds (``genbench run`` starts it once per
sweep). Each records model-steps per second, the FLOPs of the whole grid's steps per
model-step, and the fraction of the session's all-core matrix-multiply peak that makes.
"""

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from test_training_steps import flops_per_step

from genbench.config import load_preset
from genbench.executors import default_workers, process_pool
from genbench.plan import RunSpec, build, make_plan
from genbench.registry import models as registry
from genbench.targets import get_target

STEP_DIVISOR = 20  # quick's 400 GAN steps become 20, its 3,000 DDPM steps 150
ROUNDS = 3


def quick_trainings() -> list[list[RunSpec]]:
    """The quick grid's training groups, one spec per model trained (steps divided)."""
    plan = make_plan(load_preset("quick"), animate=False)
    groups = []
    for group in plan.groups:
        if group.steps == 0:  # the oracle trains nothing
            continue
        distinct = {(spec.target, spec.seed): spec for spec in group.runs}  # samplers share
        groups.append(
            [
                dataclasses.replace(spec, steps=max(1, spec.steps // STEP_DIVISOR))
                for spec in distinct.values()
            ]
        )
    return sorted(groups, key=lambda group: -group[0].steps * len(group))  # longest first


def train(specs: Sequence[RunSpec], device: str, stacked: bool) -> None:
    """Train one model per spec (all of one group): as one stack, or one ``fit`` at a time."""
    model_class = registry.get(specs[0].family)
    targets = [get_target(spec.target) for spec in specs]
    seeds = [spec.seed for spec in specs]
    if stacked:
        fitted = [build(model_class, specs[0], device) for _ in specs]
        model_class.fit_many(fitted, targets, specs[0].steps, seeds)
    else:
        for spec, target in zip(specs, targets, strict=True):
            build(model_class, spec, device).fit(target, spec.steps, spec.seed)
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def group_flops(specs: Sequence[RunSpec]) -> int:
    """FLOPs of all the steps of one group (its models share one architecture)."""
    model = build(registry.get(specs[0].family), specs[0], "cpu")
    model.fit(get_target(specs[0].target), 1, 0)  # one step builds the networks to count
    return flops_per_step(model) * sum(spec.steps for spec in specs)


def in_pool(pool: ProcessPoolExecutor, tasks: Sequence[tuple]) -> Callable[[], None]:
    """A call that runs ``train`` on each of ``tasks`` (its arguments) in ``pool`` and waits."""

    def run() -> None:
        for future in [pool.submit(train, *task) for task in tasks]:
            future.result()

    return run


@pytest.mark.parametrize("mode", ["plain_loop", "one_at_a_time_workers", "genbench"])
def test_grid_training(benchmark, mode, device, peak_gflops):
    groups = quick_trainings()
    workers = default_workers(device)
    if mode == "plain_loop":
        tasks = [([spec], device, False) for group in groups for spec in group]

        def fit() -> None:
            for task in tasks:
                train(*task)

        benchmark.pedantic(fit, rounds=ROUNDS, iterations=1, warmup_rounds=1)
        workers = 1
    else:
        if mode == "genbench":
            tasks = [(group, device, True) for group in groups]
        else:
            tasks = [([spec], device, False) for group in groups for spec in group]
        with process_pool(workers) as pool:
            run = in_pool(pool, tasks)
            benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)

    specs = [spec for group in groups for spec in group]
    model_steps = sum(spec.steps for spec in specs)
    flops = sum(group_flops(group) for group in groups)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info["device"] = device
    benchmark.extra_info["models"] = len(specs)
    benchmark.extra_info["model_steps"] = model_steps
    benchmark.extra_info["processes"] = workers
    benchmark.extra_info["torch_threads"] = torch.get_num_threads() if workers == 1 else 1
    benchmark.extra_info["model_steps_per_second"] = model_steps / seconds
    benchmark.extra_info["flops_per_model_step"] = flops / model_steps
    benchmark.extra_info["peak_gflops"] = peak_gflops
    benchmark.extra_info["fraction_of_peak"] = flops / seconds / (peak_gflops * 1e9)

"""Where runs execute: in this process, or in a pool of worker processes.

The grid's models are tiny MLPs whose training is bound by per-operation overhead, not by
arithmetic, so one single-threaded process per core beats one process using every core.
Workers only compute; the main process alone writes results, so files have a single writer.
Workers are spawned (not forked), which is safe with CUDA and with torch's thread pools.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

import numpy as np

from genbench.config import RunSpec


class Progress(Protocol):
    def start(self, group: Sequence[int]) -> None: ...
    def step(self, group: Sequence[int], steps_done: int) -> None: ...


Result = tuple[int, dict[str, Any], np.ndarray | None]  # (run index, record, samples)


def default_workers(device: str) -> int:
    """One worker per core on the CPU; one process on a GPU, which is shared anyway."""
    if device.startswith("cuda"):
        return 1
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def execute_all(
    runs: Sequence[RunSpec], device: str, workers: int, progress: Progress
) -> Iterator[Result]:
    """Execute ``runs``, yielding each result as it completes (not necessarily in order).

    Runs that train together (``genbench.runner.group_runs``) are one task; the longest tasks
    start first, so that the last one to finish is short.
    """
    from genbench.runner import execute_group, group_runs

    groups = sorted(group_runs(runs), key=lambda group: -runs[group[0]].steps * len(group))
    if workers <= 1 or len(groups) <= 1:
        with single_threaded():
            for group in groups:
                progress.start(group)
                results = execute_group(
                    [runs[index] for index in group],
                    device,
                    on_step=lambda steps, group=group: progress.step(group, steps),
                )
                for index, (record, samples) in zip(group, results, strict=True):
                    yield index, record, samples
        return

    tasks = [
        (group, [runs[index] for index in group], device, model_class_of(runs[group[0]]))
        for group in groups
    ]
    for results in in_workers(_execute_in_worker, tasks, workers, progress):
        yield from results


def in_workers(
    function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int, progress: Progress
) -> Iterator[Any]:
    """``function(*task)`` for each of ``tasks`` in a :func:`worker_pool` of at most ``workers``
    processes, in the order given; yields each return value as it completes.

    ``function`` (a module-level function, for pickling) reports its progress with
    :func:`tell_main`, which reaches ``progress`` here. If anything goes wrong, or the caller
    is interrupted or stops iterating, the workers are stopped at once.
    """
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    pool = worker_pool(min(workers, len(tasks)), messages)
    pending: set[Future] = {pool.submit(function, *task) for task in tasks}
    try:
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(messages, progress)
            for future in done:
                yield future.result()
        _drain(messages, progress)
    except BaseException:
        # Interrupted or failed: every finished result is already with the caller, so stop the
        # workers now instead of waiting for the tasks in flight (minutes on the article preset).
        workers_alive = list((pool._processes or {}).values())  # gone after shutdown()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers_alive:
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True)


def worker_pool(workers: int, messages: Any = None) -> ProcessPoolExecutor:
    """``workers`` spawned processes that run torch on one thread each and exit with this one.

    ``messages`` is the queue that tasks report progress on (``_execute_in_worker``); a pool
    for other work may go without one.
    """
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(messages, os.getpid()),
    )


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one thread, then restore the setting.

    torch's intra-op threads spin while they wait: for these tiny networks they gain little on
    an idle machine, and when another process holds a core they make each step 10–20 times
    slower (a 7 s test took 115 s next to one busy process on a 2-core machine).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


_messages: Any = None  # the worker's end of the progress queue


def _init_worker(messages: Any, parent: int) -> None:
    global _messages
    _exit_with_parent(parent)  # first: the parent may be gone before torch is imported
    import torch

    torch.set_num_threads(1)
    _messages = messages


# How often, in seconds, a worker checks that the main process is still there.
PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    """End this worker as soon as process ``parent`` is gone.

    A main process killed outright (SIGKILL, or SIGTERM's default action) cannot stop its
    workers, and a worker would otherwise finish its task, an hour of training on the article
    preset, for nobody: only the main process saves results.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="genbench-parent-watch", daemon=True).start()


def model_class_of(spec: RunSpec) -> type | None:
    """The adapter class, resolved here: a worker's registry lacks models registered at run time."""
    from genbench.config import ORACLE
    from genbench.registry import models

    return None if spec.model == ORACLE else models.get(spec.model)


def tell_main(kind: str, group: Sequence[int], steps: int = 0) -> None:
    """In a task of :func:`in_workers`: tell the main process's ``progress`` that the task's
    ``group`` (of run or task indices) has started (``kind`` "start") or done ``steps`` steps
    ("step")."""
    _messages.put((kind, list(group), steps))


def _execute_in_worker(
    group: list[int], specs: list[RunSpec], device: str, model_class: type | None
) -> list[Result]:
    from genbench.runner import execute_group

    tell_main("start", group)
    results = execute_group(
        specs,
        device,
        model_class=model_class,
        on_step=lambda steps: tell_main("step", group, steps),
    )
    return [
        (index, record, samples) for index, (record, samples) in zip(group, results, strict=True)
    ]


def _drain(messages: Any, progress: Progress) -> None:
    while True:
        try:
            kind, group, steps = messages.get_nowait()
        except queue.Empty:
            return
        if kind == "start":
            progress.start(group)
        else:
            progress.step(group, steps)

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
from collections.abc import Iterator, Sequence
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

    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    pool = ProcessPoolExecutor(
        min(workers, len(groups)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(messages, os.getpid()),
    )
    pending: set[Future] = {
        pool.submit(
            _execute_in_worker,
            group,
            [runs[index] for index in group],
            device,
            _model_class(runs[group[0]]),
        )
        for group in groups
    }
    try:
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(messages, progress)
            for future in done:
                yield from future.result()
        _drain(messages, progress)
    except BaseException:
        # Interrupted or failed: every finished run is already saved by the caller, so stop the
        # workers now instead of waiting for the runs in flight (minutes on the article preset).
        workers_alive = list((pool._processes or {}).values())  # gone after shutdown()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers_alive:
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True)


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


def _model_class(spec: RunSpec) -> type | None:
    """The adapter class, resolved here: a worker's registry lacks models registered at run time."""
    from genbench.config import ORACLE
    from genbench.registry import models

    return None if spec.model == ORACLE else models.get(spec.model)


def _execute_in_worker(
    group: list[int], specs: list[RunSpec], device: str, model_class: type | None
) -> list[Result]:
    from genbench.runner import execute_group

    _messages.put(("start", group, 0))
    results = execute_group(
        specs,
        device,
        model_class=model_class,
        on_step=lambda steps: _messages.put(("step", group, steps)),
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

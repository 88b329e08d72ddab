"""Where run groups execute: any ``concurrent.futures.Executor``.

:func:`execute` submits :func:`genbench.runner.run_group` tasks to an executor and yields each
group's records as it finishes; the caller (the client) alone writes results, so files have a
single writer and a cluster needs no shared filesystem. Two executors come with genbench:

- :func:`process_pool` (the default): one single-threaded worker process per core. The grid's
  models are tiny MLPs whose training is bound by per-operation overhead, not arithmetic, so
  one single-threaded process per core beats one process using every core. Workers are
  spawned (not forked), which is safe with CUDA and torch's thread pools, and exit with the
  client.
- :class:`InProcessExecutor`: each task runs in this process when it is submitted, for
  debuggers and profilers.

Progress reaches the client as events (``genbench.runner.Started``, ``Trained``): directly in
process, and from other processes through an :class:`EventListener`, a local socket whose
picklable :class:`EventSender` travels with each task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    InvalidStateError,
    ProcessPoolExecutor,
    wait,
)
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from genbench.plan import RunGroup
from genbench.results import RunRecord
from genbench.runner import Event, run_group

# Called in the client with (index of the group in the list given to execute, event).
GroupEventSink = Callable[[int, Event], None]


def default_workers(device: str) -> int:
    """One worker per core on the CPU; one process on a GPU, which is shared anyway."""
    if device.startswith("cuda"):
        return 1
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def execute(
    groups: Sequence[RunGroup],
    device: str,
    executor: Executor,
    on_event: GroupEventSink | None = None,
) -> Iterator[tuple[int, list[RunRecord]]]:
    """Run every group on ``executor``; yield (group index, its records) as each finishes.

    An :class:`InProcessExecutor` gets one task at a time, so that each group's records reach
    the caller as soon as it finishes; other executors get every task at once. If the caller
    is interrupted or stops iterating, the tasks not started are cancelled; stopping the ones
    in flight is up to the executor's owner (see :func:`stop_now`).
    """
    sink = on_event or (lambda index, event: None)
    if isinstance(executor, InProcessExecutor):
        for index, group in enumerate(groups):
            future = executor.submit(run_group, group, device, _Tagged(sink, index))
            yield index, future.result()
        return

    with EventListener(sink) as listener:
        futures: dict[Future, int] = {
            executor.submit(run_group, group, device, listener.sender(index)): index
            for index, group in enumerate(groups)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                listener.drain()
                for future in done:
                    yield futures[future], future.result()
            listener.drain()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


class _Tagged:
    """An event sink for one group: passes its events on with the group's index."""

    def __init__(self, sink: GroupEventSink, index: int) -> None:
        self.sink, self.index = sink, index

    def __call__(self, event: Event) -> None:
        self.sink(self.index, event)


# ---------------------------------------------------------------------------- executors
class InProcessExecutor(Executor):
    """Runs each task in this process, on one torch thread, when it is submitted."""

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._shutdown:
            raise RuntimeError("cannot submit to an executor that was shut down")
        future: Future = Future()
        with single_threaded():
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as error:  # KeyboardInterrupt and the like propagate
                future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


def process_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes that run torch on one thread each and exit with this one."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down without waiting for the tasks in flight (minutes on the article
    preset): cancel what has not started and terminate the workers."""
    workers_alive = list((pool._processes or {}).values())  # gone after shutdown()
    ignore_cancelled_future_errors()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers_alive:
        process.terminate()


def ignore_cancelled_future_errors() -> None:
    """Keep the pool's manager thread from printing a traceback as the workers are stopped.

    On seeing its workers gone it marks every pending future broken, and on CPython before
    3.12 that raises InvalidStateError for a future already cancelled (CPython gh-107219),
    which the thread prints as an uncaught exception after genbench's one-line message. This
    thread hook drops that error only; any other goes to the hook that was there.
    """
    previous = threading.excepthook
    if getattr(previous, "ignores_cancelled_futures", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not InvalidStateError:
            previous(args)

    hook.ignores_cancelled_futures = True  # type: ignore[attr-defined]
    threading.excepthook = hook


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch, and the OpenMP and BLAS pools of numpy, scipy, scikit-learn and POT, on one
    thread, then restore the settings.

    Their threads spin while they wait: for these tiny networks and 2-D estimators they gain
    little on an idle machine, and when another process holds a core they make each step 3–20
    times slower (a 7 s test took 115 s next to one busy process on a 2-core machine; a Gaussian
    mixture fit, 3 times slower next to two).
    """
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


def one_thread_for_good() -> None:
    """What :func:`single_threaded` does, left in place: for a worker process of genbench's."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)  # the pools loaded so far: all of them, once genbench is


def _init_worker(parent: int) -> None:
    _exit_with_parent(parent)  # first: the parent may be gone before torch is imported
    import warnings

    from genbench.registry import PluginWarning

    one_thread_for_good()
    warnings.simplefilter("ignore", PluginWarning)  # the main process has said it once


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


# ---------------------------------------------------------------------------- events
class EventListener:
    """Receives the events of tasks running in other processes and passes them to ``sink``
    in the client's thread (at :meth:`drain`).

    A local socket (Unix where available) with a random key; each task carries an
    :class:`EventSender` that connects to it on its first event.
    """

    def __init__(self, sink: GroupEventSink) -> None:
        self.sink = sink
        self.authkey = secrets.token_bytes(16)
        family = "AF_UNIX" if sys.platform != "win32" else "AF_INET"
        self.listener = Listener(family=family, authkey=self.authkey)
        self.events: queue.SimpleQueue[tuple[int, Event]] = queue.SimpleQueue()
        self.closed = False
        threading.Thread(target=self._accept, name="genbench-events", daemon=True).start()

    def sender(self, index: int) -> EventSender:
        return EventSender(self.listener.address, self.authkey, index)

    def drain(self) -> None:
        while True:
            try:
                index, event = self.events.get_nowait()
            except queue.Empty:
                return
            self.sink(index, event)

    def _accept(self) -> None:
        while not self.closed:
            try:
                connection = self.listener.accept()
            except (OSError, EOFError, multiprocessing.AuthenticationError):
                continue  # closed, or a peer that failed the handshake: keep listening
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    self.events.put(connection.recv())
                except (EOFError, OSError):
                    return

    def __enter__(self) -> EventListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True
        with contextlib.suppress(Exception):  # wake the accepting thread, which then ends
            Client(self.listener.address, authkey=self.authkey).close()
        self.listener.close()


class EventSender:
    """A picklable event sink that sends a group's events to an :class:`EventListener`."""

    def __init__(self, address: Any, authkey: bytes, index: int) -> None:
        self.address, self.authkey, self.index = address, authkey, index
        self.connection: Connection | None = None

    def __call__(self, event: Event) -> None:
        try:
            if self.connection is None:
                self.connection = Client(self.address, authkey=self.authkey)
            self.connection.send((self.index, event))
        except Exception:  # the client is gone or refused us: progress is not worth a run
            self.connection = None

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey, "index": self.index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

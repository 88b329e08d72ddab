"""Run groups on a Dask cluster: a ``LocalCluster`` of worker processes, or a running scheduler.

A Dask ``distributed.Client`` (or its ``client.get_executor()``) passed as
``genbench.run(..., executor=client)`` runs each group as one Dask task, submitted with
``pure=False`` so that Dask never merges two tasks, with the group and its seeds as arguments.
What a task returns, the group's records, comes back to the client, which alone writes
results: the cluster needs no shared filesystem, and ``--resume`` works as with the process pool.

Faults. A run whose adapter raises is recorded as ``failed`` by :func:`genbench.runner.run_group`
on the worker, as anywhere else. A worker that dies mid-task (out of memory, a kill) costs only
time: Dask runs its task again elsewhere. A task whose workers keep dying ends, after the
scheduler's ``distributed.scheduler.allowed-failures``, in ``failed`` records that say so.

Dask is imported here only, and only when a cluster is used (``pip install "genbench[dask]"``):
``import genbench`` and the built-in process pool never load it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from genbench.config import ConfigError
from genbench.executors import EventListener, GroupEventSink, default_workers, one_thread_for_good
from genbench.plan import RunGroup
from genbench.results import RunRecord, Status
from genbench.runner import EventSink, new_record, run_group
from genbench.targets import get_target

# Seconds to reach a scheduler before its address is called bad: a live one answers at once.
CONNECT_TIMEOUT = 5
# How often, in seconds, the client asks the scheduler how many tasks its workers can run.
CAPACITY_CHECK_SECONDS = 1.0
# How long, in seconds, the client waits for a finished task before it passes on progress.
POLL_SECONDS = 0.2
INSTALL_HINT = 'the dask executor needs Dask: pip install "genbench[dask]"'
# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's
# adaptive mmap threshold: every tensor of more than 128 KiB is then mapped and unmapped afresh,
# and a stack of small networks trained at half the speed of the process pool's workers (a
# quick-preset GAN stack took 44–49 s against 24–26 s). None unsets it (see docs/cluster.md).
WORKER_ENVIRONMENT = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


class ClusterError(ConfigError):
    """Dask is missing, or the cluster cannot run the grid; the message is one line."""


def is_dask(executor: object) -> bool:
    """Whether ``executor`` is a Dask ``Client`` or a ``ClientExecutor``. A program that never
    imported ``distributed`` cannot hold one, so this imports nothing."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    from distributed.cfexecutor import ClientExecutor

    return isinstance(executor, distributed.Client | ClientExecutor)


def client_of(executor: Any) -> Any:
    """The ``distributed.Client`` behind a Client or its ``ClientExecutor``."""
    return getattr(executor, "_client", executor)


def dashboard_link(executor: Any) -> str | None:
    """The address of the Dask scheduler's dashboard, or None when it serves none."""
    with contextlib.suppress(Exception):  # no dashboard service (bokeh missing, or disabled)
        return client_of(executor).dashboard_link
    return None


@contextlib.contextmanager
def dask_client(
    *,
    workers: int | None = None,
    device: str = "cpu",
    scheduler: str | None = None,
    scheduler_file: str | Path | None = None,
    quiet: bool = False,
) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler`` (an address such as ``tcp://host:8786``) or
    described by ``scheduler_file``; else of a new ``LocalCluster`` on this machine: ``workers``
    single-threaded worker processes (default one per core; one on CUDA), each declaring one
    GPU on CUDA. A cluster it started closes on exit, its workers with it."""
    distributed = import_distributed()
    if scheduler is not None or scheduler_file is not None:
        client = connect(distributed, scheduler, scheduler_file)
        with contextlib.closing(client):
            yield client
        return
    import dask

    # Ctrl-C is the client's: it cancels, then stops the cluster
    with ignoring_interrupts(), dask.config.set(WORKER_ENVIRONMENT):
        cluster = distributed.LocalCluster(
            n_workers=workers or default_workers(device),
            threads_per_worker=1,
            processes=True,
            resources={"GPU": 1} if device.startswith("cuda") else None,
            # the workers' own warnings (a worker restarted, say) are kept; chatter is not
            silence_logs=logging.ERROR if quiet else logging.WARNING,
        )
    with contextlib.closing(cluster), distributed.Client(cluster) as client:
        yield client


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """SIGINT ignored while the block starts processes, which keep ignoring it (Python leaves
    an ignored SIGINT ignored): a Ctrl-C in the terminal then reaches the client only, instead
    of printing a traceback from every worker. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def connect(distributed: ModuleType, scheduler: str | None, scheduler_file: str | Path | None):
    """A client of a running scheduler, or a ClusterError in about ``CONNECT_TIMEOUT`` seconds."""
    where = scheduler if scheduler is not None else f"the scheduler of {scheduler_file}"
    if scheduler_file is not None and not Path(scheduler_file).is_file():
        raise ClusterError(f"no scheduler file {scheduler_file}")
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # it logs its failure too: one line on stderr is enough
    try:
        return distributed.Client(scheduler, scheduler_file=scheduler_file, timeout=CONNECT_TIMEOUT)
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {where}: {reason}") from None
    finally:
        logger.setLevel(level)


def import_distributed() -> ModuleType:
    try:
        import distributed
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return distributed


def execute_on_dask(
    groups: Sequence[RunGroup],
    device: str,
    executor: Any,
    on_event: GroupEventSink | None = None,
) -> Iterator[tuple[int, list[RunRecord]]]:
    """Run every group on the Dask cluster of ``executor`` (a Client or its ClientExecutor);
    yield (group index, its records) as each finishes.

    Groups are submitted in the plan's order (the longest stacks first) and no faster than the
    cluster's workers take them: one task per worker thread (per GPU on CUDA). Dask blames a
    worker's death on every task assigned to it, running or waiting, so a task kept back here
    cannot be charged with the death of a worker that another task killed. On CUDA each task
    asks for ``resources={"GPU": 1}``. If the caller is interrupted or stops iterating, the
    tasks in flight are cancelled.

    Progress events reach the client through a local socket (:class:`EventListener`); a worker
    on another machine cannot reach it, and its groups show only when they finish.
    """
    distributed = import_distributed()
    client = client_of(executor)
    gpu = device.startswith("cuda")
    options = getattr(executor, "_kwargs", {}) | {"pure": False}  # a ClientExecutor's too
    if gpu:
        options["resources"] = {"GPU": 1}
    capacity = Capacity(client, gpu)
    waiting = deque(range(len(groups)))
    running: dict[Any, int] = {}  # Dask future → group index
    finished: queue.SimpleQueue[Any] = queue.SimpleQueue()  # fed from Dask's callback thread
    sink = on_event or (lambda index, event: None)
    with EventListener(sink) as listener:
        try:
            while waiting or running:
                free = capacity.slots() - len(running)
                while waiting and (free > 0 or not running):
                    index = waiting.popleft()
                    future = client.submit(
                        run_on_worker, groups[index], device, listener.sender(index), **options
                    )
                    future.add_done_callback(finished.put)
                    running[future] = index
                    free -= 1
                try:
                    future = finished.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    listener.drain()
                    continue
                listener.drain()
                index = running.pop(future)
                records = outcome(future, groups[index], distributed)
                future.release()  # the records are here: the cluster can forget them
                yield index, records
            listener.drain()
        except BaseException:
            client.cancel(list(running))  # the workers drop them; the client keeps its records
            raise


def run_on_worker(group: RunGroup, device: str, on_event: EventSink) -> list[RunRecord]:
    """:func:`genbench.runner.run_group` on a Dask worker, with torch and the numerical
    libraries on one thread (why: :func:`genbench.executors.single_threaded`). The worker
    process is genbench's while it runs, so the setting is left for the next task."""
    one_thread_for_good()
    return run_group(group, device, on_event)


def outcome(future: Any, group: RunGroup, distributed: ModuleType) -> list[RunRecord]:
    """The records of a finished task; ``failed`` ones if its workers kept dying. Any other
    error ends the sweep, as it does in the process pool."""
    if future.status == "error" and isinstance(future.exception(), distributed.KilledWorker):
        return lost(group, killed_reason(future.exception()))
    return future.result()


def killed_reason(error: Any) -> str:
    """What a KilledWorker error means, in one line."""
    last = getattr(error.last_worker, "address", error.last_worker)
    return (
        f"KilledWorker: the task killed {error.allowed_failures + 1} workers: each died while "
        f"running it (out of memory, a crash or a kill signal; the last was {last}, whose log "
        "says more)"
    )


def lost(group: RunGroup, reason: str) -> list[RunRecord]:
    """A ``failed`` record for each run of a group that never returned."""
    records = [new_record(spec, get_target(spec.target)) for spec in group.runs]
    for record in records:
        record.fail(Status.FAILED, reason)
    return records


class Capacity:
    """How many tasks the cluster's workers can run at once: their threads, or on CUDA their
    GPUs, as the scheduler last said (asked at most every ``CAPACITY_CHECK_SECONDS``)."""

    def __init__(self, client: Any, gpu: bool) -> None:
        self.client, self.gpu = client, gpu
        self.checked, self.count = -float("inf"), 0

    def slots(self) -> int:
        if time.monotonic() - self.checked >= CAPACITY_CHECK_SECONDS:
            workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
            if self.gpu:
                self.count = int(sum(w.get("resources", {}).get("GPU", 0) for w in workers))
                if workers and not self.count:  # the tasks would wait for ever
                    raise ClusterError(
                        "--device cuda, but no worker of the Dask cluster declares a GPU: "
                        'start each worker with --resources "GPU=1"'
                    )
            else:
                self.count = sum(w["nthreads"] for w in workers)
            self.checked = time.monotonic()
        return self.count

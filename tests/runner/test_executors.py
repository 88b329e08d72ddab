"""Executors: any concurrent.futures.Executor runs the groups; progress reaches the client."""

import multiprocessing
import threading
from concurrent.futures import InvalidStateError, ProcessPoolExecutor

from genbench.config import load_preset
from genbench.executors import (
    EventListener,
    InProcessExecutor,
    execute,
    ignore_cancelled_future_errors,
    process_pool,
    single_threaded,
)
from genbench.plan import make_plan
from genbench.results import Status
from genbench.runner import Started, Trained


def tiny_groups():
    plan = make_plan(
        load_preset("quick"), models=["vae"], targets=["spiral"], latent_dims=[2], seeds=2,
        steps=[20], num_samples=200, animate=False,
    )  # fmt: skip
    return plan.pending(set())


def test_in_process_and_a_process_pool_give_the_same_records_and_events():
    groups = tiny_groups()
    results = {}
    for name, executor in [("in process", InProcessExecutor()), ("pool", process_pool(2))]:
        events: list = []
        with executor:
            found = dict(
                execute(groups, "cpu", executor, lambda i, e, seen=events: seen.append((i, e)))
            )
        results[name] = {
            record.key: record.metrics for records in found.values() for record in records
        }
        assert all(r.status is Status.OK for records in found.values() for r in records)
        vae = next(i for i, g in enumerate(groups) if g.family.name == "vae")
        assert (vae, Started()) in events and (vae, Trained(20)) in events
    assert results["in process"] == results["pool"]


def thread_counts() -> list[int]:
    """The threads of every OpenMP and BLAS pool loaded in this process, and torch's."""
    import torch
    from threadpoolctl import threadpool_info

    return [torch.get_num_threads()] + [pool["num_threads"] for pool in threadpool_info()]


def test_runs_use_one_thread_of_every_numerical_library():
    # two processes on two cores, each spinning two OpenMP threads, ran a Gaussian mixture fit
    # three times slower: the workers and the in-process executor keep to one
    with process_pool(1) as pool:
        assert set(pool.submit(thread_counts).result()) == {1}
    before = thread_counts()
    with single_threaded():
        assert set(thread_counts()) == {1}
    assert thread_counts() == before  # restored for the caller


def test_any_executor_will_do():
    groups = tiny_groups()
    # a plain pool: no genbench initializer. Spawned: forking a process that runs torch and
    # dask threads (as this one does by now) can deadlock the child.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        found = dict(execute(groups, "cpu", pool))
    assert sorted(found) == list(range(len(groups)))


def test_the_event_listener_delivers_in_order_and_leaves_no_thread_behind():
    received = []
    before = threading.active_count()
    with EventListener(lambda index, event: received.append((index, event))) as listener:
        sender = listener.sender(3)
        for steps in (1, 2, 3):
            sender(Trained(steps))
        sender.connection.close()
        for _ in range(100):
            listener.drain()
            if len(received) == 3:
                break
            threading.Event().wait(0.02)
    assert received == [(3, Trained(1)), (3, Trained(2)), (3, Trained(3))]
    for _ in range(100):
        if threading.active_count() <= before:
            break
        threading.Event().wait(0.02)
    assert threading.active_count() <= before
    sender(Trained(4))  # the client is gone: the sender says nothing, raises nothing


def test_stopping_a_pool_hides_only_the_cancelled_future_errors_of_its_thread(monkeypatch):
    """CPython < 3.12 lets a stopped pool's manager thread raise InvalidStateError on a
    cancelled future; genbench's one-line message must not be followed by its traceback."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    ignore_cancelled_future_errors()
    ignore_cancelled_future_errors()  # installed once, however often a run is stopped
    for error in (InvalidStateError("CANCELLED"), ValueError("a real bug")):

        def fail(error=error):
            raise error

        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
    assert seen == [ValueError]

"""Where batches of work run: local threads, or a Dask cluster (local or remote).

Work is cut into tasks of several small items (Dask costs about 1 ms per task,
a check about 0.2 ms) or one big item (a video). A task function handles
every item and never raises for bad input, so a task that fails means its
worker died (or the cluster lost it): Dask retries such a task on another
worker (`distributed.scheduler.allowed-failures`, 3 by default); when it
keeps failing, each of its items gets one more task of its own, one such task
at a time (so a file that kills its worker takes no neighbour down with it),
and an item that fails again becomes `failed(item, reason)`: that file's
`failed` line, while the batch goes on. Results are handed to `done` as they
arrive (the progress bar) and returned in input order; an exception from `done`
stops the batch (no further task starts) and propagates.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from igpreflight.records import record
from igpreflight.scale.spec import EngineSpec
from igpreflight.storage.s3uri import is_s3

if TYPE_CHECKING:
    from igpreflight.scale.shard import Shard

T = TypeVar("T")
R = TypeVar("R")


def batches(items: Sequence[T], heavy: Callable[[T], bool], per_task: int) -> list[list[int]]:
    """Indexes of `items` cut into tasks: each heavy item alone, light ones `per_task` a task."""
    out: list[list[int]] = []
    light: list[int] = []
    for i, item in enumerate(items):
        if heavy(item):
            out.append([i])
            continue
        light.append(i)
        if len(light) >= per_task:
            out.append(light)
            light = []
    if light:
        out.append(light)
    return out


def light_batch_size(n_light: int, slots: int, cap: int) -> int:
    """Enough tasks for every slot to get several (load balance), at most `cap` items each."""
    return max(1, min(cap, n_light // (slots * 4) or 1))


def weighted_batches(
    items: Sequence[T],
    heavy: Callable[[T], bool],
    cost: Callable[[T], float],
    budget: float,
    cap: int,
) -> list[list[int]]:
    """Indexes of `items` cut into tasks of about `budget` cost (at most `cap` items):
    each heavy item alone, an item costing `budget` or more alone, cheap ones together.

    A camera photo costs a third of a second to fix and a thumbnail a hundredth:
    counting files would put six photos (two seconds) in one task and leave a worker
    idle at the end while another finishes it."""
    out: list[list[int]] = []
    light: list[int] = []
    spent = 0.0
    for i, item in enumerate(items):
        if heavy(item):
            out.append([i])
            continue
        c = max(0.0, cost(item))
        if light and (spent + c > budget or len(light) >= cap):
            out.append(light)
            light, spent = [], 0.0
        light.append(i)
        spent += c
    if light:
        out.append(light)
    return out


def task_budget(total: float, slots: int, most: float) -> float:
    """A task's share of `total` cost: several tasks per slot (load balance), at most `most`."""
    return max(1.0, min(most, total / (slots * 4)))


def network_map(
    fn: Callable[[T], R], items: Sequence[T], waits: Callable[[T], bool], threads: int
) -> list[R]:
    """`fn` over `items`, in order: the items that wait on the network (`waits`: an
    object probed by ranged GETs) `threads` at a time, which one by one would leave a
    worker's core idle for a round trip per request (tens of ms on a real S3); the
    others (local files, which --deep decodes) one at a time, as the worker has one core."""
    remote = [item for item in items if waits(item)]
    if threads > 1 and len(remote) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(threads, len(remote))) as pool:
            fetched = iter(list(pool.map(fn, remote)))
    else:
        fetched = iter([fn(item) for item in remote])
    return [next(fetched) if waits(item) else fn(item) for item in items]


@record(frozen=False)
class Run(Generic[T, R]):
    """One batch of work: `fn(items) -> results`, the same length, in order."""

    fn: Callable[[list[T]], list[R]]
    failed: Callable[[T, str], R]
    done: Callable[[R], None] | None = None


def run(spec: EngineSpec, work: Run[T, R], items: Sequence[T], tasks: list[list[int]]) -> list[R]:
    """Every item's result, in input order, on an engine opened for this one batch."""
    with Session(spec) as engine:
        return engine.run(work, items, tasks)


class Session:
    """An engine open for a whole run: its phases (fix plans, then executes) share one
    Dask client, and a local cluster is started once, at the first batch that has
    tasks, not once per phase. Closing it stops a cluster it started."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self._client: Any = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, work: Run[T, R], items: Sequence[T], tasks: list[list[int]]) -> list[R]:
        """Every item's result, in input order; KeyboardInterrupt propagates after cleanup."""
        results: list[R | None] = [None] * len(items)

        def settle(idx: list[int], values: list[R]) -> None:
            for i, value in zip(idx, values, strict=True):
                results[i] = value
                if work.done is not None:
                    work.done(value)

        if self.spec.kind == "dask" and tasks:
            if self._client is None:
                self._client = dask_client(self.spec)
            _run_dask(self._client, work, items, tasks, settle)
        else:
            _run_local(self.spec, work, items, tasks, settle)
        return [r for r in results if r is not None]

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


def _run_local(spec, work, items, tasks, settle) -> None:  # noqa: ANN001
    def call(idx: list[int]) -> list[Any]:
        try:
            return work.fn([items[i] for i in idx])
        except Exception as exc:  # noqa: BLE001 - a task function should not raise; contain it
            return [work.failed(items[i], _one_line(exc)) for i in idx]

    if spec.slots == 1 or len(tasks) <= 1:
        for idx in tasks:
            settle(idx, call(idx))
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed  # loaded when used

    pool = ThreadPoolExecutor(max_workers=spec.slots)
    futures = {pool.submit(call, idx): idx for idx in tasks}
    try:
        for fut in as_completed(futures):
            settle(futures[fut], fut.result())
    except BaseException:  # Ctrl-C, or `done` stopping the batch: nothing more starts
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def dask_client(spec: EngineSpec):  # noqa: ANN201 - distributed.Client
    """A client of the cluster: an existing scheduler, or a local cluster of processes."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise RuntimeError("--engine dask needs Dask: pip install 'igpreflight[dask]'") from exc
    if spec.scheduler:
        return Client(spec.scheduler, timeout="30s")
    return Client(local_cluster(spec.slots))


# What the cluster `--workers N` starts does between tasks. Dask's defaults suit a
# cluster with a dashboard: a 20 ms event-loop tick, a 100 ms memory poll of every
# worker, a 500 ms system monitor, a statistical profiler. Idle, they kept a tenth of a
# core busy (bench/bench_s3_dask.py), taken from the fixes on a laptop's cores. Nothing
# shows the profiler's samples (no dashboard); a 500 ms memory poll still stops a
# runaway worker long before it can exhaust a machine our own caps did not protect.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "500ms",
}


def local_cluster(workers: int):  # noqa: ANN201 - distributed.LocalCluster
    """The cluster `--workers N` starts: N single-threaded worker processes (fixes are
    CPU-bound and an image fix holds the GIL between Pillow calls), no dashboard, and
    quiet between tasks (LOCAL_CLUSTER_CONFIG)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's HTTP server (health, metrics) still starts without the
            # dashboard, on 8787 by default: with that port taken (a second run, a
            # `dask scheduler` on this host) Dask printed a UserWarning on the user's
            # terminal. Any free port on loopback instead.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=50,
            preload=[__name__],  # dask_setup below, in every worker it starts
        )


def dask_setup(worker: object) -> None:
    """In each worker of a cluster `--workers N` starts: ignore Ctrl-C. The terminal
    sends it to the whole process group, and each worker printed a KeyboardInterrupt
    traceback over the run's own message; the client stops them itself when it closes
    the cluster."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_dask(client, work, items, tasks, settle) -> None:  # noqa: ANN001
    """Submit every task in one message and collect what has finished in one gather
    per round: a submit and a gather per task cost the client's process about 4 ms
    of CPU a task (its scheduler shares the process), half of it these round trips,
    CPU a local cluster's workers needed from the same cores."""
    from distributed import as_completed as dask_completed

    pending: dict[Any, tuple[list[int], int]] = {}
    # Items of failed tasks, retried one task at a time, so a file that kills
    # its worker takes no innocent neighbour down with it again.
    retry: deque[tuple[int, int]] = deque()
    retrying = False

    def submit(groups: list[list[int]], attempt: int = 0) -> list[Any]:
        payloads = [[items[i] for i in idx] for idx in groups]
        futures = client.map(work.fn, payloads, pure=False)
        for fut, idx in zip(futures, groups, strict=True):
            pending[fut] = (idx, attempt)
        return futures

    try:
        stream = dask_completed(submit(tasks), loop=client.loop)
        for batch in stream.batches():
            for fut, values, error in _collect(client, batch):
                idx, attempt = pending.pop(fut)
                retrying = retrying and attempt == 0
                if error is None:
                    settle(idx, values)
                elif attempt == 0:  # each file gets one more task of its own
                    retry.extend((i, 1) for i in idx)
                else:
                    reason = f"worker failed: {_one_line(error)}"
                    settle(idx, [work.failed(items[idx[0]], reason)])
            if retry and not retrying:
                i, n = retry.popleft()
                stream.update(submit([[i]], n))
                retrying = True
    except BaseException:  # Ctrl-C, or `done` stopping the batch: nothing more runs
        client.cancel(list(pending))
        raise


def _collect(client, batch):  # noqa: ANN001, ANN202
    """(future, its values, None) or (future, None, why it failed) for futures that
    are done: the finished ones fetched in one gather, a failed one (its worker died:
    KilledWorker; the cluster lost it) with its exception."""
    finished = [f for f in batch if f.status == "finished"]
    got: dict[Any, Any] = {}
    if finished:
        with contextlib.suppress(Exception):  # a result lost since: one at a time below
            got = dict(zip(finished, client.gather(finished), strict=True))
    for fut in batch:
        if fut in got:
            yield fut, got[fut], None
            continue
        try:
            yield fut, client.gather(fut), None
        except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost task
            yield fut, None, exc


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]


def needs_scale(
    paths: Iterable[str], out: str | None, engine: EngineSpec, shard: Shard | None
) -> bool:
    """Whether `fix` takes the scaled driver (`scale.fix`): s3:// anywhere, Dask, or
    a shard. Here, not there, so a local fix never loads the S3 and Dask drivers."""
    return (
        any(is_s3(p) for p in paths)
        or (out is not None and is_s3(out))
        or engine.kind != "local"
        or shard is not None
    )

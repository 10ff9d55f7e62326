"""The cluster `--workers N` starts: single-threaded worker processes that are quiet
between tasks (Dask's dashboard-minded defaults kept a tenth of a core busy on an idle
two-worker cluster, CPU the fixes on a laptop's cores needed)."""

from __future__ import annotations

import contextlib
import socket
import warnings

from distributed import Client

from igpreflight.scale.engine import local_cluster


def _callbacks(dask_worker) -> dict[str, float]:  # noqa: ANN001 - a distributed.Worker
    return {name: pc.callback_time for name, pc in dask_worker.periodic_callbacks.items()}


def test_workers_it_starts_tick_and_poll_memory_every_500_ms_without_profiler():
    with local_cluster(2) as cluster, Client(cluster) as client:
        workers = client.run(_callbacks)
        threads = client.run(lambda dask_worker: dask_worker.state.nthreads)
    assert len(workers) == 2 and set(threads.values()) == {1}
    for callbacks in workers.values():
        assert callbacks["tick"] == 500
        assert callbacks["memory_monitor"] == 500
        assert callbacks["monitor"] == 2000
        assert not any(name.startswith("profile") for name in callbacks)


def test_a_taken_dashboard_port_prints_no_warning():
    """The scheduler's HTTP server (health, metrics) starts even without a dashboard,
    on 8787 by default; with 8787 taken (a second run, a `dask scheduler` on this
    host) Dask printed a four-line UserWarning on the user's terminal. It takes any
    free port on loopback."""
    taken = socket.socket()
    with contextlib.suppress(OSError):  # already taken by someone else: as good
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with local_cluster(1) as cluster:
                host = cluster.scheduler.http_server._sockets  # noqa: SLF001 - where it listens
                addresses = {sock.getsockname()[0] for sock in host.values()}
    finally:
        taken.close()
    assert [str(w.message) for w in caught if "8787" in str(w.message)] == []
    assert addresses == {"127.0.0.1"}

"""The cluster `--workers N` starts: single-threaded worker processes that are quiet
between tasks (Dask's dashboard-minded defaults kept a tenth of a core busy on an idle
two-worker cluster, CPU the fixes on a laptop's cores needed)."""

from __future__ import annotations

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

"""Worker heartbeats, so a dead worker's posts come back to the queue.

A small table beside DBOS's: executor id, host, pid, last heartbeat. A worker whose
heartbeat is older than IGPREFLIGHT_WORKER_STALE seconds (or whose process is gone,
on the same host) is dead: its pending workflows go back to the queue, where exactly
one live worker dequeues each. A worker that stops cleanly marks itself gone at once.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from igpreflight.publish.durable.tables import open_tables, sa_url

__all__ = ["HEARTBEAT", "STALE_AFTER", "WorkerRegistry", "alive", "sa_url"]

HEARTBEAT = float(os.environ.get("IGPREFLIGHT_HEARTBEAT", "1.0"))
STALE_AFTER = float(os.environ.get("IGPREFLIGHT_WORKER_STALE", "30"))


class WorkerRegistry:
    """The heartbeat table (see the module docstring)."""

    def __init__(self, url: str, executor_id: str) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.executor_id = executor_id
        # Workers on one host may see each other's pids only in one pid namespace: set
        # IGPREFLIGHT_WORKER_HOST per container when containers share a hostname.
        self.host = os.environ.get("IGPREFLIGHT_WORKER_HOST") or socket.gethostname()
        meta = sa.MetaData()
        self.table = sa.Table(
            "igpreflight_workers",
            meta,
            sa.Column("executor_id", sa.String(64), primary_key=True),
            sa.Column("host", sa.String(255), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("seen", sa.Float, nullable=False),
        )
        self.engine = open_tables(url, meta)

    def beat(self) -> None:
        t = self.table
        with self.engine.begin() as c:
            n = c.execute(
                t.update().where(t.c.executor_id == self.executor_id).values(seen=time.time())
            ).rowcount
            if not n:
                c.execute(
                    t.insert().values(
                        executor_id=self.executor_id,
                        host=self.host,
                        pid=os.getpid(),
                        seen=time.time(),
                    )
                )

    def rows(self) -> list[Any]:
        t = self.table
        with self.engine.begin() as c:
            return list(c.execute(self.sa.select(t.c.executor_id, t.c.host, t.c.pid, t.c.seen)))

    def dead(self, stale_after: float = STALE_AFTER) -> list[str]:
        now = time.time()
        out = []
        for ex, host, pid, seen in self.rows():
            if ex == self.executor_id:
                continue
            if (host == self.host and not alive(pid)) or now - seen > stale_after:
                out.append(ex)
        return out

    def live(self, stale_after: float = STALE_AFTER) -> set[str]:
        dead = set(self.dead(stale_after))
        return {r[0] for r in self.rows()} - dead

    def forget(self, executors: list[str]) -> None:
        if executors:
            with self.engine.begin() as c:
                c.execute(self.table.delete().where(self.table.c.executor_id.in_(executors)))

    def leave(self) -> None:
        """A clean exit: mark this worker gone at once (its pending posts are recovered
        by the next worker without waiting for the heartbeat to go stale)."""
        try:
            with self.engine.begin() as c:
                t = self.table
                c.execute(t.update().where(t.c.executor_id == self.executor_id).values(seen=0.0))
        finally:
            self.engine.dispose()

    def dispose(self) -> None:
        self.engine.dispose()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is dead too.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True

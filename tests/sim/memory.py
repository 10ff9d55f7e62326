"""The durable queue in memory, with DBOS's semantics as the publisher relies on them.

- A workflow is a row: status (ENQUEUED, PENDING on an executor, SUCCESS), its input
  (the PostSpec), the results of its operations in order, its events, its output.
- An operation's result is recorded when the operation completes; a process that dies
  during one records nothing of it (and a fault may cut just before or after a write).
- Recovery runs the workflow again from the start: recorded results are replayed in
  order (no step body runs), and execution goes on from the first unrecorded one.
- One queue, partitioned by account: at most `concurrency` workflows of a partition are
  PENDING at once, across all executors; each partition dequeues in enqueue order, a
  delayed workflow only once its delay has passed.
- A dead executor's PENDING workflows go back to the queue when it is recovered
  (its heartbeat went stale), where one live worker dequeues each.

`MemoryClient` answers the calls the real code makes of a DBOSClient (the enqueuer and
the readers in igpreflight/publish/durable/), so the simulator runs those too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from igpreflight.publish.durable.view import PostView
from igpreflight.publish.steps.spec import PREFIX, PostSpec
from igpreflight.states import PostState


@dataclass
class Flow:
    wid: str
    spec: PostSpec
    order: int
    not_before: float
    status: str = "ENQUEUED"  # ENQUEUED, PENDING, SUCCESS, ERROR
    executor: str | None = None
    results: list[Any] = field(default_factory=list)
    events: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] | None = None

    @property
    def partition(self) -> str:
        return self.spec.account.name


class MemoryDB:
    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.flows: dict[str, Flow] = {}
        self._order = 0

    def put(self, spec: PostSpec, delay: float = 0.0) -> None:
        if spec.wid in self.flows:  # enqueueing an id that exists attaches to it
            return
        self._order += 1
        self.flows[spec.wid] = Flow(spec.wid, spec, self._order, self.clock.now() + delay)

    def pending(self, partition: str) -> int:
        return sum(
            1 for f in self.flows.values() if f.status == "PENDING" and f.partition == partition
        )

    def next_for(self, partition: str, now: float) -> Flow | None:
        waiting = [
            f
            for f in self.flows.values()
            if f.status == "ENQUEUED" and f.partition == partition and f.not_before <= now
        ]
        return min(waiting, key=lambda f: f.order) if waiting else None

    def ended_view(self, wid: str) -> tuple[bool, PostView | None]:
        """(exists, the view it ended with, or None while it goes on)."""
        f = self.flows.get(wid)
        if f is None:
            return False, None
        if f.status == "SUCCESS":
            return True, PostView.from_dict(f.output) or PostView(PostState.FAILED)
        if f.status == "ERROR":  # as the DBOS port reads an errored workflow: failed
            return True, PostView(PostState.FAILED)
        if f.events.get("settled"):
            return True, PostView.from_dict(f.events.get("state"))
        return True, None


class MemoryClient:
    """The DBOSClient calls of igpreflight/publish/durable/queue.py and queries.py."""

    def __init__(self, db: MemoryDB) -> None:
        self.db = db

    def destroy(self) -> None:
        pass

    def enqueue(self, options: dict[str, Any], spec: PostSpec) -> None:
        self.db.put(spec, float(options.get("delay_seconds") or 0.0))

    def register_queue(self, *args: Any, **kwargs: Any) -> None:
        pass

    def cancel_workflow(self, wid: str) -> None:
        raise AssertionError("every workflow of the simulator is of this version")

    def get_event(self, wid: str, key: str, timeout_seconds: float = 0) -> Any:
        f = self.db.flows.get(wid)
        return f.events.get(key) if f else None

    def list_workflows(
        self,
        *,
        workflow_id_prefix: str | None = None,
        workflow_ids: list[str] | None = None,
        status: str | None = None,
        **_: Any,
    ) -> list[Any]:
        now = self.db.clock.now()
        out = []
        for f in sorted(self.db.flows.values(), key=lambda f: f.order):
            if workflow_ids is not None and f.wid not in workflow_ids:
                continue
            if workflow_id_prefix is not None and not f.wid.startswith(workflow_id_prefix):
                continue
            shown = "DELAYED" if f.status == "ENQUEUED" and f.not_before > now else f.status
            if status is not None and shown != status:
                continue
            out.append(
                SimpleNamespace(
                    workflow_id=f.wid,
                    status=shown,
                    output=f.output,
                    input=SimpleNamespace(args=(f.spec,)),
                    executor_id=f.executor,
                    created_at=f.order,  # DBOS's is epoch ms: only the order matters
                    updated_at=None,
                    error=None,
                )
            )
        return out


class MemoryLedger:
    """What the steps ask of the database: this database's own publishes."""

    def __init__(self, db: MemoryDB) -> None:
        self.db = db

    def _published(self, account: str) -> list[dict[str, Any]]:
        return [
            f.output
            for f in self.db.flows.values()
            if f.wid.startswith(f"{PREFIX}{account}:")
            and f.status == "SUCCESS"
            and f.output
            and f.output.get("state") == PostState.PUBLISHED
        ]

    def our_media_ids(self, account: str) -> set[str]:
        return {str(o["media_id"]) for o in self._published(account) if o.get("media_id")}

    def own_publishes(self, account: str, since: float) -> list[float]:
        return [
            float(o["published_at"])
            for o in self._published(account)
            if not o.get("already") and o.get("published_at", 0) >= since
        ]

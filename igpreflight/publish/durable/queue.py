"""Putting posts on the durable queue, through a client that cannot run anything.

`Enqueuer` wraps DBOS's `DBOSClient`: it writes workflow rows and reads states, and
has no executor, no queue thread and no recovery, so `publish --enqueue` (and every
run's enqueue) never dequeues a post nor makes a Graph call, by construction.

Each post is enqueued once per attempt: a post whose latest attempt is published,
running, scheduled or queued is left alone (never twice); one whose latest attempt
failed gets a new attempt; one that ended held or uncertain gets a new attempt that
inherits its container (and, when uncertain, settles it first).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from igpreflight.publish.durable import APP_NAME, APP_VERSION, QUEUE
from igpreflight.publish.durable.dbfaults import DatabaseFault, fault_line
from igpreflight.publish.durable.queries import latest_attempts, settled_view, spec_of, workflows
from igpreflight.publish.durable.view import PostView
from igpreflight.publish.params import slots_for
from igpreflight.publish.steps.containers import first_wait
from igpreflight.publish.steps.spec import ATTEMPT, Inherited, PostSpec, attempt_of
from igpreflight.states import PostState

QUEUE_POLL = 0.2  # seconds between two looks of DBOS's queue thread
DEFAULT_AHEAD = 5
# Scheduled posts start this long before publish_at, so their containers are ready.
SCHEDULE_LEAD = float(os.environ.get("IGPREFLIGHT_SCHEDULE_LEAD", "120"))
ENDED_BADLY = ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
RETRIED = (PostState.FAILED, PostState.DUPLICATE, PostState.CANCELLED)
TAKEN_UP = (PostState.HELD, PostState.UNCERTAIN)  # by the next run or worker


@dataclass(frozen=True)
class Attempt:
    """Which attempt of a post to run: `n`; `known` when that one is already on the
    queue (leave it); `published` when it is; what it inherits from the one before."""

    n: int
    known: bool = False
    published: bool = False
    inherit: Inherited | None = None


def inherited(view: PostView | None) -> Inherited | None:
    """What an attempt that ended held or uncertain hands to the next one."""
    if view is None:
        return None
    held = view.state == PostState.HELD
    earlier = tuple(view.made or ())
    if not view.container_id:
        return Inherited(held=True, earlier=earlier) if held else carried(view)
    tainted = view.state == PostState.UNCERTAIN or view.uncertain_since is not None
    return Inherited(
        container_id=view.container_id,
        tainted=tainted,
        since=view.uncertain_since,
        sent_before=view.sent_before or tainted,
        created_at=view.created_at,
        held=held,
        earlier=earlier,
    )


def carried(view: PostView | None) -> Inherited | None:
    """What any attempt hands to the next one, even a failed one: the containers it
    and the attempts before it made. A crash can lose which of them the phone app
    published, and the gate would call that media a duplicate (pub17, seed 966)."""
    earlier = tuple(view.made or ()) if view is not None else ()
    return Inherited(earlier=earlier) if earlier else None


def next_attempt(api: Any, base: str) -> Attempt:
    latest, status = 0, None
    for w in api.list_workflows(workflow_id_prefix=base, load_input=False):
        n = attempt_of(w.workflow_id, base)
        if n is not None and n > latest:
            latest, status = n, w
    if status is None:
        return Attempt(1)
    version = getattr(status, "app_version", None)
    if version not in (None, APP_VERSION) and status.status in ("PENDING", "ENQUEUED", "DELAYED"):
        # An earlier version's unfinished post: no worker of this version recovers it.
        # It is cancelled and a new attempt takes over from its last state.
        api.cancel_workflow(status.workflow_id)
        last = PostView.from_dict(api.get_event(status.workflow_id, "state", timeout_seconds=0))
        if last is not None and last.state in (PostState.PUBLISHING, PostState.UNCERTAIN):
            last = replace(last, state=PostState.UNCERTAIN, uncertain_since=time.time())
        return Attempt(latest + 1, inherit=inherited(last))
    if status.status in ENDED_BADLY:
        # Ended by an error DBOS recorded: if it was publishing, settle that first.
        last = PostView.from_dict(api.get_event(status.workflow_id, "state", timeout_seconds=0))
        if last is not None and last.state in (PostState.PUBLISHING, PostState.UNCERTAIN):
            last = replace(last, state=PostState.UNCERTAIN, uncertain_since=time.time())
            return Attempt(latest + 1, inherit=inherited(last))
        return Attempt(latest + 1, inherit=carried(last))
    view = settled_view(api, status)
    if view is None:
        return Attempt(latest, known=True)
    if view.state == PostState.PUBLISHED:
        return Attempt(latest, known=True, published=True)
    if view.state in TAKEN_UP:
        return Attempt(latest + 1, inherit=inherited(view))
    return Attempt(latest + 1, inherit=carried(view))


def base_of(wid: str) -> str:
    return wid.split(ATTEMPT, 1)[0]


class Enqueuer:
    """A DBOSClient on the publish database (see the module docstring)."""

    def __init__(self, url: str, ahead: int | None = None, *, client: Any = None) -> None:
        self.url = url
        if client is not None:  # a client of the caller's (the simulator's in-memory one)
            self.client = client
            return
        from dbos import DBOS, DBOSClient

        try:
            DBOS.migrate(url)  # the schema, when this is the database's first run
            self.client = DBOSClient(
                system_database_url=url, application_name=APP_NAME, retry_connection_errors=False
            )
            if ahead is not None:
                self.client.register_queue(
                    QUEUE, partition_concurrency=max(0, ahead) + 1, polling_interval_sec=QUEUE_POLL
                )
        except Exception as exc:
            line = fault_line(exc, url)
            if line is None:
                raise
            raise DatabaseFault(line) from None

    def close(self) -> None:
        self.client.destroy()

    def __enter__(self) -> Enqueuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enqueue(
        self, specs: Iterable[PostSpec], now: float | None = None
    ) -> tuple[list[str], set[str]]:
        """Each post once (see the module docstring): (workflow ids, those already
        published before this run)."""
        now = time.time() if now is None else now
        ids: list[str] = []
        done: set[str] = set()
        resolved: dict[str, str] = {}  # first workflow id -> the attempt of this run
        for spec in specs:
            a = next_attempt(self.client, spec.base)
            inherit = a.inherit if (a.n > 1 or a.known) else spec.inherit
            prev = resolved.get(spec.prev or "", spec.prev)
            spec = replace(spec, attempt=a.n, prev=prev, inherit=inherit)
            resolved[spec.base] = spec.wid
            ids.append(spec.wid)
            if a.published:
                done.add(spec.wid)
            if not a.known:
                self.put(spec, now)
        return ids, done

    def put(self, spec: PostSpec, now: float) -> None:
        options: dict[str, Any] = {
            "workflow_name": "igp.post",
            "queue_name": QUEUE,
            "workflow_id": spec.wid,
            "queue_partition_key": spec.account.name,
            "app_version": APP_VERSION,
        }
        if spec.publish_at is not None and spec.refusal is None:
            slots = slots_for(spec.post, spec.media_type, list(spec.kinds))
            lead = SCHEDULE_LEAD + first_wait(spec.settings, slots)
            delay = spec.publish_at - lead - now
            if delay > 0:
                options["delay_seconds"] = delay
        self.client.enqueue(options, spec)

    def taken_up(self, *, due_only: bool, now: float | None = None) -> list[str]:
        """A new attempt for every post whose latest attempt ended held or uncertain
        (held ones only once their time has come, with `due_only`): the worker's and
        the run's way to decide them again. Returns the new workflow ids."""
        now = time.time() if now is None else now
        latest = latest_attempts(workflows(self.client))
        todo: list[tuple[PostSpec, PostView]] = []
        for w in latest:
            spec, view = spec_of(w), settled_view(self.client, w)
            if spec is None or view is None or view.state not in TAKEN_UP:
                continue
            if due_only and view.state == PostState.HELD and (view.until or 0) > now:
                continue
            todo.append((spec, view))
        todo.sort(key=lambda sv: (sv[0].account.name, sv[0].seq))
        wids = {base_of(w.workflow_id): w.workflow_id for w in latest}
        ids = []
        for spec, view in todo:
            prev = wids.get(base_of(spec.prev), spec.prev) if spec.prev else None
            new = replace(spec, attempt=spec.attempt + 1, prev=prev, inherit=inherited(view))
            wids[spec.base] = new.wid
            self.put(new, now)
            ids.append(new.wid)
        return ids

    def states(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        from igpreflight.publish.durable.queries import post_states

        return post_states(self.client, ids)

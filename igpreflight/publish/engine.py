"""Durable publishing for many accounts on DBOS Transact: one workflow per post.

The workflow of a post (id ``igp:<account>:<post id>``) is the only state machine:
its recorded steps are the journal. It is enqueued on one queue partitioned by
account, so accounts run in parallel while each keeps its order and its quota:

    [scheduled: enqueued with a delay, a little before publish_at]
    create containers -> poll until FINISHED            (up to --ahead posts at once)
    wait for the account's previous post to settle      (strict order per account)
    sleep until publish_at                              (durable)
    gate: recent media (duplicate?) and quota (held?)   (read once per account per run)
    media_publish, settling first when resumed          (never twice)

Exactly once: DBOS records each step's result, so a resumed workflow skips what
is done; the one step that may be cut mid-call is media_publish, and a resumed
execution (or any retry) asks the container for PUBLISHED before sending it again.
A worker that dies leaves its workflows PENDING under its executor id; the
others see its heartbeat stop (or its pid gone, on the same host) and hand them
back to the queue, where exactly one worker dequeues each.

Nothing secret is recorded: a workflow is called with the account's *name*, user
id and token variable name; the token is read from the environment in each step.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from igpreflight.model import Post
from igpreflight.preflight.manifest import format_rfc3339, parse_rfc3339
from igpreflight.publish import flow
from igpreflight.publish.accounts import Account
from igpreflight.publish.params import effective_media_type, is_video_item
from igpreflight.publish.settings import PublishSettings

log = logging.getLogger("igpreflight.publish")

APP_NAME = "igpreflight"
APP_VERSION = "igpreflight-publish-1"  # one version for every worker: recovery matches it
QUEUE = "igpreflight_publish"
PREFIX = "igp:"
DEFAULT_DB_NAME = "publish.sqlite"
DEFAULT_AHEAD = 5
DEFAULT_DEDUPE_WINDOW = 24 * 3600.0
HEARTBEAT = float(os.environ.get("IGPREFLIGHT_HEARTBEAT", "1.0"))
STALE_AFTER = float(os.environ.get("IGPREFLIGHT_WORKER_STALE", "30"))
# Scheduled posts start this long before publish_at, so their containers are ready.
SCHEDULE_LEAD = float(os.environ.get("IGPREFLIGHT_SCHEDULE_LEAD", "120"))
QUEUE_POLL = 0.2  # seconds between two looks of DBOS's queue thread
# How long `close` lets running posts unwind (a Graph call in flight ends first).
CLOSE_WAIT = 40.0

# Post states (status, reports).
PUBLISHED, FAILED, HELD, SCHEDULED, DUPLICATE = (
    "published",
    "failed",
    "held",
    "scheduled",
    "duplicate",
)
QUEUED, RUNNING, INTERRUPTED = "queued", "running", "interrupted"
SETTLED = {PUBLISHED, FAILED, HELD, SCHEDULED, DUPLICATE}


ATTEMPT = "~"  # a post's second attempt is igp:<account>:<post>~2 (see Engine.enqueue)
RETRIED = {FAILED, DUPLICATE}  # settled states a new `publish` run tries again


def workflow_id(account: str, post_id: str, attempt: int = 1) -> str:
    base = f"{PREFIX}{account}:{post_id}"
    return base if attempt <= 1 else f"{base}{ATTEMPT}{attempt}"


def attempt_of(wid: str, base: str) -> int | None:
    """The attempt number of workflow `wid` of the post whose first id is `base`."""
    if wid == base:
        return 1
    tail = wid[len(base) :]
    if wid.startswith(base) and tail[:1] == ATTEMPT and tail[1:].isdigit():
        return int(tail[1:])
    return None


def default_db(manifest: str | os.PathLike[str]) -> str:
    """A SQLite file beside the manifest, where the journal has always been."""
    base = Path(manifest).resolve().parent if str(manifest) != "-" else Path.cwd()
    return str(base / ".igpreflight" / DEFAULT_DB_NAME)


def db_url(db: str) -> str:
    """`postgresql://...` and `sqlite:///...` as given; a path becomes a SQLite URL."""
    if "://" in db:
        return db
    path = Path(db).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class PostSpec:
    """What a post's workflow is started with (recorded by DBOS: no secrets)."""

    account: Account
    post: Post
    media_type: str
    kinds: tuple[bool, ...]
    seq: int
    prev: str | None  # the workflow this one waits for (the account's previous post)
    publish_at: float | None
    settings: PublishSettings
    dedupe_window: float | None  # None: --allow-duplicate
    legacy_media_id: str | None = None  # an earlier version's journal says published
    legacy_published: bool = False
    legacy_container: str | None = None  # ...or says media_publish was sent for this one
    attempt: int = 1  # a post that failed is tried again by the next run: attempt 2...

    @property
    def base(self) -> str:
        return workflow_id(self.account.name, self.post.id)

    @property
    def wid(self) -> str:
        return workflow_id(self.account.name, self.post.id, self.attempt)


# ---- the workflow ---------------------------------------------------------------------

_RUNTIME: flow.Runtime | None = None


class _Active:
    """How many workflows run in this process (close waits for them to unwind)."""

    def __init__(self) -> None:
        self.n = 0
        self.cond = threading.Condition()

    def __enter__(self) -> None:
        with self.cond:
            self.n += 1

    def __exit__(self, *exc: object) -> None:
        with self.cond:
            self.n -= 1
            self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.n == 0, timeout)


_ACTIVE = _Active()


def _rt() -> flow.Runtime:
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = flow.Runtime()
    return _RUNTIME


def _dbos() -> Any:
    from dbos import DBOS

    return DBOS


def _register() -> tuple[Callable[..., Any], ...]:
    """Workflow and steps, registered with DBOS once per process (before launch)."""
    DBOS = _dbos()

    @DBOS.step(name="igp.now")
    def now_step() -> float:
        return _rt().clock.now()

    @DBOS.step(name="igp.create")
    def create_step(
        spec: PostSpec, phase: str, children: list[str] | None, only: list[int] | None
    ) -> dict:
        slots = _phase_slots(spec, phase, only)
        return flow.create_containers(
            _rt(), spec.account, spec.settings, spec.post, spec.media_type, slots, children
        )

    @DBOS.step(name="igp.wait")
    def wait_step(spec: PostSpec, phase: str, ids: list[str], created: float) -> dict:
        return flow.wait_ready(
            _rt(), spec.account, spec.settings, _phase_slots(spec, phase), ids, created
        )

    @DBOS.step(name="igp.gate")
    def gate_step(spec: PostSpec) -> dict:
        return flow.gate(
            _rt(),
            spec.account,
            spec.settings,
            spec.post,
            spec.media_type,
            dedupe_window=spec.dedupe_window,
            ours=lambda: _our_media_ids(spec.account.name),
        )

    @DBOS.step(name="igp.publish")
    def publish_step(spec: PostSpec, cid: str) -> dict:
        status = DBOS.get_workflow_status(spec.wid)
        resumed = bool(status and (status.recovery_attempts or 0) > 1)
        got = flow.publish(_rt(), spec.account, spec.settings, cid, settle_first=resumed)
        if "media_id" in got:
            got["published_at"] = _rt().clock.now()  # counted when the quota is unreadable
            flow.note_published(
                _rt(), spec.account, spec.post.caption, spec.media_type, got["media_id"]
            )
        else:
            flow.release_quota(_rt(), spec.account)
        return got

    @DBOS.step(name="igp.settle_legacy")
    def legacy_step(spec: PostSpec) -> dict:
        """An earlier version sent media_publish for this container: does it show PUBLISHED?"""
        cid = spec.legacy_container
        assert cid
        try:
            code, _ = flow._retrying(
                _rt(), spec.account, spec.settings, lambda c: c.container_status(cid)
            )
        except Exception as exc:  # gone or unreadable: the post starts afresh
            log.info("legacy container %s: %s", cid, exc)
            return {}
        return {"media_id": None} if code == "PUBLISHED" else {}

    @DBOS.workflow(name="igp.publish_post")
    def publish_post(spec: PostSpec) -> dict:
        with _ACTIVE:
            if flow.STOPPING.is_set():
                raise flow.Abandoned()  # dequeued while closing: the next worker runs it
            return _run(
                spec, now_step, create_step, wait_step, gate_step, publish_step, legacy_step
            )

    return (publish_post,)


def _state(state: str, **fields: Any) -> None:
    _dbos().set_event("state", {"state": state, **fields})


def _settle(result: dict) -> dict:
    who, state = result["post_id"], result["state"]
    if state == PUBLISHED:
        log.info("post %s published: %s", who, result.get("media_id") or "(via its container)")
    else:
        log.warning("post %s %s: %s", who, state, result.get("message"))
    DBOS = _dbos()
    DBOS.set_event("state", result)
    DBOS.set_event("settled", True)
    return result


def _run(spec: PostSpec, now, create, wait, gate, publish, legacy) -> dict:  # noqa: ANN001
    """The post's life; deterministic given its recorded steps (time comes from a step)."""
    base = {"account": spec.account.name, "post_id": spec.post.id, "media_type": spec.media_type}
    if spec.legacy_published:
        return _settle(
            {
                **base,
                "state": PUBLISHED,
                "media_id": spec.legacy_media_id,
                "source": "journal",
                "already": True,
            }
        )
    if spec.legacy_container:
        got = legacy(spec)
        if "media_id" in got:
            return _settle(
                {
                    **base,
                    "state": PUBLISHED,
                    "media_id": None,
                    "source": "container",
                    "container_id": spec.legacy_container,
                    "already": True,
                }
            )
    cid: str | None = None
    # A post that fails before its turn settles at once; the posts after it then wait
    # for the post before it (`before_turn`), so a failure never lets a later post jump.
    early = {"before_turn": spec.prev} if spec.prev else {}
    rounds = spec.settings.recreate_attempts + 1
    last: dict = {}
    children: list[str] | None = None
    n = 0
    while n < rounds:
        _state(RUNNING, step="containers")
        cid, last, kids = _prepare(spec, create, wait, children)
        children = None
        if cid is None:
            if "held" in last:
                _hold(last, None)
                continue
            if last.get("recreate"):
                n += 1
                continue
            return _settle({**base, "state": FAILED, **last["failed"], **early})
        if early:
            _wait_turn(spec, cid)
            early = {}
        if spec.publish_at is not None:
            delay = spec.publish_at - now()
            if delay > 0:
                _state(SCHEDULED, until=spec.publish_at, container_id=cid)
                _wait_until(spec.publish_at)
        while True:
            _state(RUNNING, step="gate", container_id=cid)
            g = gate(spec)
            if "duplicate" in g:
                return _settle(
                    {
                        **base,
                        "state": DUPLICATE,
                        "media_id": g["duplicate"],
                        "message": f"already on Instagram ({g['duplicate']})",
                    }
                )
            if "failed" in g:  # the account was stopped (reconnect-auth)
                return _settle({**base, "state": FAILED, "container_id": cid, **g["failed"]})
            if "held" in g:
                _hold(g, cid)
                continue
            _state(RUNNING, step="publishing", container_id=cid)
            last = publish(spec, cid)
            if "media_id" in last:
                return _settle(
                    {
                        **base,
                        "state": PUBLISHED,
                        "media_id": last["media_id"],
                        "source": last["source"],
                        "container_id": cid,
                        "published_at": last.get("published_at"),
                    }
                )
            if "held" in last:
                _hold(last, cid)
                continue
            break
        if not last.get("recreate"):
            return _settle({**base, "state": FAILED, "container_id": cid, **last["failed"]})
        n += 1
        children = kids  # a carousel's children stay: only the parent is rebuilt
    failed = last.get("failed") or {"message": "gave up recreating the container"}
    return _settle(
        {
            **base,
            "state": FAILED,
            "container_id": cid,
            **failed,
            "message": f"gave up after {rounds} containers: {failed.get('message')}",
            **early,
        }
    )


def _hold(why: dict, cid: str | None) -> None:
    """Held (quota, a long rate limit): say why and until when, then sleep until then."""
    _state(
        HELD,
        message=why["held"],
        until=why["until"],
        rule=why.get("rule"),
        error_class=why.get("error_class", "wait-quota"),
        container_id=cid,
    )
    _wait_until(why["until"])


def _wait_until(until: float) -> None:
    """Sleep until `until` (a time from a recorded step, so a resumed workflow waits
    for the same moment); ends with Abandoned when the engine closes."""
    while (left := until - _rt().clock.now()) > 0:
        if flow.STOPPING.wait(min(left, 1.0)):
            raise flow.Abandoned()


def _wait_turn(spec: PostSpec, cid: str) -> None:
    """Until the account's previous post is settled. While that one is held or
    scheduled, so is this one (and says so), so `publish` and `worker --until-idle`
    do not wait on a post that cannot move."""
    DBOS = _dbos()
    prev = spec.prev
    while prev:
        _wait_settled(spec, prev, cid)
        ev = DBOS.get_event(prev, "state", timeout_seconds=0) or {}
        # Settled by failing before its own turn: its predecessor may still be unsettled.
        prev = ev.get("before_turn") if ev.get("state") == FAILED else None


def _wait_settled(spec: PostSpec, before: str, cid: str) -> None:
    """Until workflow `before` is settled (this post held or scheduled meanwhile when
    that one is)."""
    DBOS = _dbos()
    shown = None
    timeout = 2.0
    while DBOS.get_event(before, "settled", timeout_seconds=timeout) is None:
        if flow.STOPPING.is_set():
            raise flow.Abandoned()
        prev = DBOS.get_event(before, "state", timeout_seconds=0) or {}
        state = prev.get("state") if prev.get("state") in (HELD, SCHEDULED) else RUNNING
        if state != shown:
            if state == RUNNING:
                _state(RUNNING, step="waiting for the previous post", container_id=cid)
            else:
                until = max(prev.get("until") or 0, spec.publish_at or 0) or None
                # Name the post that holds the line and its reason, not a chain of
                # "after x, held: after y, held: ..." down the account's queue.
                behind = prev.get("behind") or before.split(":", 2)[-1]
                reason = prev.get("reason", prev.get("message"))
                msg = f"after {behind}, {state}" + (f": {reason}" if reason else "")
                _state(
                    state,
                    message=msg,
                    until=until,
                    container_id=cid,
                    behind=behind,
                    reason=reason,
                )
            shown = state
        # Behind a held or scheduled post: sleep until its time (each look is a
        # recorded step, so none while it cannot move), then look again.
        timeout = 2.0
        if state != RUNNING:
            _wait_until(float(prev.get("until") or 0) or _rt().clock.now() + 60.0)
            timeout = 0.5


def _prepare(
    spec: PostSpec,
    create,  # noqa: ANN001
    wait,  # noqa: ANN001
    children: list[str] | None = None,
) -> tuple[str | None, dict, list[str] | None]:
    """Children (a carousel; unless `children` are given, kept from an earlier round)
    then the container that is published, each FINISHED -> (container id, {}, children)
    or (None, failure or hold, None). A child that fails is recreated alone."""
    phases = ["children", "top"] if spec.media_type == "CAROUSEL" and not children else ["top"]
    for phase in phases:
        made = create(spec, phase, children, None)
        if "ids" not in made:
            return None, made, None
        ids, created = made["ids"], made["created"]
        fixes = 0
        while True:
            k = len(ids)
            _state(RUNNING, step=f"Instagram is processing {k} container{'s' if k > 1 else ''}")
            ready = wait(spec, phase, ids, created)
            if "ready" in ready:
                break
            i = ready.get("index")
            if (
                phase != "children"
                or not ready.get("recreate")
                or i is None
                or fixes >= spec.settings.recreate_attempts
            ):
                return None, ready, None
            fixes += 1
            again = create(spec, phase, None, [i])
            if "ids" not in again:
                return None, again, None
            ids = [*ids[:i], again["ids"][0], *ids[i + 1 :]]
            created = again["created"]
        if phase == "children":
            children = ids
        else:
            return ids[0], {}, children
    return None, {"failed": {"message": "no container"}}, None


def _phase_slots(spec: PostSpec, phase: str, only: list[int] | None = None) -> list:
    slots = flow.plan_slots(spec.post, spec.media_type, list(spec.kinds))
    mine = [s for s in slots if s.publishable == (phase == "top")]
    return mine if only is None else [mine[i] for i in only]


def _our_media_ids(account: str) -> set[str]:
    """Media ids this database's own posts of `account` published (not duplicates)."""
    DBOS = _dbos()
    out: set[str] = set()
    for w in DBOS.list_workflows(
        workflow_id_prefix=f"{PREFIX}{account}:", status="SUCCESS", load_input=False
    ):
        if (
            isinstance(w.output, dict)
            and w.output.get("state") == PUBLISHED
            and w.output.get("media_id")
        ):
            out.add(str(w.output["media_id"]))
    return out


def _own_publishes(acc: Account, since: float) -> list[float]:
    """When this database's posts of `acc` were published, from `since` (epoch): what
    counts against the quota when Graph does not say. Posts settled by an earlier
    version's journal carry no time and are not counted."""
    out: list[float] = []
    for w in _dbos().list_workflows(
        workflow_id_prefix=f"{PREFIX}{acc.name}:", status="SUCCESS", load_input=False
    ):
        o = w.output
        if isinstance(o, dict) and o.get("state") == PUBLISHED and not o.get("already"):
            at = o.get("published_at") or (w.updated_at or 0) / 1000.0
            if at >= since:
                out.append(float(at))
    return out


# ---- specs from a manifest ------------------------------------------------------------


def build_specs(
    posts: Sequence[Post],
    accounts_of: Callable[[Post], Account],
    settings: PublishSettings,
    *,
    dedupe_window: float | None,
    legacy: Callable[[Account, Post], tuple[str | None, bool, str | None]] | None = None,
    probed: Mapping[str, Any] | None = None,
) -> list[PostSpec]:
    """One spec per post, chained per account in publish_at (then manifest) order.
    `probed` is what `check` probed each media as (MediaItem.key -> Kind): image or
    video is then decided from facts, not names."""
    probed = probed or {}
    by_account: dict[str, list[tuple[float, int, Post, Account]]] = {}
    for i, post in enumerate(posts):
        acc = accounts_of(post)
        at = post.extra.get("publish_at")
        when = parse_rfc3339(at) if at else float("-inf")
        by_account.setdefault(acc.name, []).append((when, i, post, acc))
    specs: list[PostSpec] = []
    for rows in by_account.values():
        prev: str | None = None
        for seq, (when, _i, post, acc) in enumerate(sorted(rows, key=lambda r: (r[0], r[1]))):
            hint = post.media_type or None
            kinds = tuple(
                bool(is_video_item(m, None if hint == "CAROUSEL" else hint, probed.get(m.key)))
                for m in post.media
            )
            media_id, published, container = legacy(acc, post) if legacy else (None, False, None)
            spec = PostSpec(
                account=acc,
                post=post,
                media_type=effective_media_type(post, list(kinds)),
                kinds=kinds,
                seq=seq,
                prev=prev,
                publish_at=None if when == float("-inf") else when,
                settings=settings,
                dedupe_window=dedupe_window,
                legacy_media_id=media_id,
                legacy_published=published,
                legacy_container=container,
            )
            specs.append(spec)
            prev = spec.wid
    return specs


# ---- the engine: DBOS launched in this process ----------------------------------------


@dataclass
class Engine:
    """DBOS launched on `url`, this process registered as a worker (heartbeat), the
    queue registered with `ahead` posts per account."""

    url: str
    ahead: int = DEFAULT_AHEAD
    runtime: flow.Runtime = field(default_factory=flow.Runtime)
    executor_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _workflow: Callable[..., Any] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _registry: Any = None
    known_before: set[str] = field(default_factory=set)  # published by an earlier run

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        global _RUNTIME
        DBOS = _dbos()
        flow.STOPPING.clear()
        _RUNTIME = self.runtime
        self.runtime.own_publishes = _own_publishes
        (self._workflow,) = _registered()
        self._registry = WorkerRegistry(self.url, self.executor_id)
        self._registry.beat()
        _drop_closed_log_streams()
        DBOS(
            config={
                "name": APP_NAME,
                "system_database_url": self.url,
                "application_version": APP_VERSION,
                "executor_id": self.executor_id,
                "log_level": "WARNING",
                "notification_listener_polling_interval_sec": 0.05,
            }
        )
        DBOS.launch()
        before = DBOS.retrieve_queue(QUEUE)
        # The post being published plus `ahead` posts whose containers are made ahead.
        per_account = max(0, self.ahead) + 1
        self.queue = DBOS.register_queue(
            QUEUE,
            partition_concurrency=per_account,
            polling_interval_sec=QUEUE_POLL,
            on_conflict="always_update",
        )
        if before is not None and before._partition_concurrency != per_account:
            # DBOS's queue thread, started at launch, reads the queue's settings once
            # per poll: let it see the new --ahead before anything is dequeued.
            time.sleep(2 * QUEUE_POLL)
        t = threading.Thread(target=self._loop, name="igp-heartbeat", daemon=True)
        t.start()
        self._threads.append(t)
        self.recover()

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                self._registry.beat()
                self.recover()
            except Exception as exc:  # the database may blink; try again next beat
                log.info("heartbeat failed: %s", exc)

    def recover(self) -> None:
        """Workflows of dead workers go back to the queue (one worker dequeues each)."""
        dead = self._registry.dead(STALE_AFTER)
        if dead:
            DBOS = _dbos()
            DBOS._recover_pending_workflows(dead)
            self._registry.forget([d for d in dead if not self._pending_of(d)])

    def _pending_of(self, executor: str) -> bool:
        DBOS = _dbos()
        return bool(
            DBOS.list_workflows(
                executor_id=executor, status="PENDING", load_input=False, load_output=False, limit=1
            )
        )

    def close(self) -> None:
        """Stop DBOS in this process without waiting for sleeping posts: held and
        scheduled posts (and any post still running) end their wait at once, unrecorded,
        and stay PENDING as a kill leaves them; this worker is marked gone, so the next
        `publish` or worker resumes them (never twice). The process goes on."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        flow.STOPPING.set()
        if not _ACTIVE.wait_idle(CLOSE_WAIT):
            # A post is still inside a Graph call (a long upload): stopping DBOS under it
            # could lose what that call did. DBOS is left to record it; the post then
            # stops at its next wait, and this worker's heartbeat, no longer beating,
            # hands it to the next worker once stale.
            log.warning("a post is still in a Graph call; it is resumed by the next run")
            return
        try:
            if self._registry is not None:
                self._registry.leave()
        finally:
            try:
                _dbos().destroy(workflow_completion_timeout_sec=0)
            finally:
                self.runtime.close()

    def exit(self, code: int) -> None:
        """End the process now. Posts still PENDING here are asleep (held, scheduled)
        or cut short exactly as a kill would cut them, which the workflow is built to
        survive; marking this worker gone first lets the next one take them at once."""
        self._stop.set()
        sys.stdout.flush()
        sys.stderr.flush()
        if self._registry is not None:
            self._registry.leave()
        os._exit(code)

    # ---- enqueue and watch ----

    def enqueue(self, specs: Iterable[PostSpec]) -> list[str]:
        """Enqueue each post once: a post whose latest workflow is published, running,
        held or scheduled is left alone (never twice); one whose latest attempt failed
        (or was refused as already on Instagram) gets a new attempt, so fixing the
        media and running `publish` again retries it. Returns the workflow ids."""
        from dbos import SetEnqueueOptions, SetWorkflowID

        DBOS = _dbos()
        ids = []
        now = self.runtime.clock.now()
        resolved: dict[str, str] = {}  # first workflow id -> the attempt of this run
        self.known_before = set()
        for spec in specs:
            attempt, known, published = self._attempt(spec.base)
            spec = replace(spec, attempt=attempt, prev=resolved.get(spec.prev or "", spec.prev))
            resolved[spec.base] = spec.wid
            ids.append(spec.wid)
            if published:
                self.known_before.add(spec.wid)
            if known:
                continue
            delay = 0.0
            if spec.publish_at is not None:
                lead = SCHEDULE_LEAD + flow.first_wait(
                    spec.settings, flow.plan_slots(spec.post, spec.media_type, list(spec.kinds))
                )
                delay = max(0.0, spec.publish_at - lead - now)
            opts: dict[str, Any] = {"queue_partition_key": spec.account.name}
            if delay > 0:
                opts["delay_seconds"] = delay
            try:
                with SetWorkflowID(spec.wid), SetEnqueueOptions(**opts):
                    self.queue.enqueue(self._workflow, spec)
            except Exception as exc:  # another process enqueued it first
                if DBOS.get_workflow_status(spec.wid) is None:
                    raise
                log.info("%s was enqueued by another process (%s)", spec.wid, exc)
        return ids

    def _attempt(self, base: str) -> tuple[int, bool, bool]:
        """(attempt to run, already enqueued, already published): the latest attempt
        of the post, or a new one when that one failed."""
        DBOS = _dbos()
        latest, status = 0, None
        for w in DBOS.list_workflows(workflow_id_prefix=base, load_input=False):
            n = attempt_of(w.workflow_id, base)
            if n is not None and n > latest:
                latest, status = n, w
        if status is None:
            return 1, False, False
        state = _outcome(DBOS, status).get("state")
        if status.status in ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
            return latest + 1, False, False
        if state in RETRIED:
            return latest + 1, False, False
        return latest, True, state == PUBLISHED

    def states(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return post_states(_dbos(), ids)

    def wait_settled(
        self,
        ids: Sequence[str],
        until_idle: bool = False,
        tick: Callable[[], None] | None = None,
        watch: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Block until every post in `ids` is settled (published, failed, duplicate,
        held, scheduled); with `until_idle`, until nothing is running, due or scheduled.
        `watch` sees every post's state each time they are read (progress)."""
        while True:
            rows = self.states(ids or None)
            if watch:
                watch(rows)
            now = self.runtime.clock.now()
            busy = [r for r in rows if not _idle(r, until_idle) or _due(r, now)]
            if not busy:
                return rows
            if tick:
                tick()
            time.sleep(0.1)

    def published_posts(self) -> set[str]:
        """First workflow ids of the posts this database shows published."""
        out = set()
        for w in _dbos().list_workflows(workflow_id_prefix=PREFIX, status="SUCCESS"):
            if isinstance(w.output, dict) and w.output.get("state") == PUBLISHED:
                spec = _spec_of(w)
                out.add(spec.base if spec else w.workflow_id)
        return out


def _drop_closed_log_streams() -> None:
    """DBOS's logger keeps the stderr it first saw; a later launch in this process
    (the Python API called again, after a caller swapped stderr) must not write to a
    closed one."""
    import logging as _logging

    dbos_log = _logging.getLogger("dbos")
    for handler in list(dbos_log.handlers):
        stream = getattr(handler, "stream", None)
        if stream is not None and getattr(stream, "closed", False):
            dbos_log.removeHandler(handler)


def _outcome(api: Any, w: Any) -> dict[str, Any]:
    """What a workflow ended with: its output; or, for one that settled but has not
    recorded its end (its process stopped right then, and it waits to be resumed),
    its "state" event; {} while it is still running."""
    if w.status == "SUCCESS":
        return w.output if isinstance(w.output, dict) else {}
    if w.status in ("PENDING", "ENQUEUED") and api.get_event(
        w.workflow_id, "settled", timeout_seconds=0
    ):
        return api.get_event(w.workflow_id, "state", timeout_seconds=0) or {}
    return {}


def _due(row: dict[str, Any], now: float) -> bool:
    """A held or scheduled post whose time has come is not settled: it is about to
    move (a resumed workflow still shows the state it slept in)."""
    return (
        row["state"] in (HELD, SCHEDULED) and bool(row.get("until_ts")) and row["until_ts"] <= now
    )


def _idle(row: dict[str, Any], until_idle: bool) -> bool:
    if until_idle:
        return row["state"] in (PUBLISHED, FAILED, DUPLICATE, HELD)
    return row["state"] in SETTLED


_REGISTERED: tuple[Callable[..., Any], ...] | None = None


def _registered() -> tuple[Callable[..., Any], ...]:
    global _REGISTERED
    if _REGISTERED is None:
        _REGISTERED = _register()
    return _REGISTERED


# ---- reading states (engine or client) ------------------------------------------------


def post_states(api: Any, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every post: account, post id, state, media id, last error, until; from the
    workflow's status and its "state" event. `api` is DBOS or a DBOSClient."""
    kwargs: dict[str, Any] = {"load_input": True, "load_output": True}
    if ids:
        kwargs["workflow_ids"] = list(ids)
    else:
        kwargs["workflow_id_prefix"] = PREFIX
    rows = []
    workflows = list(api.list_workflows(**kwargs))
    if not ids:
        workflows = _latest_attempts(workflows)
    for w in workflows:
        spec = _spec_of(w)
        event = w.output if isinstance(w.output, dict) else None
        if event is None and w.status == "PENDING":
            event = api.get_event(w.workflow_id, "state", timeout_seconds=0)
        row = _row(w, spec, event)
        rows.append(row)
    order = {wid: i for i, wid in enumerate(ids or [])}
    rows.sort(key=lambda r: (order.get(r["workflow_id"], 0), r["account"], r["seq"]))
    _behind_held(rows)
    return rows


def _behind_held(rows: list[dict[str, Any]]) -> None:
    """A queued post of an account whose earlier post is held or scheduled cannot move
    before it (the account's slots are taken by posts that wait): it is held too."""
    blocker: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["account"], r["seq"])):
        b = blocker.get(r["account"])
        if r["state"] in (HELD, SCHEDULED) and b is None:
            blocker[r["account"]] = r
        elif r["state"] == QUEUED and b is not None:
            r["state"] = b["state"]
            r["until"], r["until_ts"] = b.get("until"), b.get("until_ts")
            msg = f"after {b['post_id']}, {b['state']}"
            if (b.get("error") or {}).get("message"):
                msg += f": {b['error']['message']}"
            r["error"] = {**(b.get("error") or {}), "message": msg}


def _latest_attempts(workflows: list[Any]) -> list[Any]:
    """Of each post's attempts, the latest (what `status` shows)."""
    best: dict[str, tuple[int, Any]] = {}
    for w in workflows:
        spec = _spec_of(w)
        base = spec.base if spec else w.workflow_id
        n = spec.attempt if spec else 1
        if base not in best or n > best[base][0]:
            best[base] = (n, w)
    return [w for _, w in best.values()]


def _spec_of(w: Any) -> PostSpec | None:
    inp = getattr(w, "input", None)
    args = getattr(inp, "args", None) if inp is not None else None
    if isinstance(inp, dict):
        args = inp.get("args")
    if args and isinstance(args[0], PostSpec):
        return args[0]
    return None


def _row(w: Any, spec: PostSpec | None, event: dict | None) -> dict[str, Any]:
    wid = w.workflow_id
    account, _, post_id = wid[len(PREFIX) :].partition(":")
    if spec is not None:
        account, post_id = spec.account.name, spec.post.id
    row: dict[str, Any] = {
        "workflow_id": wid,
        "account": account,
        "post_id": post_id,
        "seq": spec.seq if spec else 0,
        "attempt": spec.attempt if spec else 1,
        "media_type": spec.media_type if spec else None,
        "publish_at": format_rfc3339(spec.publish_at) if spec and spec.publish_at else None,
        "state": QUEUED,
        "media_id": None,
        "container_id": None,
        "error": None,
        "until": None,
        "step": None,
        "executor": w.executor_id,
    }
    if w.status in ("DELAYED",):
        row["state"] = SCHEDULED
        if spec and spec.publish_at:
            row["until"] = format_rfc3339(spec.publish_at)
        return row
    if w.status == "ENQUEUED":
        return row
    if w.status in ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        row["state"] = FAILED
        row["error"] = {"message": f"{w.status}: {w.error}"}
        return row
    ev = event or {}
    state = ev.get("state", RUNNING)
    row["state"] = state
    row["media_id"] = ev.get("media_id")
    row["container_id"] = ev.get("container_id")
    row["step"] = ev.get("step")
    row["source"] = ev.get("source")
    row["already"] = bool(ev.get("already"))
    if ev.get("until"):
        row["until"] = format_rfc3339(float(ev["until"]))
        row["until_ts"] = float(ev["until"])
    if state in (FAILED, DUPLICATE, HELD) or ev.get("message"):
        row["error"] = {
            k: ev.get(k)
            for k in ("error_class", "code", "subcode", "message", "rule")
            if ev.get(k) is not None
        }
    return row


# ---- workers: heartbeats, so a dead worker's posts come back ---------------------------


class WorkerRegistry:
    """A small table beside DBOS's: executor id, host, pid, last heartbeat."""

    def __init__(self, url: str, executor_id: str) -> None:
        self.executor_id = executor_id
        # Workers on one host may see each other's pids only in one pid namespace: set
        # IGPREFLIGHT_WORKER_HOST per container when containers share a hostname.
        self.host = os.environ.get("IGPREFLIGHT_WORKER_HOST") or socket.gethostname()
        self.engine = sa.create_engine(_sa_url(url), pool_pre_ping=True)
        meta = sa.MetaData()
        self.table = sa.Table(
            "igpreflight_workers",
            meta,
            sa.Column("executor_id", sa.String(64), primary_key=True),
            sa.Column("host", sa.String(255), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("seen", sa.Float, nullable=False),
        )
        try:
            meta.create_all(self.engine)
        except sa.exc.OperationalError:
            meta.create_all(self.engine)  # two processes creating it at once

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

    def dead(self, stale_after: float) -> list[str]:
        t = self.table
        with self.engine.begin() as c:
            rows = c.execute(sa.select(t.c.executor_id, t.c.host, t.c.pid, t.c.seen)).all()
        now = time.time()
        out = []
        for ex, host, pid, seen in rows:
            if ex == self.executor_id:
                continue
            gone = host == self.host and not _alive(pid)
            if gone or now - seen > stale_after:
                out.append(ex)
        return out

    def known(self) -> set[str]:
        with self.engine.begin() as c:
            return {r[0] for r in c.execute(sa.select(self.table.c.executor_id)).all()}

    def forget(self, executors: list[str]) -> None:
        if executors:
            with self.engine.begin() as c:
                c.execute(self.table.delete().where(self.table.c.executor_id.in_(executors)))

    def leave(self) -> None:
        """A clean exit: mark this worker gone at once (its pending posts are recovered
        by the next worker without waiting for the heartbeat to go stale)."""
        try:
            with self.engine.begin() as c:
                c.execute(
                    self.table.update()
                    .where(self.table.c.executor_id == self.executor_id)
                    .values(seen=0.0)
                )
        finally:
            self.engine.dispose()


def _alive(pid: int) -> bool:
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


def _sa_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def published_in(url: str, account: str) -> set[str]:
    """Post ids the database at `url` shows published for `account`, read without
    running or writing anything (a dry run skips them); none when there is no database."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return set()
    rows = _read_states(url)
    return {r["post_id"] for r in rows if r["account"] == account and r["state"] == PUBLISHED}


def _read_states(url: str) -> list[dict[str, Any]]:
    """Every post's row, through a DBOS client (no worker, no queue)."""
    from dbos import DBOSClient

    _registered()
    client = DBOSClient(system_database_url=url)
    try:
        return post_states(client)
    finally:
        client.destroy()


def client_states(url: str) -> list[dict[str, Any]]:
    """Every post's state without running anything (for `status`)."""
    rows = _read_states(url)
    registry = WorkerRegistry(url, "status-" + uuid.uuid4().hex)
    try:
        dead = set(registry.dead(STALE_AFTER))
        live = registry.known() - dead
    finally:
        registry.engine.dispose()
    for row in rows:
        if row["state"] == RUNNING and row["executor"] not in live:
            row["state"] = INTERRUPTED  # its worker is gone: the next worker resumes it
        if row["state"] in (RUNNING, INTERRUPTED, HELD, SCHEDULED, QUEUED) and not live:
            row["note"] = "no worker is running: `igpreflight worker` takes it up (never twice)"
    return rows

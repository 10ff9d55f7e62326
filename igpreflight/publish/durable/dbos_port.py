"""The durable port on DBOS Transact: one DBOS workflow per post drives the sequencer
(workflow.py), each operation one recorded DBOS operation.

    Step        -> DBOS.run_step (result recorded when the step returns)
    Show        -> DBOS.set_event("state", view)
    Now         -> a step returning the runtime's clock
    WaitTurn    -> a step that watches the previous post's workflow until it tells
    Peek        -> a step that reads how the previous post ended, if it has
    SleepUntil  -> a step that sleeps (a resumed workflow sleeps what is left)

The workflow's end sets "state" and "settled" and returns the view as its output.
A database error inside an operation is the engine's to report (engine.py): the post
stops unrecorded, as a kill leaves it, and is resumed (by this engine once the database
is back, or by the next worker), never run twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from igpreflight.publish.durable.ops import Now, Op, Peek, Show, SleepUntil, Step, WaitTurn
from igpreflight.publish.durable.view import PostView, turn_of
from igpreflight.publish.durable.workflow import post_life
from igpreflight.publish.steps.guard import run_step
from igpreflight.publish.steps.results import Turn, scrubbed
from igpreflight.publish.steps.runtime import STOPPING, Abandoned, Runtime
from igpreflight.publish.steps.spec import ATTEMPT, PREFIX, PostSpec
from igpreflight.redaction import redact
from igpreflight.states import PostState

log = logging.getLogger("igpreflight.publish")

WORKFLOW = "igp.post"
ENDED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def dbos() -> Any:
    from dbos import DBOS

    return DBOS


class Host:
    """What the workflows of this process run with: set by the engine at start."""

    runtime: Runtime | None = None
    on_db_error: Callable[[BaseException, str], None] = staticmethod(lambda exc, wid: None)
    ran: set[str] = set()  # noqa: RUF012 - the process's, on purpose
    claims: Any = None  # claims.Claims: a cancelled post stops before create/send


class Active:
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


ACTIVE = Active()


def rt() -> Runtime:
    assert Host.runtime is not None, "the engine sets the runtime before launching"
    return Host.runtime


def drive(life: Any, run: Callable[[Op], Any]) -> PostView:
    """Run the sequencer to its end, each operation through `run`."""
    result: Any = None
    while True:
        try:
            op = life.send(result)
        except StopIteration as stop:
            return stop.value
        result = run(op)


def _db_errors() -> tuple[type[BaseException], ...]:
    import sqlalchemy.exc

    return (sqlalchemy.exc.DBAPIError, sqlalchemy.exc.OperationalError)


def run_op(op: Op) -> Any:
    """One operation as a recorded DBOS operation (see the module docstring)."""
    DBOS = dbos()
    try:
        if isinstance(op, Step):
            if op.name in GATED:
                stop_if_cancelled(GATED[op.name])
            return DBOS.run_step({"name": op.name}, run_step, op.fn, rt(), *op.args)
        if isinstance(op, Show):
            DBOS.set_event("state", stored(op.view))
            return None
        if isinstance(op, Now):
            return DBOS.run_step({"name": "now"}, rt().now)
        if isinstance(op, WaitTurn):
            return DBOS.run_step({"name": "turn"}, watch_turn, op.prev, op.shown, op.waiter)
        if isinstance(op, Peek):
            return DBOS.run_step({"name": "peek"}, peek_turn, op.prev)
        if isinstance(op, SleepUntil):
            return DBOS.run_step({"name": "sleep"}, sleep_until, op.at)
    except _db_errors() as exc:
        Host.on_db_error(exc, DBOS.workflow_id or "")
        raise Abandoned() from None
    raise TypeError(f"not an operation: {op!r}")


GATED = {"create": "create", "intent": "send"}  # the steps a cancel must come before


def stop_if_cancelled(what: str) -> None:
    """Before a post's containers or its media_publish: a post cancelled (DELETE
    /v1/posts) ends cancelled here, and one about to send is claimed for it, so a
    cancel that comes later is refused (claims.py)."""
    from igpreflight.publish.durable.claims import gate

    DBOS = dbos()
    wid = DBOS.workflow_id or ""
    if gate(Host.claims, wid.split(ATTEMPT, 1)[0], what):
        return
    from dbos._dbos import _get_dbos_instance
    from dbos._error import DBOSWorkflowCancelledError

    _get_dbos_instance()._sys_db.cancel_workflows([wid])  # as cancel_workflow, unrecorded
    raise DBOSWorkflowCancelledError(f"post {wid} was cancelled")


def sleep_until(at: float) -> None:
    clock = rt().clock
    while (left := at - clock.now()) > 0:
        clock.sleep(min(left, 1.0))


def ended_view(status: Any) -> PostView | None:
    """What a workflow ended with (its output), or its "settled" state when it settled
    but stopped before recording its end; None while it goes on."""
    if status.status == "SUCCESS":
        return PostView.from_dict(status.output) or PostView(PostState.FAILED)
    if status.status == "CANCELLED":
        return PostView(PostState.CANCELLED)
    if status.status in ENDED:
        return PostView(PostState.FAILED)
    DBOS = dbos()
    if DBOS.get_event(status.workflow_id, "settled", timeout_seconds=0):
        return PostView.from_dict(DBOS.get_event(status.workflow_id, "state", timeout_seconds=0))
    return None


def peek_turn(prev: str) -> Turn:
    status = dbos().get_workflow_status(prev)
    view = ended_view(status) if status is not None else None
    return turn_of(prev, view) if view is not None else Turn(prev, None)


def watch_turn(prev: str, shown: str | None, waiter: str | None = None) -> Turn:
    """Inside a step: until workflow `prev` ends (or shows scheduled, when not shown);
    with `waiter`, the attempt that stands for `prev` now (WaitTurn)."""
    DBOS = dbos()
    if waiter is not None:
        from igpreflight.publish.durable.queries import standing_attempt

        prev = standing_attempt(DBOS, prev, waiter)
    while True:
        status = DBOS.get_workflow_status(prev)
        if status is None:  # never enqueued (or deleted): nothing to wait for
            return Turn(prev, None)
        view = ended_view(status)
        if view is not None:
            return turn_of(prev, view)
        now = PostView.from_dict(DBOS.get_event(prev, "state", timeout_seconds=0))
        if now is not None and now.state == PostState.SCHEDULED and shown != now.state:
            return turn_of(prev, now)
        DBOS.get_event(prev, "settled", timeout_seconds=1.0)  # wakes when it settles
        if STOPPING.is_set():
            raise Abandoned()


def register() -> Callable[..., Any]:
    """The post workflow, registered with DBOS once per process (before launch)."""
    DBOS = dbos()

    @DBOS.workflow(name=WORKFLOW)
    def publish_post(spec: PostSpec) -> dict[str, Any]:
        with ACTIVE:
            if STOPPING.is_set():
                raise Abandoned()  # dequeued while closing: the next worker runs it
            Host.ran.add(spec.wid)
            view = drive(post_life(spec), run_op)
            settle_view(view)
            return stored(view)

    return publish_post


def settle_view(view: PostView) -> None:
    log_end(view)
    try:
        DBOS = dbos()
        DBOS.set_event("state", stored(view))
        DBOS.set_event("settled", True)
    except _db_errors() as exc:
        Host.on_db_error(exc, dbos().workflow_id or "")
        raise Abandoned() from None


def stored(view: PostView) -> dict[str, Any]:
    """A view as the database keeps it: redacted, whatever came before (a boundary of
    its own: a token must not reach the database even if a step forgot)."""
    return scrubbed(view.to_dict(), redact)


def log_end(view: PostView) -> None:
    who = f"{view.account}/{view.post_id}"
    if view.state == PostState.PUBLISHED:
        log.info("post %s published: %s", who, view.media_id or "(settled by its container)")
    else:
        log.warning("post %s %s: %s", who, view.state, view.error.message if view.error else "")


class DbosLedger:
    """This database's own posts, for the steps (runs inside a step: not recorded)."""

    def _published(self, account: str) -> list[tuple[dict[str, Any], Any]]:
        out = []
        for w in dbos().list_workflows(
            workflow_id_prefix=f"{PREFIX}{account}:", status="SUCCESS", load_input=False
        ):
            if isinstance(w.output, dict) and w.output.get("state") == PostState.PUBLISHED:
                out.append((w.output, w))
        return out

    def our_media_ids(self, account: str) -> set[str]:
        return {str(o["media_id"]) for o, _ in self._published(account) if o.get("media_id")}

    def own_publishes(self, account: str, since: float) -> list[float]:
        times = []
        for o, w in self._published(account):
            if o.get("already"):
                continue
            at = o.get("published_at") or (w.updated_at or 0) / 1000.0
            if at >= since:
                times.append(float(at))
        return times

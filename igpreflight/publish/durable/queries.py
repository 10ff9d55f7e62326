"""Reading the queue: every post's state as a row, through DBOS or a DBOSClient
(which runs nothing). What `status`, `worker` and `publish` print is built here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from igpreflight.preflight.rfc3339 import format_rfc3339
from igpreflight.publish.durable import APP_VERSION
from igpreflight.publish.durable.view import PostView
from igpreflight.publish.steps.spec import ATTEMPT, PREFIX, PostSpec, attempt_of
from igpreflight.states import PostState

ENDED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def spec_of(w: Any) -> PostSpec | None:
    inp = getattr(w, "input", None)
    args = getattr(inp, "args", None) if inp is not None else None
    if isinstance(inp, dict):
        args = inp.get("args")
    if args and isinstance(args[0], PostSpec):
        return args[0]
    return None


def view_of(api: Any, w: Any) -> PostView | None:
    """A workflow's state: its output once ended; else its "state" event."""
    if w.status == "SUCCESS":
        return PostView.from_dict(w.output)
    if w.status in ENDED:
        return None
    return PostView.from_dict(api.get_event(w.workflow_id, "state", timeout_seconds=0))


def settled_view(api: Any, w: Any) -> PostView | None:
    """What an attempt came to: its output; or, for one that settled but did not record
    its end (its process stopped right then), its last state; None while it goes on."""
    if w.status == "SUCCESS":
        return PostView.from_dict(w.output)
    if w.status in ("PENDING", "ENQUEUED") and api.get_event(
        w.workflow_id, "settled", timeout_seconds=0
    ):
        return PostView.from_dict(api.get_event(w.workflow_id, "state", timeout_seconds=0))
    return None


def workflows(
    api: Any, ids: Sequence[str] | None = None, *, inputs: bool = True, **filters: Any
) -> list[Any]:
    """The posts' workflows; the inputs (PostSpecs) of this version's only: an earlier
    version's pickled classes may no longer exist. `filters` are list_workflows' own
    (status, completed_after...)."""
    kwargs: dict[str, Any] = {"load_output": True, **filters}
    if ids:
        kwargs["workflow_ids"] = list(ids)
    else:
        kwargs["workflow_id_prefix"] = PREFIX
    if not inputs:
        return list(api.list_workflows(load_input=False, **kwargs))
    mine = list(api.list_workflows(load_input=True, app_version=APP_VERSION, **kwargs))
    seen = {w.workflow_id for w in mine}
    others = [
        w for w in api.list_workflows(load_input=False, **kwargs) if w.workflow_id not in seen
    ]
    return mine + others


def post_states(api: Any, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every post (the latest attempt of each, or the workflows `ids`): account, post
    id, state, media id, last error, until. `api` is DBOS or a DBOSClient."""
    found = workflows(api, ids)
    if not ids:
        found = latest_attempts(found)
    rows = [row(w, spec_of(w), view_of(api, w)) for w in found]
    order = {wid: i for i, wid in enumerate(ids or [])}
    rows.sort(key=lambda r: (order.get(r["workflow_id"], 0), r["account"], r["seq"]))
    return rows


def ended_states(api: Any, after_ms: int) -> list[dict[str, Any]]:
    """Every attempt that ended at or after `after_ms` (epoch ms, the clock of the
    process that ended it), each row with its `completed_at` (epoch ms), oldest first.
    An attempt ends published, failed, held, duplicate, uncertain or cancelled."""
    import datetime

    after = datetime.datetime.fromtimestamp(after_ms / 1000.0, datetime.timezone.utc)
    found = workflows(api, status=list(ENDED), completed_after=after.isoformat())
    rows = []
    for w in found:
        r = row(w, spec_of(w), view_of(api, w))
        r["completed_at"] = int(w.completed_at or after_ms)
        rows.append(r)
    rows.sort(key=lambda r: (r["completed_at"], r["workflow_id"]))
    return rows


def latest_attempts(found: list[Any]) -> list[Any]:
    """Of each post's attempts, the latest (what `status` shows)."""
    best: dict[str, tuple[int, Any]] = {}
    for w in found:
        spec = spec_of(w)
        base = spec.base if spec else w.workflow_id
        n = spec.attempt if spec else 1
        if base not in best or n > best[base][0]:
            best[base] = (n, w)
    return [w for _, w in best.values()]


def standing_attempt(api: Any, wid: str, waiter: str) -> str:
    """The attempt that now stands for attempt `wid` in its account's line, for the
    attempt `waiter` behind it: `wid`, or, when it ended held or uncertain, the attempt
    that took it up (and so on). A post that ended before its turn names the attempt
    it waited for (`before_turn`); that one may since have ended held and been taken
    up, and waiting on the old one (ended held) held the posts behind it for good. An
    attempt that ended otherwise (failed) stands: its retry does not hold the line. Nor
    does an attempt enqueued after the waiter: the queue might never run it while the
    waiter waits (the waiter ends held behind the old one, and is taken up after it)."""
    base = wid.split(ATTEMPT, 1)[0]
    found = {}
    for w in api.list_workflows(workflow_id_prefix=base, load_input=False):
        n = attempt_of(w.workflow_id, base)
        if n is not None:
            found[n] = w
    mine = api.list_workflows(workflow_ids=[waiter], load_input=False, load_output=False)
    since = mine[0].created_at if mine and mine[0].created_at is not None else None
    n = attempt_of(wid, base) or 1
    while n in found and n + 1 in found:
        later = found[n + 1].created_at
        if since is not None and later is not None and later > since:
            break
        view = settled_view(api, found[n])
        if view is None or view.state not in (PostState.HELD, PostState.UNCERTAIN):
            break
        n += 1
    return found[n].workflow_id if n in found else wid


def row(w: Any, spec: PostSpec | None, view: PostView | None) -> dict[str, Any]:
    """One post's row (the reports' and the JSON documents' shape)."""
    wid = w.workflow_id
    account, _, post_id = wid[len(PREFIX) :].partition(":")
    if spec is not None:
        account, post_id = spec.account.name, spec.post.id
    out: dict[str, Any] = {
        "workflow_id": wid,
        "account": account,
        "post_id": post_id,
        "seq": spec.seq if spec else 0,
        "attempt": spec.attempt if spec else 1,
        "media_type": spec.media_type if spec else None,
        "publish_at": format_rfc3339(spec.publish_at) if spec and spec.publish_at else None,
        "state": PostState.QUEUED,
        "media_id": None,
        "container_id": None,
        "error": None,
        "until": None,
        "step": None,
        "executor": w.executor_id,
        "running": w.status == "PENDING",
    }
    if w.status == "DELAYED":
        out["state"] = PostState.SCHEDULED
        if spec and spec.publish_at:
            out["until"] = format_rfc3339(spec.publish_at)
        return out
    if w.status == "ENQUEUED" and view is None:
        return out
    if w.status in ENDED and w.status != "SUCCESS":
        cancelled = w.status == "CANCELLED"
        out["state"] = PostState.CANCELLED if cancelled else PostState.FAILED
        if not cancelled:  # a cancel is what was asked, not an error to alert on
            out["error"] = {"error_class": "permanent", "message": f"{w.status}: {w.error}"}
        return out
    if view is None:  # running, before it said anything
        out["state"] = PostState.CREATING
        return out
    out["state"] = view.state
    out["media_id"] = view.media_id
    out["container_id"] = view.container_id
    out["step"] = view.step
    out["source"] = view.source
    out["already"] = view.already
    if view.until and (when := _when(float(view.until))) is not None:
        out["until"] = when
        out["until_ts"] = float(view.until)
    if view.error is not None:
        out["error"] = view.error.to_dict()
    return out


def _when(ts: float) -> str | None:
    """A recorded time as RFC 3339; None for one no calendar holds (a hold written before
    Graph's header waits were capped at a day), so `status` still reads the database."""
    try:
        return format_rfc3339(ts)
    except (ValueError, OverflowError):
        return None

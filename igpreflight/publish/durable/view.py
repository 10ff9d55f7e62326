"""A post's state as its workflow shows it: the "state" event while it runs, and the
workflow's output when it ends. Stored as a plain dict (JSON-like), so any reader
(`status`, another version) reads it without our classes; read back as a PostView."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from igpreflight.publish.steps.results import PostError, Turn
from igpreflight.states import PostState


@dataclass(frozen=True)
class PostView:
    state: PostState
    account: str = ""
    post_id: str = ""
    media_type: str = ""
    step: str | None = None  # what it waits for ("Instagram is processing 2 containers")
    container_id: str | None = None
    media_id: str | None = None
    source: str | None = None  # how the media id was learnt (MediaIdSource)
    error: PostError | None = None
    until: float | None = None  # held or scheduled: when it is looked at again
    already: bool = False  # published by an earlier run or version
    published_at: float | None = None
    before_turn: str | None = None  # ended before its turn: the posts after it wait for this
    behind: str | None = None  # held or scheduled behind this post of the account
    uncertain_since: float | None = None  # media_publish unseen since then: settle first
    sent_before: bool = False  # media_publish was sent for container_id (settled unpublished)
    created_at: float | None = None  # when container_id was made
    made: tuple[str, ...] | None = None  # top containers of this post's attempts, so far

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value is False:
                continue
            out[f.name] = value.to_dict() if isinstance(value, PostError) else value
        out["state"] = str(self.state)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PostView | None:
        """A stored state; None for nothing. States an earlier version wrote ("running")
        read as the nearest one."""
        if not isinstance(data, dict) or not data.get("state"):
            return None
        raw = str(data["state"])
        try:
            state = PostState(raw)
        except ValueError:  # "running" (an earlier version): publishing, or before it
            publishing = raw == "running" and data.get("step") == "publishing"
            state = PostState.PUBLISHING if publishing else PostState.PROCESSING
            if raw != "running":
                state = PostState.QUEUED
        names = {f.name for f in dataclasses.fields(cls)} - {"state", "error"}
        kept = {k: data[k] for k in names if k in data}
        error = data.get("error")
        if error is None and data.get("message"):  # an earlier version's flat fields
            error = {k: data.get(k) for k in ("error_class", "code", "subcode", "message", "rule")}
        return cls(state=state, error=PostError.from_dict(error), **kept)


def turn_of(prev: str, view: PostView | None) -> Turn:
    """What the account's previous post (workflow `prev`) means to the post after it.
    A post held behind another names the post holding the line and its reason, not a
    chain of "after x, held: after y, held: ..." down the account's queue."""
    if view is None:
        return Turn(prev, None)
    message = view.error.message if view.error else None
    if view.behind:
        behind = view.behind
        reason = message.split(": ", 1)[1] if message and ": " in message else None
    else:
        behind, reason = view.post_id or prev.split(":", 2)[-1], message
    return Turn(prev, str(view.state), view.before_turn, view.until, reason, behind)

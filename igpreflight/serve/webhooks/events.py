"""An ended post attempt as a webhook event: its type, its stable id and its body.

The id (`webhook-id`) is a digest of (account, post id, state, attempt), so the
same transition always makes the same event, whichever service process saw it
and however often it is delivered: receivers dedupe on it. The body is Standard
Webhooks' shape, `{"type", "timestamp", "data"}`, its timestamp the moment the
attempt ended (also fixed), so a redelivery sends the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from igpreflight.preflight.rfc3339 import format_ms

TYPES = {"published": "post.published", "failed": "post.failed", "held": "post.held"}


@dataclass(frozen=True)
class Event:
    id: str  # webhook-id: msg_ and 32 hex digits
    type: str
    account: str
    post_id: str
    body: str  # the JSON sent, byte for byte the same on every delivery
    ended_ms: int  # when the attempt ended (epoch ms)


def event_id(account: str, post_id: str, state: str, attempt: int) -> str:
    text = json.dumps([account, post_id, state, attempt], ensure_ascii=False)
    return "msg_" + hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def event_of(row: dict[str, Any]) -> Event | None:
    """The event for a row of `api.durable.ended` (None: not an event: a post
    published by an earlier attempt, a duplicate, cancelled, uncertain...)."""
    state = str(row["state"])
    if state not in TYPES or row.get("already"):
        return None
    account, post_id, attempt = str(row["account"]), str(row["post_id"]), int(row["attempt"])
    error = row.get("error") or {}
    ended_ms = int(row["completed_at"])
    body = {
        "type": TYPES[state],
        "timestamp": format_ms(ended_ms),
        "data": {
            "post_id": post_id,
            "account": account,
            "state": state,
            "media_id": row.get("media_id"),
            "error_class": error.get("error_class"),
            "error": error.get("message"),
            "until": row.get("until"),
            "attempt": attempt,
        },
    }
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Event(
        event_id(account, post_id, state, attempt), TYPES[state], account, post_id, text, ended_ms
    )

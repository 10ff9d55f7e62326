"""Text and JSON output of the durable engine: `publish` for many accounts, `worker`,
`status`. One line per post, `account/post: state`, then the counts."""

from __future__ import annotations

from typing import Any

from igpreflight.api.durable import DurableResult
from igpreflight.envelope import dumps
from igpreflight.redaction import redact
from igpreflight.report.publish import published_what


def _line(r: dict[str, Any]) -> str:
    who = f"{r['account']}/{r['post_id']}"
    state, err = r["state"], r.get("error") or {}
    if state == "published":
        what = published_what(r.get("media_id"), r.get("source"), r.get("container_id"))
        line = f"{who}: published{' earlier' if r.get('already') else ''}, {what}"
    elif state == "scheduled":
        line = f"{who}: scheduled for {r.get('until') or r.get('publish_at')}"
        if err.get("message"):
            line += f" ({err['message']})"
    elif state == "held":
        until = f" until {r['until']}" if r.get("until") else ""  # none known: no "None"
        line = f"{who}: held{until}: {err.get('message')}"
    elif state == "duplicate":
        line = f"{who}: not published: {err.get('message')}"
    elif state == "uncertain":
        line = f"{who}: uncertain [{err.get('error_class') or 'retry-same'}]: {err.get('message')}"
    elif state == "interrupted":
        line = f"{who}: interrupted (its worker is gone; the next worker resumes it)"
    elif state == "failed":
        code = ""
        if err.get("code") is not None or err.get("subcode") is not None:
            code = f" {err.get('code') if err.get('code') is not None else '-'}" + (
                f"/{err['subcode']}" if err.get("subcode") else ""
            )
        cls = err.get("error_class") or "permanent"
        message = str(err.get("message") or "")
        if code and message.startswith(f"{code.strip()}: "):
            message = message[len(code) + 1 :]  # said once, right after the class
        line = f"{who}: failed [{cls}]{code}: {message}"
    else:
        line = f"{who}: {state}" + (f" ({r['step']})" if r.get("step") else "")
    return line + (f"; {r['note']}" if r.get("note") else "")


def render_text(result: DurableResult) -> str:
    counts = result.summary()
    counts.pop("posts")
    tail = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no posts"
    return "\n".join([*(_line(r) for r in result.posts), tail]) + "\n"


def render(result: DurableResult, fmt: str) -> str:
    """Redacted here too: a report is an output boundary of its own."""
    return redact(dumps(result.to_dict()) if fmt == "json" else render_text(result))

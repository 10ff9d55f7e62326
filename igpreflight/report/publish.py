"""Text and JSON output of `publish` and of its dry run."""

from __future__ import annotations

from dataclasses import replace

from igpreflight.api.publishing import PublishPlan, PublishResult
from igpreflight.envelope import dumps
from igpreflight.publish.settings import Outcome
from igpreflight.redaction import redact


def _code_and_message(o: Outcome) -> str:
    """` 36003/2207009: message`: the code once, even when the message starts with it."""
    message = o.message or ""
    if o.code is None and o.subcode is None:
        return f" {message}".rstrip()
    code = f"{o.code if o.code is not None else '-'}" + (f"/{o.subcode}" if o.subcode else "")
    for prefix in (f"{code}: ", f"{code} "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return f" {code}: {message}" if message else f" {code}"


def published_what(media_id: str | None, source: str | None, container_id: str | None) -> str:
    """How a published post is named: its media id, and how it was learnt when its
    media_publish was not seen (settled by its container)."""
    if media_id and source == "container":
        return f"media id {media_id} (its container shows PUBLISHED)"
    if media_id:
        return f"media id {media_id}"
    return f"container {container_id} shows PUBLISHED (media id not returned)"


def summary_line(result: PublishResult) -> str:
    s = result.summary()
    already = f" ({s['already_published']} earlier)" if s["already_published"] else ""
    scheduled = f", {s['scheduled']} scheduled" if s.get("scheduled") else ""
    uncertain = f", {s['uncertain']} uncertain" if s.get("uncertain") else ""
    return (
        f"{s['published']} published{already}{scheduled}, {s['failed']} failed,"
        f" {s['queued']} queued{uncertain}"
    )


def render_text(result: PublishResult) -> str:
    """One line per post; a batch stop is told in full once, then referred to (a
    reconnect-auth stop is told on stderr, see `PublishResult.auth_stops`)."""
    lines = []
    stopped: set[str | None] = set()
    auth = result.auth_stops()
    for o in result.outcomes:
        if o.status == "published":
            what = published_what(o.media_id, o.media_id_source, o.container_id)
            lines.append(f"{o.post_id}: published{' earlier' if o.already else ''}, {what}")
        elif o.status == "scheduled":
            lines.append(f"{o.post_id}: {o.message}")
        elif o.status == "queued" and o.message in stopped:
            lines.append(f"{o.post_id}: queued [{o.error_class}] (the batch stopped before it)")
        elif o.message in auth:
            brief = replace(
                o, message="publishing stopped for the account (see the error on stderr)"
            )
            lines.append(f"{o.post_id}: {o.status} [{o.error_class}]{_code_and_message(brief)}")
            stopped.add(o.message)
        else:
            lines.append(f"{o.post_id}: {o.status} [{o.error_class}]{_code_and_message(o)}")
            if o.status == "queued":
                stopped.add(o.message)
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def render_plan_text(plan: PublishPlan) -> str:
    """The dry-run listing; the Authorization header every Graph call carries is said once."""
    auth = plan.headers
    shown = ", ".join(f"{k}: {v}" for k, v in auth.items()) or "access_token=***"
    lines = [f"dry run: no call is made; every Graph call sends {shown}"]
    for p in plan.posts:
        lines.append(f"{p.post_id}{f' ({p.media_type})' if p.media_type else ''}: {p.note}")
        lines += [f"  {u}" for u in p.uploads]
        for c in p.calls:
            extra = {k: v for k, v in c.headers.items() if auth.get(k) != v}
            lines.append("  " + replace(c, headers=extra).render())
    return "\n".join(lines) + "\n"


def render(result: PublishResult | PublishPlan, fmt: str) -> str:
    """`publish` output in `fmt` (text or json), for a run or a dry run. Redacted here
    too: a report is an output boundary of its own (docs/publishing.md)."""
    if fmt == "json":
        return redact(dumps(result.to_dict()))
    if isinstance(result, PublishPlan):
        return redact(render_plan_text(result))
    return redact(render_text(result))

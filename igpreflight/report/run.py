"""Output of `run`: `publish`'s report, plus the posts that stopped before it."""

from __future__ import annotations

from igpreflight.api.running import RunResult
from igpreflight.envelope import dumps
from igpreflight.report import publish as publish_report


def stop_line(post_id: str, stage: str, why: str) -> str:
    """A post that stopped at check or fix (the command says it on stderr)."""
    return f"{post_id}: stopped at {stage}: {why}"


def render(result: RunResult, fmt: str) -> str:
    """JSON: one document for every post. Text: publish's lines, then how many
    more posts stopped before publishing."""
    if fmt == "json":
        return dumps(result.to_dict())
    text = publish_report.render(result.publish, fmt) if result.publish is not None else ""
    if result.stopped:
        text += (
            f"{len(result.stopped)} more stopped before publishing: {', '.join(result.stopped)}\n"
        )
    return text

"""Output of `run`: `publish`'s report, plus the posts that stopped before it."""

from __future__ import annotations

from igpreflight.api.running import RunResult
from igpreflight.envelope import dumps
from igpreflight.report import publish as publish_report


def stop_lines(result: RunResult) -> list[str]:
    """One line per post that stopped at check or fix (the command puts them on stderr)."""
    return [f"{pid}: stopped at {stage}: {why}" for pid, stage, why in result.stops()]


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

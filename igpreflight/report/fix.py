"""Text and JSON output of `fix`: one line per file, then the counts.

One line each even for a file name with a newline or an escape sequence: the text
lines go through `one_line`.
"""

from __future__ import annotations

from igpreflight.api.fixing import FixResult
from igpreflight.envelope import dumps
from igpreflight.report.text import _size
from igpreflight.textcheck import one_line
from igpreflight.transcode.batch import steps_text
from igpreflight.transcode.types import FileFixResult, FixStatus


def _line(r: FileFixResult, dry_run: bool) -> str:
    if r.status in (FixStatus.UNFIXABLE, FixStatus.FAILED, FixStatus.SKIPPED):
        return f"{r.source}: {r.status.value}: {r.reason or 'no reason given'}"
    status = r.status.value
    if r.resumed:  # a dry run too: a real run would skip it
        status += " (already done)"
    elif dry_run:
        status += " (dry run)"
    # A resumed file shows no steps: the plan is this run's, the work an earlier one's.
    steps = steps_text(r.plan.steps) if r.plan and not r.resumed else ""
    target = f" -> {r.output}" if r.output else ""
    line = f"{r.source}{target}: {status}" + (f" ({steps})" if steps else "")
    # What this run wrote, before and after: a file never grows unseen. (An earlier run
    # wrote a resumed file, and printed its sizes then.)
    if r.bytes_after is not None and r.status is not FixStatus.UNCHANGED and not r.resumed:
        line += f", {_size(r.bytes_before)} -> {_size(r.bytes_after)}"
    return line


def render_text(result: FixResult) -> str:
    lines = [_line(r, result.dry_run) for r in result.files]
    counts = result.summary()
    parts = [f"{counts[s.value]} {s.value}" for s in FixStatus if counts[s.value]]
    files = f"{counts['files']} file{'s' if counts['files'] != 1 else ''}"
    lines.append(f"{files}: " + (", ".join(parts) if parts else "nothing to do"))
    return "\n".join(one_line(line) for line in lines) + "\n"


def render_json(result: FixResult) -> str:
    return dumps(result.to_dict())


RENDERERS = {"text": render_text, "json": render_json}

"""A report for people: grouped by file, worst first within a file, with the fix hint.

Every line is built as one line and printed through `one_line`, so a file name with a
newline or an escape sequence shows escaped instead of splitting the report or
reprogramming the terminal.
"""

from __future__ import annotations

from igpreflight.model import (
    ROLE_LABEL,
    FileReport,
    Finding,
    ImageFacts,
    Report,
    Severity,
    VideoFacts,
)
from igpreflight.preflight.rules import rule_info
from igpreflight.textcheck import one_line

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def render(report: Report) -> str:
    lines: list[str] = []
    for file in report.files:
        lines.append(f"{file.path}  ({describe(file)})")
        lines.extend(_finding_lines(file.findings) or ["  ok"])
    for post in report.posts:
        media = ", ".join(m.label for m in post.post.media)
        lines.append(f"post {post.post.id}  ({post.post.media_type or '?'}: {media})")
        lines.extend(_finding_lines(post.findings) or ["  ok"])
    lines.append(summary_line(report))
    return "\n".join(one_line(line) for line in lines) + "\n"


def _finding_lines(findings: list[Finding]) -> list[str]:
    out = []
    for f in sorted(findings, key=lambda f: (_ORDER[f.severity], f.rule)):
        graph = ""
        if f.subcode is not None or f.code is not None:
            graph = f"  [{'/'.join(str(c) for c in (f.code, f.subcode) if c is not None)}]"
        out.append(f"  {f.severity.value:<7} {f.rule:<8} {f.tagged_message}{graph}")
        info = rule_info(f.rule)
        hint = info.fix_hint if info is not None else ""
        if not f.fixable and info is not None and info.fixable:
            hint = ""  # e.g. "no video stream": the usual fix does not apply; the message says why
        if hint and f.severity is not Severity.INFO:
            prefix = "fix:" if f.fixable else "to do:"
            out.append(f"  {'':<7} {'':<8} {prefix} {hint}")
    return out


def describe(file: FileReport) -> str:
    """One parenthesised line of facts: kind, role, format and size."""
    facts = file.facts
    role = ROLE_LABEL[file.role] if file.role else "?"
    if isinstance(facts, ImageFacts):
        return (
            f"image as {role}: {facts.format} {facts.display_width}x{facts.display_height}, "
            f"{_size(facts.bytes)}"
        )
    if isinstance(facts, VideoFacts):
        dims = (
            f"{facts.display_width}x{facts.display_height}" if facts.display_width else "no video"
        )
        fps = f" {facts.fps:g} fps" if facts.fps else ""
        dur = f" {facts.duration:.1f} s" if facts.duration else ""
        codec = facts.video_codec or "-"
        return f"video as {role}: {facts.container} {codec} {dims}{fps}{dur}, {_size(facts.bytes)}"
    return "unreadable"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def summary_line(report: Report) -> str:
    files = len({r.path for r in report.files})
    errors, warnings, fixable = len(report.errors), len(report.warnings), len(report.fixable)
    posts = (
        f", {len(report.posts)} post{'s' if len(report.posts) != 1 else ''}" if report.posts else ""
    )
    tail = f" ({fixable} fixable with `igpreflight fix`)" if fixable else ""
    ignored = f", {report.ignored} ignored by configuration" if report.ignored else ""
    return (
        f"{files} file{'s' if files != 1 else ''}{posts}: "
        f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}{ignored}{tail}"
    )

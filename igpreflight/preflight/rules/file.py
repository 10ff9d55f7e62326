"""FILE001: a file that could not be read or parsed as media, with the probe's reason."""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.model import Finding, Severity, Unreadable
from igpreflight.preflight.rules import REGISTRY


@REGISTRY.file_rule(
    "FILE001",
    Severity.ERROR,
    "file can be read and parsed as media",
    todo="replace the file",
)
def unreadable(u: Unreadable) -> Iterator[Finding]:
    reason = " ".join((u.reason or "unknown reason").split())  # one line, whatever the probe said
    yield unreadable.finding(f"cannot read the file as media: {reason}")

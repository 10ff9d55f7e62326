"""FILE001: a file that could not be read or parsed as media, with the probe's reason."""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.catalog import finding
from igpreflight.model import Finding, Unreadable
from igpreflight.preflight.rules import REGISTRY


@REGISTRY.file_rule("FILE001")
def unreadable(u: Unreadable) -> Iterator[Finding]:
    reason = " ".join((u.reason or "unknown reason").split())  # one line, whatever the probe said
    yield finding("FILE001", f"cannot read the file as media: {reason}")

"""FILE001: a file that could not be read or parsed as media, with the probe's reason;
FILE002: an object the storage would not let us read (listed, but its GET refused);
FILE003: an object the storage failed to serve (5xx or throttling after every retry)."""

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
    if u.refused or u.unavailable:
        return
    reason = " ".join((u.reason or "unknown reason").split())  # one line, whatever the probe said
    yield unreadable.finding(f"cannot read the file as media: {reason}")


@REGISTRY.file_rule(
    "FILE002",
    Severity.ERROR,
    "object storage lets the credentials read the object",
    todo="grant the credentials s3:GetObject on the object (listing it is not enough)",
)
def read_refused(u: Unreadable) -> Iterator[Finding]:
    if u.refused:
        yield read_refused.finding(" ".join(u.reason.split()))


@REGISTRY.file_rule(
    "FILE003",
    Severity.ERROR,
    "object storage serves the object",
    todo="run again later: the storage failed, not the file (a 5xx answer, throttling or a"
    " dropped connection, after every retry)",
)
def store_failed(u: Unreadable) -> Iterator[Finding]:
    if u.unavailable and not u.refused:
        yield store_failed.finding(" ".join(u.reason.split()))


def unfixable_reason(u: Unreadable) -> str:
    """fix's one line for a file it could not read: the rule's code, the probe's reason
    and the rule's to-do, as check prints under the finding (a refused object says
    which permission to grant, one the storage failed to serve to run again)."""
    rule = read_refused if u.refused else store_failed if u.unavailable else unreadable
    reason = " ".join((u.reason or "unknown reason").split())
    return f"{rule.code} {reason}; to do: {rule.info.fix_hint}"

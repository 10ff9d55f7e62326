"""One line after the report for what the storage did to a whole batch.

A GET refused (s3:GetObject not granted, listing allowed) is FILE002 on each object;
when that is every file of the batch, the credentials are the problem, not the
files, and the commands say so once after the report, naming the bucket(s). Outputs
written over objects without igpreflight's metadata are said once too: a store that
drops user metadata makes every re-run redo the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from igpreflight.model import Finding

if TYPE_CHECKING:
    from igpreflight.transcode.types import FileFixResult


def every_read_refused(files: Sequence[tuple[str, Sequence[Finding]]]) -> str | None:
    """The line to show when every (path, findings) of a batch is a refused read."""
    from igpreflight.preflight.rules.file import read_refused

    code = read_refused.code
    if not files or not all(any(f.rule == code for f in found) for _, found in files):
        return None
    buckets = sorted({path.split("/")[2] for path, _ in files if path.startswith("s3://")})
    named = ", ".join(repr(b) for b in buckets)
    return (
        f"access denied reading every object ({len(files)}) of bucket{'s' * (len(buckets) > 1)} "
        f"{named}: the credentials may list them but not read them; grant them s3:GetObject"
    )


def unmarked_note(files: Sequence[FileFixResult], *, dry_run: bool = False) -> str:
    """Why outputs were written over objects without igpreflight's metadata: a store
    that drops user metadata would otherwise redo the whole batch on every re-run
    without a word."""
    count = sum(f.unmarked_output for f in files)
    outputs = "output" if count == 1 else "outputs"
    return (
        f"{count} {outputs} under --out already held an object without igpreflight's"
        f" metadata, {'to be ' if dry_run else ''}written over; if an earlier fix wrote them, this storage does not keep"
        " object metadata (x-amz-meta-*), so a re-run cannot skip finished files"
    )

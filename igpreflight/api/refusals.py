"""One line for a batch whose every object the storage refused to read.

A GET refused (s3:GetObject not granted, listing allowed) is FILE002 on each object;
when that is every file of the batch, the credentials are the problem, not the
files, and the commands say so once after the report, naming the bucket(s).
"""

from __future__ import annotations

from collections.abc import Sequence

from igpreflight.model import Finding


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

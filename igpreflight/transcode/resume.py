"""Resuming a `fix` batch through the output folder's ledger.

A file an earlier run already fixed, from the same source bytes with the options
that shape its kind of output, into an output that is still the one recorded, is
settled as resumed instead of being fixed again.
"""

from __future__ import annotations

from igpreflight.hashing import sha256_file
from igpreflight.transcode.jobs import _Planned
from igpreflight.transcode.ledger import Ledger, kind_of, options_key
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus


def _resume(planned: list[_Planned], ledger: Ledger | None, options: FixOptions) -> list[int]:
    """Settle every file an earlier run already fixed with the options that shape its
    kind of output; the indexes left to do."""
    todo = []
    for i, p in enumerate(planned):
        if ledger is None or p.result is not None or p.output is None:
            todo.append(i)
            continue
        if not ledger.has(p.output):
            # Nothing recorded there (a first run): nothing to resume, so the source
            # is hashed for the record later, beside the work (run_job, finish).
            todo.append(i)
            continue
        p.source_sha = sha256_file(p.job.source)
        status = ledger.done(p.source_sha, options_key(options, kind_of(p.facts)), p.output)
        if status is None:
            todo.append(i)
            continue
        p.result = resumed_result(p, status, str(p.output), p.output.stat().st_size)
    return todo


def resumed_result(p: _Planned, status: str, output: str, bytes_after: int) -> FileFixResult:
    """The result of a file an earlier run already fixed into `output`."""
    return FileFixResult(
        source=p.job.display,
        output=output,
        status=FixStatus(status),
        plan=p.plan,
        before=list(p.before or []),
        bytes_before=getattr(p.facts, "bytes", 0) or 0,
        bytes_after=bytes_after,
        resumed=True,
    )

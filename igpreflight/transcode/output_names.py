"""Phase 2 of a `fix` batch: every output's name, chosen before any file is written.

Names are chosen for the whole batch at once, so that parallel work never races
for a file name: never two outputs on one name, never an output over an input,
and in place never over another file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from igpreflight.transcode.jobs import _Planned


def _key(path: Path) -> str:
    """Names compare case-insensitively: on macOS and Windows a.JPG is a.jpg."""
    return os.path.normcase(os.path.abspath(path)).lower()


def _candidates(want: Path, source_ext: str):
    yield want
    if source_ext and source_ext.lower() != want.suffix.lower().lstrip("."):
        yield want.with_name(f"{want.stem}.{source_ext}{want.suffix}")
    n = 2
    while True:
        yield want.with_name(f"{want.stem}-{n}{want.suffix}")
        n += 1


def assign_outputs(planned: Sequence[_Planned], out: Path | None) -> None:
    """Give every planned file its output path.

    The extension follows the output format. Files that keep their own name are
    served first; a later file that would land on a taken name (a.png and a.jpg
    both becoming a.jpg), or on any input of the batch, gets `a.png.jpg`, then
    `a-2.jpg`. In place, an existing file that is not the input is never replaced.
    """
    taken = {_key(p.job.source) for p in planned}
    active = [p for p in planned if p.result is None and p.plan is not None]

    def wanted(p: _Planned) -> Path:
        base = (out / p.job.rel) if out is not None else Path(p.job.display)
        ext = p.plan.extension if p.plan is not None else ""
        own = p.job.source.suffix.lstrip(".")
        if ext.lower() == own.lower():
            ext = own  # photo.JPG stays photo.JPG (the probe's extension is lower case)
        return base.with_suffix(f".{ext}") if ext else base

    # Outputs that keep the input's own name go first, then input order.
    order = sorted(
        range(len(active)),
        key=lambda i: (wanted(active[i]).name != active[i].job.source.name, i),
    )
    claimed: set[str] = set()
    for i in order:
        p = active[i]
        want = wanted(p)
        source_ext = p.job.source.suffix.lstrip(".")
        for cand in _candidates(want, source_ext):
            key = _key(cand)
            is_self = key == _key(p.job.source)
            if key in claimed:
                continue
            if out is not None and key in taken:
                continue  # never write over an input
            if out is None and not is_self and (key in taken or cand.exists()):
                continue  # in place: never replace another file
            claimed.add(key)
            p.output = cand
            break

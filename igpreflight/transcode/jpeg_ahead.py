"""The strict JPEG decoders of a fix batch, started and fed ahead of the work.

The decode runs in helper processes (`preflight.jpeg_child`). A batch starts them
while it plans, and with one worker has the next file's JPEG decoded while the
current one is resized and encoded: the second core decodes, where it would wait.
With more workers every core has a file already.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from igpreflight.model import ImageFacts
from igpreflight.transcode.image import strict_jpeg_size
from igpreflight.transcode.types import FixOptions

if TYPE_CHECKING:
    from igpreflight.transcode.batch import FixJob, _Planned

JPEG_SUFFIXES = (".jpg", ".jpeg", ".mpo")


def prestart(jobs: Sequence[FixJob], workers: int) -> None:
    """Start the decoders while the plans are made: one a worker (two for one worker,
    which decodes ahead), one a JPEG at most. Every JPEG a fix converts or passes is
    decoded."""
    if os.name != "posix":
        return
    jpegs = sum(1 for j in jobs if j.source.suffix.lower() in JPEG_SUFFIXES)
    if jpegs:
        from igpreflight.preflight import jpeg_child

        jpeg_child.prestart(min(2 if workers == 1 else workers, jpegs))


def decode_ahead(p: _Planned, options: FixOptions) -> None:
    """Have the JPEG this planned job will decode decoded now (see the module)."""
    if os.name != "posix" or options.dry_run or p.result is not None or p.plan is None:
        return
    if not isinstance(p.facts, ImageFacts):
        return
    size = strict_jpeg_size(p.facts, p.plan, options)
    if size is not None:
        from igpreflight.preflight import jpeg_child

        jpeg_child.decode_ahead(os.path.abspath(p.job.source), size)


def drop() -> None:
    """Forget decodes asked ahead and never taken (a file that failed first)."""
    jpeg_child = sys.modules.get("igpreflight.preflight.jpeg_child")
    if jpeg_child is not None:
        jpeg_child.drop_ahead()

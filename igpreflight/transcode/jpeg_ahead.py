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
from pathlib import Path

from igpreflight.model import Facts, ImageFacts
from igpreflight.transcode.types import FixOptions, FixPlan

JPEG_SUFFIXES = (".jpg", ".jpeg", ".mpo")


def prestart(sources: Sequence[Path], workers: int) -> None:
    """Start the decoders while the plans of the batch's `sources` are made: one a
    worker (two for one worker, which decodes ahead), one a JPEG at most. Every JPEG a
    fix converts or passes is decoded. (The batch passes its files' paths in: this
    module knows no batch, so the batch can call it without a loop between them.)"""
    if os.name != "posix":
        return
    jpegs = sum(1 for source in sources if source.suffix.lower() in JPEG_SUFFIXES)
    if jpegs:
        from igpreflight.preflight import jpeg_child

        jpeg_child.prestart(min(2 if workers == 1 else workers, jpegs))


def decode_ahead(
    source: Path, facts: Facts | None, plan: FixPlan | None, options: FixOptions
) -> None:
    """Have the JPEG that `plan` will decode from `source` decoded now (see the
    module); nothing when there is no plan to run or the file is no image."""
    if os.name != "posix" or options.dry_run or plan is None:
        return
    if not isinstance(facts, ImageFacts):
        return
    from igpreflight.transcode.image import strict_jpeg_size  # a batch of videos needs none

    size = strict_jpeg_size(facts, plan, options)
    if size is not None:
        from igpreflight.preflight import jpeg_child

        jpeg_child.decode_ahead(os.path.abspath(source), size)


def drop() -> None:
    """Forget decodes asked ahead and never taken (a file that failed first)."""
    jpeg_child = sys.modules.get("igpreflight.preflight.jpeg_child")
    if jpeg_child is not None:
        jpeg_child.drop_ahead()

"""Per-file progress for long video encodes: a line on a terminal, nothing in pipes or CI.

`apply_video` reports 0..1 from ffmpeg's `-progress` output; this turns that
into `name: 42%` on stderr, rewritten in place, only when stderr is a terminal
and no CI variable is set, so logs and piped reports stay clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "TF_BUILD")


def interactive(stream: TextIO) -> bool:
    """True when progress may be drawn on `stream`."""
    if any(os.environ.get(name) for name in CI_VARIABLES):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_progress(label: str, stream: TextIO | None = None) -> Callable[[float], None] | None:
    """A progress callback drawing `label: NN%` on `stream` (stderr), or None when
    the stream is not an interactive terminal. The line ends at 100%."""
    out = stream if stream is not None else sys.stderr
    if not interactive(out):
        return None
    shown = [-1]

    def show(fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if percent == shown[0]:
            return
        shown[0] = percent
        out.write(f"\r{label}: {percent:3d}%" + ("\n" if percent == 100 else ""))
        out.flush()

    return show

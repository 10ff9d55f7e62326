"""Progress the API reports, and how a front end draws it.

`check`, `fix` and `run` take a `progress` callable that hears of each finished file.
A batch's progress object may also have `file(name)`: a callback (or None) that hears
0..1 of one long encode (`transcode.batch.FileProgress`), which `fix` asks for
each file it encodes.
`encode_progress` is that callback drawn on the process's terminal (`name: 42%`, in
the batch's bar when there is one), or None where nothing may be drawn.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["encode_progress"]


def encode_progress(label: str) -> Callable[[float], None] | None:
    """A 0..1 callback drawing `label: NN%` on the terminal, None when stderr is not
    an interactive terminal (pipes, CI, -q). Loaded when a fix first draws one."""
    from igpreflight.transcode.progress import terminal_progress

    return terminal_progress(label)

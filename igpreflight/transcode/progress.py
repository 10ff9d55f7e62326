"""Per-file progress of a long video encode, shown in the terminal's progress bar.

`apply_video` reports 0..1 from ffmpeg's `-progress` output; this turns it into
`name: 42%`: the text of the batch's bar when `fix` draws one, else a bar of its
own. Nothing at all when stderr is not an interactive terminal (pipes, CI, -q).
"""

from __future__ import annotations

from collections.abc import Callable

from igpreflight.terminal import TERMINAL, Progress, Terminal, is_interactive

interactive = is_interactive  # the name batch drivers and commands have used


def terminal_progress(label: str, term: Terminal | None = None) -> Callable[[float], None] | None:
    """A 0..1 progress callback showing `label: NN%` on `term` (the process's terminal),
    or None when nothing may be drawn."""
    term = term or TERMINAL
    if not term.interactive:
        return None
    batch = term.bar
    own: list[Progress] = []
    shown = [-1]

    def show(fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if percent == shown[0]:
            return
        shown[0] = percent
        if batch is not None:
            batch.status(f"{label}: {percent}%")
            return
        if not own:
            own.append(term.progress(100, label=label, unit="%"))
        own[0].advance(percent - own[0].count)
        if percent == 100:
            own[0].close()

    return show

"""The progress bar igpreflight draws on stderr: one line, redrawn in place.

A bar counts distinct items and never passes its total, and draws only when its
terminal is interactive (`terminal.Terminal` decides that, and prints the lines
the bar is drawn again below). Split from terminal.py, which creates the bars.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TextIO

from igpreflight.textcheck import one_line

CLEAR_LINE = "\r\033[K"


class Screen(Protocol):
    """What a bar needs of its terminal (terminal.Terminal): where and whether to
    draw, the lock its lines share, and which bar is on screen."""

    _lock: Any
    _bar: Progress | None

    @property
    def stream(self) -> TextIO: ...

    @property
    def interactive(self) -> bool: ...


def _amount(n: float, unit: str) -> str:
    if unit != "bytes":
        return f"{n:.0f}"
    for name in ("B", "KB", "MB", "GB"):
        if n < 1000 or name == "GB":
            return f"{n:.0f} {name}" if name == "B" else f"{n:.1f} {name}"
        n /= 1000
    return f"{n:.1f} GB"


class Progress:
    """A bar `label [#####.....] 12/40 text` on stderr, redrawn in place.

    Items are counted once each (an item reported again only updates the text), and
    the count shown never passes the total. Drawn only when the terminal is
    interactive; otherwise every call is a cheap no-op. Thread-safe.
    """

    WIDTH = 20
    MIN_INTERVAL = 0.05  # seconds between two redraws, except for the last one

    def __init__(
        self,
        term: Screen,
        total: float | None = None,
        *,
        label: str = "",
        unit: str = "",
        describe: Callable[[Any], str] = str,
    ) -> None:
        self.term = term
        self.total = total
        self.label = label
        self.unit = unit
        self.describe = describe
        self.count: float = 0
        self.text = ""
        self.since = time.monotonic()  # when `text` was set: a wait shows its seconds
        self.waiting = False  # True from `status` until the next finished item
        self.drawn = False
        self.active = term.interactive
        self._seen: set[int] = set()  # hashes of the items counted
        self._last = 0.0
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, total: float) -> None:
        """The total, once known (batch drivers call this)."""
        with self.term._lock:
            self.total = total
            self._draw(force=True)

    def __call__(self, item: Any) -> None:
        """One finished item (the batch drivers' callback)."""
        self.done(item)

    def done(self, item: Any = None, text: str | None = None) -> None:
        """Count `item` as finished, once; show `text` (or the item described)."""
        if not self.active:
            return  # nothing is drawn: keep nothing (a batch may be millions of files)
        with self.term._lock:
            key = _key(item)
            seen = None if key is None else hash(key)  # 8 bytes a file, not its path
            if seen is None or seen not in self._seen:
                if seen is not None:
                    self._seen.add(seen)
                self.count += 1
            self.waiting = False
            if text is not None:
                self.text = text
            elif item is not None:
                self.text = self.describe(item)
            self._draw(force=self.total is not None and self.count >= self.total)

    def advance(self, amount: float) -> None:
        """Add `amount` (bytes) to the count."""
        if not self.active:
            return
        with self.term._lock:
            self.count += amount
            self._draw(force=self.total is not None and self.count >= self.total)

    def status(self, text: str) -> None:
        """Change the text after the counter (what is happening now). While the text
        stays, the bar shows how long it has (`... (12 s)`), redrawn every second."""
        if not self.active:
            return
        with self.term._lock:
            if text != self.text or not self.waiting:
                self.text, self.since = text, time.monotonic()
            self.waiting = True
            self._draw(force=True)
            self._tick()

    def _tick(self) -> None:
        """Redraw once a second while a status waits (a timer thread, daemon)."""
        if not self.active or self._timer is not None:
            return

        def again() -> None:
            with self.term._lock:
                self._timer = None
                if self.term._bar is self and self.drawn:
                    self._draw(force=True)
                    self._tick()

        self._timer = threading.Timer(1.0, again)
        self._timer.daemon = True
        self._timer.start()

    def close(self) -> None:
        """Take the bar off the screen (the lines printed above it stay)."""
        with self.term._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.drawn:
                self.term.stream.write(CLEAR_LINE)
                self.term.stream.flush()
                self.drawn = False
            if self.term._bar is self:
                self.term._bar = None

    def line(self) -> str:
        """The bar as drawn: never wider than the terminal, count capped at the total."""
        shown = self.count if self.total is None else min(self.count, self.total)
        if self.unit == "%":
            counter = f"{shown:3.0f}%"
        elif self.total:
            filled = int(self.WIDTH * shown // self.total)
            counter = (
                f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                f"{_amount(shown, self.unit)}/{_amount(self.total, self.unit)}"
            )
        else:
            counter = f"[{_amount(shown, self.unit)}]"
        text = self.text
        waited = time.monotonic() - self.since
        if text and self.waiting and waited >= 1:
            text = f"{text} ({waited:.0f} s)"
        parts = [one_line(p) for p in (self.label, counter, text) if p]  # a name may hold ESC
        import shutil  # with bz2 and lzma, 2 ms: only for a progress bar

        width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
        return " ".join(parts)[:width]

    def _draw(self, force: bool = False) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if not force and now - self._last < self.MIN_INTERVAL:
            return
        self._last = now
        out = self.term.stream
        other = self.term._bar
        if other is not None and other is not self and other.drawn:
            other.drawn = False  # one line on screen: the newest bar takes it
        self.term._bar = self
        out.write(CLEAR_LINE + self.line())
        out.flush()
        self.drawn = True


def _key(item: Any) -> Hashable | None:
    """What makes an item the same item again: its `source`/`path`/`id`, or itself."""
    if item is None:
        return None
    for attr in ("source", "path", "post_id", "display"):
        value = getattr(item, attr, None)
        if isinstance(value, (str, int)):
            return (attr, value)
    try:
        hash(item)
    except TypeError:
        return None
    return item

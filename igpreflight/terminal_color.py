"""Colour on the terminal: when text is coloured and how.

--color always|never, or auto: the stream is a terminal, NO_COLOR is unset or empty
and TERM is not `dumb`. Severity and status words map to SGR codes (`STYLES`).

Split from `terminal.py` because colour is a pure question of the environment and a
stream, with no state: the `Terminal` asks it for its own messages, and the commands
colour a text report's severity and status words with `paint_report` before printing
it on stdout.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

from igpreflight.states import StrEnum


class ColorMode(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


# Severity -> SGR code. Words, not numbers, are what the rest of the code speaks.
STYLES = {
    "error": "1;31",
    "failed": "1;31",
    "warning": "33",
    "queued": "33",
    "info": "36",
    "note": "36",
    "ok": "32",
    "fixed": "32",
    "published": "32",
    "dim": "2",
}


def color_enabled(mode: ColorMode | str, stream: TextIO) -> bool:
    """Whether text for `stream` is coloured under `mode` (see the module docstring)."""
    mode = ColorMode(mode)
    if mode is not ColorMode.AUTO:
        return mode is ColorMode.ALWAYS
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:
        return False


def paint(text: str, style: str, enabled: bool = True) -> str:
    """`text` in the colour of `style` (a severity or status word), when enabled."""
    code = STYLES.get(style)
    return f"\033[{code}m{text}\033[0m" if enabled and code else text


# A text report's severity and status words, where the renderers put them: a finding's
# severity (or a URL check's mark) after two spaces at the start of a line; a file's or
# post's status after its name and a colon, ending there or followed by `(`, `[`, `,`, `:`.
_REPORT_WORD = re.compile(
    r"(?m)(?:^  (?P<sev>error|warning|info|ok|FAIL|warn)(?=\s|$)"
    r"|: (?P<status>copied|converted|remuxed|transcoded|failed|unfixable|refused|published"
    r"|queued)(?=$| \(| \[|,|:))"
)
_WORD_STYLE = {
    "unfixable": "error",
    "refused": "error",
    "FAIL": "error",
    "converted": "fixed",
    "remuxed": "fixed",
    "transcoded": "fixed",
    "copied": "ok",
    "warn": "warning",
}


def paint_report(text: str, enabled: bool) -> str:
    """A text report with its severity/status words coloured (nothing else changes)."""
    if not enabled:
        return text

    def one(m: re.Match[str]) -> str:
        word = m.group("sev") or m.group("status")
        style = _WORD_STYLE.get(word, word)
        return m.group(0)[: -len(word)] + paint(word, style)

    return _REPORT_WORD.sub(one, text)

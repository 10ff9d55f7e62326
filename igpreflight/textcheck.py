"""Text that cannot travel: lone UTF-16 surrogates and NUL, found and shown escaped.

A Python string can hold a lone surrogate (U+D800-U+DFFF): JSON's "\\ud83d" escape
gives one, and so does JavaScript's `.slice()` cutting an emoji in half before the
text reaches us, or a file name that is not UTF-8 (os.fsdecode). No UTF-8 encoder
takes it, so it can be neither sent to Instagram nor printed, stored in SQLite or
written to a report. A NUL ends C strings and XML cannot hold it at all. The rule
POST021 refuses such text in a post; every report shows it escaped (`\\ud83d`,
`\\u0000`) instead of crashing on it. A leaf module: it imports nothing.
"""

from __future__ import annotations

import re

_INVALID = re.compile("[\x00\ud800-\udfff]")


def invalid_chars(text: str) -> list[tuple[int, str]]:
    """(position, character) of every lone surrogate and NUL in `text`, positions
    counted in code points from 0."""
    return [(m.start(), m.group()) for m in _INVALID.finditer(text)]


def escaped_char(char: str) -> str:
    """One character as its escape: `\\ud83d`, `\\u0000`."""
    return f"\\u{ord(char):04x}"


def describe(char: str) -> str:
    """What the character is, for a message: 'a lone UTF-16 surrogate \\ud83d'."""
    if char == "\x00":
        return "a NUL character \\u0000"
    return f"a lone UTF-16 surrogate {escaped_char(char)}"


def printable(text: str) -> str:
    """`text` with each lone surrogate and NUL replaced by its escape, so it can be
    encoded as UTF-8 and carried by any format (inside a JSON string the escape
    reads back as the same character)."""
    if not _INVALID.search(text):
        return text
    return _INVALID.sub(lambda m: escaped_char(m.group()), text)

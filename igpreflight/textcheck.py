"""Text that cannot travel: lone UTF-16 surrogates and NUL, found and shown escaped.

A Python string can hold a lone surrogate (U+D800-U+DFFF): JSON's "\\ud83d" escape
gives one, and so does JavaScript's `.slice()` cutting an emoji in half before the
text reaches us, or a file name that is not UTF-8 (os.fsdecode). No UTF-8 encoder
takes it, so it can be neither sent to Instagram nor printed, stored in SQLite or
written to a report. A NUL ends C strings and XML cannot hold it at all. The rule
POST021 refuses such text in a post; every report shows it escaped (`\\ud83d`,
`\\u0000`) instead of crashing on it; `one_line` shows control characters escaped
where text is printed for people. A leaf module: it imports nothing.
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


# Characters a terminal acts on instead of showing, in a file name or a message: C0
# and C1 controls and DEL (a newline splits a report's line, ESC starts a sequence
# that recolours, retitles or rewrites the screen), the Unicode line and paragraph
# separators, and the bidi embeddings, overrides and isolates that reorder what
# follows them ("Trojan Source").
UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown_escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else escaped_char(char))


def one_line(text: str) -> str:
    """`text` as one inert line for a person to read: each control character is shown
    as its escape (`new\\nline.webp`, `\\x1b[31m`), everything else unchanged.
    For the text report, fix's lines and the progress bar, where a file name is
    printed raw; machine formats (JSON, SARIF...) escape by their own rules."""
    if not UNSHOWN.search(text):
        return text
    return UNSHOWN.sub(lambda m: _shown_escape(m.group()), text)


def shown_lines(text: str) -> str:
    """`text` as inert lines: as `one_line`, but newlines and tabs kept. For the
    multi-line bodies of a report that people read in a browser (a JUnit failure's
    text), where a line break is meant and ESC or a bidi override is not."""
    if not UNSHOWN.search(text):
        return text
    return UNSHOWN.sub(
        lambda m: m.group() if m.group() in "\n\t" else _shown_escape(m.group()), text
    )


def printable(text: str) -> str:
    """`text` with each lone surrogate and NUL replaced by its escape, so it can be
    encoded as UTF-8 and carried by any format (inside a JSON string the escape
    reads back as the same character)."""
    if not _INVALID.search(text):
        return text
    return _INVALID.sub(lambda m: escaped_char(m.group()), text)

"""A manifest's bytes as text: UTF-8, which JSON (RFC 8259) and TOML both require.

`check --manifest -` read stdin through `sys.stdin`, which decodes with the locale's
encoding (a Windows pipe's ANSI code page, PYTHONIOENCODING, a Latin-1 locale): a
Node tool's UTF-8 caption came out as mojibake that passed every rule and would have
been published so; on a UTF-8 locale a byte that is not UTF-8 became a "lone UTF-16
surrogate" (POST021) the caller never sent. A JSON file was decoded with
errors="replace", so such a byte became U+FFFD in the caption, silently. Here the
bytes are decoded once and strictly, a leading BOM (which PowerShell and some Windows
editors write) is dropped, and an empty input or a closed stdin says what it is
rather than "Expecting value: line 1 column 1" or a traceback.
"""

from __future__ import annotations

import codecs
import sys

from igpreflight.boundedread import InputError


def manifest_text(raw: bytes, where: str) -> str:
    """`raw` decoded as UTF-8 without its BOM; InputError (one line naming `where`
    and the first bad byte's line) when it is not UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{where} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
            "save or send it as UTF-8"
        ) from None


def read_stdin(limit: int) -> str:
    """At most `limit` bytes of stdin as text (`manifest_text`), whatever the locale.

    InputError when stdin is closed, cannot be read, holds more than `limit` bytes or
    only whitespace. A host that replaced `sys.stdin` with a text stream (io.StringIO)
    has its text taken as it is."""
    stream = sys.stdin
    if stream is None:  # the process was started with file descriptor 0 closed
        raise InputError("stdin is closed: pipe the manifest's JSON into it")
    buffer = getattr(stream, "buffer", None)
    try:
        data = buffer.read(limit + 1) if buffer is not None else stream.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read stdin: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"the manifest on stdin is larger than {limit // (1024 * 1024)} MB")
    text = manifest_text(data, "stdin") if isinstance(data, bytes) else data
    if not text.strip():
        raise InputError("stdin is empty: pipe the manifest's JSON into it")
    return text

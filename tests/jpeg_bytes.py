"""Byte surgery on JPEG headers for the Pillow-free JPEG path's tests: segments to
insert, drop or patch, and EXIF blocks built entry by entry (what Pillow cannot
write: a LONG orientation, an entry pointing past the block, a BigTIFF header).
"""

from __future__ import annotations

import struct

SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}
XMP = b"http://ns.adobe.com/xap/1.0/\x00"


def seg(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each header segment up to and including SOS."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def insert(data: bytes, *new: bytes, before: int | None = None) -> bytes:
    """`new` segments after SOI, or before the first segment whose marker is in
    `before` (SOF when `before` is -1)."""
    at = 2
    if before is not None:
        wanted = SOF if before == -1 else {before}
        at = next(start for marker, start, _ in segments(data) if marker in wanted)
    return data[:at] + b"".join(new) + data[at:]


def drop(data: bytes, marker: int) -> bytes:
    """`data` without its segments of `marker`."""
    for m, start, end in reversed(segments(data)):
        if m == marker:
            data = data[:start] + data[end:]
    return data


def take(data: bytes, marker: int) -> list[bytes]:
    return [data[start:end] for m, start, end in segments(data) if m == marker]


def patch_sof(data: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite the frame header's payload at `offset` (0 precision, 1 height, 3 width,
    5 components)."""
    start = next(s for m, s, _ in segments(data) if m in SOF) + 4 + offset
    return data[:start] + value + data[start + len(value) :]


def exif(
    entries: list[tuple[int, int, int, bytes]],
    order: str = "<",
    extra: bytes = b"",
    head: bytes = b"Exif\x00\x00",
    count: int | None = None,
) -> bytes:
    """An APP1 EXIF payload: IFD0 of `entries` (tag, type, count, 4 value bytes)
    followed by `extra` (where out-of-line values point: byte 8 + 2 + 12n + 4 on)."""
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    body = struct.pack(order + "H", len(entries) if count is None else count)
    for tag, kind, n, value in entries:
        body += struct.pack(order + "HHL", tag, kind, n) + value.ljust(4, b"\0")[:4]
    return head + magic + struct.pack(order + "L", 8) + body + struct.pack(order + "L", 0) + extra


def short(value: int, order: str = "<") -> bytes:
    return struct.pack(order + "H", value)


def xmp(inner: str) -> bytes:
    """An APP1 XMP payload whose rdf:RDF holds `inner`."""
    return (
        XMP
        + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>'
        + inner.encode()
        + b"</rdf:RDF></x:xmpmeta>"
    )

"""Truncation of Matroska/WebM and AVI files, from the size their header declares.

MediaInfo reads the headers of a Matroska or AVI file that was cut short and
reports its streams as if nothing were missing. Both formats declare the size
of their top element (Matroska's Segment, AVI's RIFF chunk) in the first bytes,
so comparing that with the file size finds the cut without reading the rest.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

EBML_ID = b"\x1a\x45\xdf\xa3"
SEGMENT_ID = b"\x18\x53\x80\x67"


def _vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer at pos: (value, length, all_ones=unknown size)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    if pos + length > len(data):
        return None
    value = first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    unknown = value == (1 << (7 * length)) - 1
    return value, length, unknown


def matroska_truncation(head: bytes, size: int) -> str | None:
    """A Matroska/WebM file shorter than its Segment says (head: the first bytes)."""
    if not head.startswith(EBML_ID):
        return None
    header = _vint(head, 4)
    if header is None:
        return None
    pos = 4 + header[1] + header[0]
    if head[pos : pos + 4] != SEGMENT_ID:
        return None
    segment = _vint(head, pos + 4)
    if segment is None or segment[2]:  # unknown size: a live recording, nothing to compare
        return None
    end = pos + 4 + segment[1] + segment[0]
    if end > size:
        return f"truncated Matroska: the file ends {end - size:,} bytes early"
    return None


def avi_truncation(head: bytes, size: int) -> str | None:
    """An AVI file shorter than its RIFF chunk says."""
    if head[:4] != b"RIFF" or head[8:12] != b"AVI ":
        return None
    (declared,) = struct.unpack("<I", head[4:8])
    if declared + 8 > size:
        return f"truncated AVI: the file ends {declared + 8 - size:,} bytes early"
    return None


def truncation_reason(f: BinaryIO, size: int) -> str | None:
    """Why a Matroska/WebM or AVI file is cut short, or None (other formats: None)."""
    f.seek(0)
    head = f.read(256)
    return matroska_truncation(head, size) or avi_truncation(head, size)

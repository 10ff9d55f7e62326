"""A JPEG rewritten segment by segment, its pixels' bytes untouched: a corrupt EXIF
block dropped ("strip-exif"), an ICC profile viewers ignore replaced by sRGB's
("relabel-srgb").

Both repair a file whose pixels are fine without decoding one (a re-encode loses
a generation). Only the segments before the first scan are read; the scans and
everything after them are copied as they are.

An MPF index (APP2 "MPF", a gain map or a preview after the main picture) gives
its pictures' offsets from its own header: when a segment after that header
changes size, the pictures move and their offsets move with them.
"""

from __future__ import annotations

import struct
from pathlib import Path

from igpreflight import atomic

_EXIF = b"Exif\x00\x00"
_ICC = b"ICC_PROFILE\x00"
_MPF = b"MPF\x00"
_ICC_CHUNK = 65535 - 2 - len(_ICC) - 2  # profile bytes one APP2 segment holds
_MP_ENTRY = 0xB002


class SegmentError(ValueError):
    """The header segments cannot be rewritten (an MPF index this reader does not follow)."""


def icc_segments(icc: bytes) -> bytes:
    """`icc` as APP2 ICC_PROFILE segments (ICC.1 B.4: numbered chunks)."""
    chunks = [icc[i : i + _ICC_CHUNK] for i in range(0, len(icc), _ICC_CHUNK)] or [b""]
    out = b""
    for n, chunk in enumerate(chunks, start=1):
        body = _ICC + bytes([n, len(chunks)]) + chunk
        out += b"\xff\xe2" + struct.pack(">H", 2 + len(body)) + body
    return out


def _segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """(marker, start, end) of each segment before the first scan, and where the
    scan (or whatever ends the header) starts; fill bytes are left out."""
    found = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        found.append((marker, pos, pos + 2 + length))
        pos += 2 + length
    return found, pos


def rewrite(src: Path, dst: Path, drop_exif: bool = False, icc: bytes | None = None) -> None:
    """Copy the JPEG `src` to `dst` atomically with its EXIF block(s) dropped
    (`drop_exif`) and its ICC profile replaced by `icc` (where its first ICC
    segment was, else after the APP0/APP1 segments); every other byte kept."""
    data = Path(src).read_bytes()
    segments, scan = _segments(data)

    def has(marker: int, start: int, tag: int, head: bytes) -> bool:
        return marker == tag and data[start + 4 : start + 4 + len(head)] == head

    icc_at = next((i for i, (m, s, _) in enumerate(segments) if has(m, s, 0xE2, _ICC)), None)
    if icc_at is None:
        icc_at = next((i for i, seg in enumerate(segments) if seg[0] not in (0xE0, 0xE1)), None)
    out = bytearray(data[:2])  # SOI
    mpf: tuple[int, int] | None = None  # the MPF header's offset in `data` and in `out`
    for index, (marker, start, end) in enumerate(segments):
        if icc is not None and index == icc_at:
            out += icc_segments(icc)
        if has(marker, start, 0xE2, _MPF) and mpf is None:
            mpf = (start + 4 + len(_MPF), len(out) + 4 + len(_MPF))
        dropped = (icc is not None and has(marker, start, 0xE2, _ICC)) or (
            drop_exif and has(marker, start, 0xE1, _EXIF)
        )
        if not dropped:
            out += data[start:end]
    if icc is not None and icc_at is None:  # no segment but APP0/APP1 before the scan
        out += icc_segments(icc)
    if mpf is not None:
        # The first picture grew by `grown`; the ones after it moved from the MPF header by:
        moved, grown = (len(out) - mpf[1]) - (scan - mpf[0]), len(out) - scan
        if moved or grown:
            _move_pictures(out, mpf[1], moved, grown)
    out += data[scan:]
    atomic.write_bytes(Path(dst), bytes(out))


def _move_pictures(out: bytearray, base: int, by: int, grown: int) -> None:
    """Move by `by` bytes the offsets of the MP entries (every picture after the
    first) of the MPF index whose TIFF header starts at `base` in `out`, and add
    `grown` to the first picture's size."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(out[base : base + 2]))
    if order is None:
        raise SegmentError("an MPF index without a TIFF header")
    (ifd,) = struct.unpack(order + "I", out[base + 4 : base + 8])
    (count,) = struct.unpack(order + "H", out[base + ifd : base + ifd + 2])
    for n in range(count):
        at = base + ifd + 2 + 12 * n
        tag, _kind, size, where = struct.unpack(order + "HHII", out[at : at + 12])
        if tag != _MP_ENTRY:
            continue
        for e in range(size // 16):
            entry = base + where + 16 * e + 4
            length, offset = struct.unpack(order + "II", out[entry : entry + 8])
            if offset:  # a picture after the first
                offset += by
            else:  # 0: the first picture, the one this file starts with
                length += grown
            out[entry : entry + 8] = struct.pack(order + "II", length, offset)
        return
    raise SegmentError("an MPF index without MP entries")

"""Hostile media for tests: a small real MP4 or MKV with one header field patched.

The red-team files of issue 14 were 186 KB MP4s with one number changed in a
box (mdhd timescale 0, mdhd duration 2^32-1, a sample table count 2^32-1);
readers that trust the number loop for minutes or encode hours of frames.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from igpreflight.preflight import isobmff

# Boxes to descend into while looking for a box (moov's tracks and tables).
_DESCEND = isobmff.CONTAINERS | {b"moov"}


def find_box(data: bytes, kind: bytes, nth: int = 0) -> isobmff.Box:
    """The nth box of type `kind` anywhere in the movie's box tree."""
    f = io.BytesIO(data)
    found: list[isobmff.Box] = []

    def walk(start: int, end: int) -> None:
        for box in isobmff.iter_boxes(f, start, end):
            if box.type == kind:
                found.append(box)
            if box.type in _DESCEND:
                walk(box.payload, box.end)

    walk(0, len(data))
    return found[nth]


def patch_box(src: Path, dst: Path, kind: bytes, offset: int, fmt: str, value: int) -> Path:
    """Copy `src` to `dst` with `value` packed (struct `fmt`) at `offset` bytes
    into the payload of the first `kind` box (the video track's, in our clips)."""
    data = bytearray(Path(src).read_bytes())
    box = find_box(bytes(data), kind)
    struct.pack_into(fmt, data, box.payload + offset, value)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


# name -> (box, payload offset, struct format, value); mdhd version 0 layout:
# version/flags, creation, modification, timescale (12), duration (16).
CRAFTED_MP4 = {
    "mdhd-timescale-0": (b"mdhd", 12, ">I", 0),
    "mdhd-duration-max": (b"mdhd", 16, ">I", 0xFFFFFFFF),
    "stts-count-max": (b"stts", 4, ">I", 0xFFFFFFFF),
    "stsz-count-max": (b"stsz", 8, ">I", 0xFFFFFFFF),
    "stsc-count-max": (b"stsc", 4, ">I", 0xFFFFFFFF),
    # samples without chunks (or chunks without a sample-to-chunk map): ffmpeg's
    # "missing mandatory atoms, broken header", a stream with no video to copy
    "stco-count-0": (b"stco", 4, ">I", 0),
    "stsc-count-0": (b"stsc", 4, ">I", 0),
}


def matroska_duration(src: Path, dst: Path, milliseconds: float) -> Path:
    """Copy a Matroska file with its Segment Info Duration (0x4489) set."""
    data = bytearray(Path(src).read_bytes())
    at = data.find(b"\x44\x89")
    width = data[at + 2] & 0x7F
    struct.pack_into(">d" if width == 8 else ">f", data, at + 3, milliseconds)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def damaged_aac_entry(src: Path, dst: Path) -> Path:
    """Copy an MP4/MOV with its AAC AudioSpecificConfig naming the reserved
    sampling-rate index 13: the headers still read as AAC-LC, no decoder opens it."""
    data = bytearray(Path(src).read_bytes())
    asc = data.find(b"\x05\x80\x80\x80", data.find(b"esds")) + 5  # DecSpecificInfo
    data[asc : asc + 2] = b"\x16\x90"  # object type 2 (LC), frequency index 13
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def corrupt_jpeg_scan(src: Path, dst: Path) -> Path:
    """Copy a JPEG with 300 bytes of its entropy-coded scan scrambled (no 0xFF
    bytes made, so every marker still parses): libjpeg conceals it as grey blocks."""
    data = bytearray(Path(src).read_bytes())
    start = data.index(b"\xff\xda") + 600
    for k in range(start, start + 300):
        data[k] = (data[k] * 7 + 13) & 0xFF
        if data[k] == 0xFF:
            data[k] = 0x7F
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def corrupt_exif(src: Path, dst: Path) -> Path:
    """Copy a JPEG with an EXIF block whose first IFD declares 32,767 entries
    in a few hundred bytes."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0x7FFF) + bytes(range(256))
    app1 = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[:2] + segment + data[2:])
    return Path(dst)


def _ebml(element_id: bytes, body: bytes) -> bytes:
    """One EBML element with an 8-byte size."""
    return element_id + b"\x01" + len(body).to_bytes(7, "big") + body


def _matroska_tag(i: int) -> bytes:
    simple = _ebml(b"\x45\xa3", b"TAG%d" % i) + _ebml(b"\x44\x87", b"v" * 10)
    return _ebml(b"\x73\x73", _ebml(b"\x67\xc8", simple))  # Tag > SimpleTag


def _matroska_chapter(i: int) -> bytes:
    display = _ebml(b"\x80", _ebml(b"\x85", b"Chapter %d" % i))
    uid = _ebml(b"\x73\xc4", i.to_bytes(4, "big"))
    return _ebml(b"\xb6", uid + _ebml(b"\x91", (i * 10**6).to_bytes(8, "big")) + display)


def matroska_flood(src: Path, dst: Path, what: str, count: int) -> Path:
    """Copy a Matroska file with `count` tags or chapters inserted before its first
    Cluster (the Segment's size made unknown so it still holds them). libmediainfo
    reads them all and then spends minutes (tags) or hundreds of MB (chapters)."""
    data = Path(src).read_bytes()
    segment = data.index(b"\x18\x53\x80\x67")
    cluster = data.index(b"\x1f\x43\xb6\x75")
    if what == "tags":
        flood = _ebml(b"\x12\x54\xc3\x67", b"".join(map(_matroska_tag, range(count))))
    else:
        atoms = b"".join(_matroska_chapter(i + 1) for i in range(count))
        flood = _ebml(b"\x10\x43\xa7\x70", _ebml(b"\x45\xb9", atoms))  # Chapters > Edition
    out = bytearray(data[:cluster] + flood + data[cluster:])
    out[segment + 4 : segment + 12] = b"\x01" + b"\xff" * 7  # unknown size
    Path(dst).write_bytes(bytes(out))
    return Path(dst)


def avi_chunk_flood(src: Path, dst: Path, count: int) -> Path:
    """Copy an AVI with `count` empty JUNK chunks before its movi list: every one
    is a chunk header a reader must walk (8 bytes each)."""
    data = Path(src).read_bytes()
    movi = data.index(b"movi") - 8
    out = bytearray(data[:movi] + b"JUNK\x00\x00\x00\x00" * count + data[movi:])
    struct.pack_into("<I", out, 4, len(out) - 8)
    Path(dst).write_bytes(bytes(out))
    return Path(dst)

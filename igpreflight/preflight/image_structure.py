"""Cheap structure walks over image files: JPEG markers, PNG chunks, TIFF strips.

Split from `probe_image.py`: these read bytes only (they seek past payloads, so a
6000x4000 JPEG costs what a 600x400 one does) and say whether a file is complete,
without Pillow opening or decoding anything.
"""

from __future__ import annotations

import bisect
import re
import struct
import zlib
from dataclasses import field
from typing import TYPE_CHECKING, BinaryIO

from igpreflight.media_facts import jpeg_coding
from igpreflight.records import record

if TYPE_CHECKING:  # a type only: checking a JPEG loads no Pillow (jpeg_facts.py)
    from PIL import Image


@record(frozen=False)
class JpegHeader:
    """What a JPEG's markers say before its scan (no pixel decoded)."""

    precision: int = 8
    components: int = 3
    progressive: bool = False
    adobe_transform: int | None = None
    sos_offset: int | None = None
    trailer_bytes: int = 0  # bytes appended after the JPEG (motion photo video)
    sof: int = 0  # the frame marker's number (SOF0 baseline ... SOF15): the coding process
    hierarchical: bool = False  # a DHP segment: the frames are a hierarchy

    @property
    def coding(self) -> str:
        """The coding process in words (`media_facts.JPEG_CODINGS`)."""
        return jpeg_coding(self.sof, self.hierarchical)


_MOTION_LEN = re.compile(
    rb'(?:MicroVideoOffset\s*=\s*"|MicroVideoOffset>)(\d+)'
    rb'|Item:Semantic="MotionPhoto"[^/]*?Item:Length="(\d+)"'
    rb'|Item:Length="(\d+)"[^/]*?Item:Semantic="MotionPhoto"'
)


def jpeg_header(f: BinaryIO, size: int) -> JpegHeader | str:
    """Walk JPEG markers up to the first SOS; a string is the reason it is broken."""
    hdr = JpegHeader()
    f.seek(2)
    pos = 2
    for _ in range(10_000):
        f.seek(pos)
        two = f.read(2)
        if len(two) < 2:
            return "truncated JPEG: the header ends before the image data"
        if two[0] != 0xFF:
            return f"corrupt JPEG: no marker at byte {pos}"
        marker = two[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker == 0xD9:
            return "corrupt JPEG: the image ends before any image data"
        raw = f.read(2)
        if len(raw) < 2:
            return "truncated JPEG: the header ends before the image data"
        (length,) = struct.unpack(">H", raw)
        if length < 2 or pos + 2 + length > size:
            return "truncated JPEG: a header segment runs past the end of the file"
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            seg = f.read(6)
            if len(seg) == 6:
                hdr.precision = seg[0]
                hdr.components = seg[5]
            hdr.progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
            hdr.sof = marker - 0xC0
        elif marker == 0xDE:  # DHP: the frames that follow are a hierarchy
            hdr.hierarchical = True
        elif marker == 0xEE:  # APP14 Adobe: colour transform
            seg = f.read(min(length - 2, 12))
            if seg[:5] == b"Adobe" and len(seg) >= 12:
                hdr.adobe_transform = seg[11]
        elif marker == 0xE1:  # APP1: EXIF or XMP; a motion photo says its video length
            seg = f.read(min(length - 2, 65_535))
            if b"http://ns.adobe.com/xap/1.0/" in seg[:40]:
                m = _MOTION_LEN.search(seg)
                if m:
                    hdr.trailer_bytes = int(next(g for g in m.groups() if g))
        elif marker == 0xDA:
            hdr.sos_offset = pos
            return hdr
        pos += 2 + length
    return "corrupt JPEG: too many header segments"


def jpeg_truncation(f: BinaryIO, size: int, hdr: JpegHeader) -> str | None:
    """Why a JPEG's scan data is incomplete (no EOI marker after SOS), or None.

    Entropy-coded data never contains FF D9 (FF bytes are stuffed), so an EOI
    after the first SOS means the scans are complete. The last two bytes (before
    a motion photo's video), then the last 64 KB, are read first, which costs the
    same for any image size; only when the marker is not there is the rest of the
    scan data searched (files with data appended after the image).
    """
    end = size - hdr.trailer_bytes if 0 < hdr.trailer_bytes < size else size
    sos = hdr.sos_offset or 0
    if end - 2 >= sos:
        f.seek(end - 2)
        if f.read(2) == b"\xff\xd9":  # nearly every JPEG: EOI is its last two bytes
            return None
    start = max(sos, end - 65_536)
    f.seek(start)
    if b"\xff\xd9" in f.read(end - start):
        return None
    pos, carry = sos, b""
    f.seek(pos)
    while pos < size:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        if b"\xff\xd9" in carry + chunk:
            return None
        carry, pos = chunk[-1:], pos + len(chunk)
    return "truncated JPEG: no end-of-image marker (image data ends early)"


@record(frozen=False)
class PngHeader:
    """What a PNG's chunks say before its image data (no pixel decoded)."""

    bit_depth: int = 8
    color_type: int = 2
    interlaced: bool = False
    frames: int = 1
    exif: bytes | None = None
    cicp: tuple[int, int, int] | None = None
    has_iend: bool = False
    chunks: list[bytes] = field(default_factory=list)


# How much of a PNG's end `skim` reads to find the chunks after its image data.
PNG_TAIL = 256 * 1024
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # an IEND chunk: no data, and its CRC
_IMAGE_DATA = (b"IDAT", b"fdAT")  # the default image's data, an APNG frame's
_CHUNK_TYPE = re.compile(rb"(?=[A-Za-z]{4})")


def png_header(f: BinaryIO, size: int, *, skim: bool = False) -> PngHeader | str:
    """Walk PNG chunk headers (seeking past IDAT), to IEND.

    Every chunk header is read, because only the chain of lengths reaches the
    end: on a disk that is a seek per chunk, but over ranged GETs it is a request
    per 64 KB block, the whole file (a 15 MB PNG cost 240 GETs). `skim` (a ranged
    reader) stops at the first IDAT and takes the chunks after the image data from
    the file's end instead (`png_tail`), falling back to the walk when the end does
    not show them whole."""
    hdr = PngHeader()
    pos = 8
    for _ in range(1_000_000):
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return "truncated PNG: no IEND chunk (image data ends early)"
        length, ctype = struct.unpack(">I4s", head)
        if pos == 8 and ctype != b"IHDR":
            return "corrupt PNG: the first chunk is not IHDR"
        if pos + 12 + length > size:
            return "truncated PNG: image data ends early"
        if ctype == b"IHDR":
            data = f.read(17)
            if length != 13 or len(data) < 17:
                return "corrupt PNG: bad IHDR chunk"
            if zlib.crc32(b"IHDR" + data[:13]) != struct.unpack(">I", data[13:17])[0]:
                return "corrupt PNG: the IHDR checksum is wrong"
            hdr.bit_depth, hdr.color_type = data[8], data[9]
            hdr.interlaced = data[12] == 1
        elif ctype == b"acTL":
            data = f.read(8)
            hdr.frames = max(1, struct.unpack(">I", data[:4])[0])
        elif ctype == b"eXIf" and length < 1_000_000:
            hdr.exif = f.read(length)
        elif ctype == b"cICP" and length >= 4:
            p, t, m = f.read(3)
            hdr.cicp = (p, t, m)
        elif ctype == b"IEND":
            hdr.has_iend = True
            return hdr
        elif ctype == b"IDAT" and skim:
            tail = png_tail(f, size, pos)
            if tail is not None:
                for kind, offset, n in tail:  # what the walk would have met, in order
                    if kind == b"eXIf" and n < 1_000_000:
                        f.seek(offset + 8)
                        hdr.exif = f.read(n)
                    if kind not in hdr.chunks:
                        hdr.chunks.append(kind)
                hdr.has_iend = True
                return hdr
            skim = False  # the end did not show them: walk on, as for a local file
        if ctype not in hdr.chunks:
            hdr.chunks.append(ctype)
        pos += 12 + length
    return "corrupt PNG: too many chunks"


def png_tail(f: BinaryIO, size: int, first_idat: int) -> list[tuple[bytes, int, int]] | None:
    """The chunks after a PNG's image data, read back from its end: (type, offset,
    data length) in file order, IEND last. None unless the file ends in a whole IEND
    and a chain of chunks, each ending where the next begins and each with its CRC
    right, leads back from it to an IDAT or fdAT within the last PNG_TAIL bytes.

    Only the tail is read (the head was), so a damaged length inside the image data
    goes unseen here, as a damaged JPEG scan does: `check --deep` and `fix` decode."""
    start = max(first_idat, size - PNG_TAIL)
    f.seek(start)
    tail = f.read(size - start)
    if len(tail) != size - start or not tail.endswith(_IEND):
        return None
    # Where a chunk type could be (four ASCII letters): a few hundred places in
    # 256 KB of compressed data, found in C, instead of every offset in Python.
    types = [m.start() for m in _CHUNK_TYPE.finditer(tail)]
    found = [(b"IEND", size - 12, 0)]
    end = len(tail) - 12  # where the chunk sought ends (the next one begins)
    while True:
        chunk = _chunk_ending_at(tail, types, end)
        if chunk is None:
            return None
        kind, at, length = chunk
        if kind in _IMAGE_DATA:
            return found[::-1]
        found.append((kind, start + at, length))
        end = at


def _chunk_ending_at(tail: bytes, types: list[int], end: int) -> tuple[bytes, int, int] | None:
    """The chunk of `tail` that ends exactly at `end`: its length says so and its CRC
    holds (a false match in compressed data is a 1 in 2**32 chance)."""
    crc = int.from_bytes(tail[end - 4 : end], "big")
    for t in reversed(types[: bisect.bisect_right(types, end - 8)]):
        at = t - 4
        if at < 0:
            break
        length = int.from_bytes(tail[at:t], "big")
        if at + 12 + length == end and zlib.crc32(tail[t : end - 4]) == crc:
            return tail[t : t + 4], at, length
    return None


def tiff_truncation(im: Image.Image, size: int) -> str | None:
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    for off_tag, len_tag in ((273, 279), (324, 325)):
        offsets, counts = tags.get(off_tag), tags.get(len_tag)
        if not offsets or not counts:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        if any(o + c > size for o, c in zip(offsets, counts, strict=False)):
            return "truncated TIFF: image data ends early"
    return None

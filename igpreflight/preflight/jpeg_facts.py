"""`check` of a JPEG without Pillow: its facts from the marker walk alone.

Importing Pillow (`PIL.Image`, its EXIF enums and the JPEG plugin) was the largest
piece of `igpreflight check FILE.jpg` that checking does not need (issue 20): the
facts of a JPEG are all in its header segments. This reads them the way Pillow 13's
`JpegImageFile._open` does, so the facts equal the Pillow path's (`probe_image.py`)
field by field, and answers `None` for anything it does not reproduce exactly:
a JPEG Pillow would refuse or read otherwise (12-bit, 2 components, a marker it
treats differently, a malformed JFIF, Adobe, ICC or Photoshop segment), more than
one frame header or MPF segment, or an EXIF block or MP Index read in a way
`jpeg_orientation.py` and `jpeg_mpf.py` do not reproduce. The caller then asks Pillow.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from igpreflight.model import ImageFacts, Unreadable
from igpreflight.preflight.exif import exif_problem
from igpreflight.preflight.image_colour import colour_description
from igpreflight.preflight.image_open import bomb_reason
from igpreflight.preflight.image_structure import JpegHeader, jpeg_header, jpeg_truncation
from igpreflight.preflight.jpeg_mpf import mpf_reading
from igpreflight.preflight.jpeg_orientation import Decline, pillow_orientation

# Pillow's SOF handler: every frame type but DHP (0xDE) and 0xCF, which the walk in
# image_structure.py does not read as frames.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}
# Segments Pillow skips by their length (DHT, DAC, DNL, DRI, EXP) and reads (DQT, APPn, COM).
_SKIPPED = {0xC4, 0xCC, 0xDC, 0xDD, 0xDF}
_APP = set(range(0xE0, 0xF0))
# With SOS (0xDA), DQT (0xDB) and COM (0xFE): every segment read here.
_HANDLED = _SOF | _SKIPPED | _APP | {0xDA, 0xDB, 0xFE}
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


class JpegOpened:
    """What Pillow's `Image.open` of a JPEG reports that the facts use. A plain class:
    made once per JPEG, and cheaper to import than a record or a dataclass."""

    __slots__ = ("width", "height", "mode", "exif", "icc", "orientation", "formats", "frames")

    def __init__(
        self, width: int, height: int, mode: str, exif: bytes | None, icc: bytes | None,
        orientation: int, formats: tuple[str, str] = ("JPEG", "JPEG"), frames: int = 1,
    ) -> None:  # fmt: skip
        self.width, self.height, self.mode = width, height, mode
        self.exif, self.icc, self.orientation = exif, icc, orientation
        # (the format Pillow opens it as, which the bomb policy uses; the one reported)
        self.formats, self.frames = formats, frames


class _Segments:
    """The header segments Pillow reads, gathered as its `_open` gathers them."""

    def __init__(self) -> None:
        self.frame: bytes | None = None
        self.exif: bytes | None = None
        self.xmp: bytes | None = None
        self.icc_chunks: list[bytes] = []
        self.icc: bytes | None = None
        self.dpi = False  # a JFIF density Pillow takes as the DPI
        self.mp: bytes | None = None  # the MPF payload (Pillow's info["mp"])
        self.ultra_hdr = False  # an APP1 naming hdrgm:Version: Pillow keeps a JPEG

    def app(self, marker: int, s: bytes) -> None:
        """Pillow's APP handler, for the segments whose content the facts use or
        whose shape makes Pillow raise (`Decline`)."""
        if marker == 0xE1 and b' hdrgm:Version="' in s:
            self.ultra_hdr = True
        if marker == 0xE0 and s.startswith(b"JFIF"):
            if len(s) < 7:
                raise Decline("a JFIF segment too short for its version")
            if len(s) >= 12 and s[7] in (1, 2):
                self.dpi = True
        elif marker == 0xE1 and s.startswith(b"Exif\0\0"):
            self.exif = s if self.exif is None else self.exif + s[6:]
        elif marker == 0xE1 and s.startswith(_XMP):
            self.xmp = s.split(b"\x00", 1)[1]
        elif marker == 0xE2 and s.startswith(b"ICC_PROFILE\0"):
            if len(s) < 14:
                raise Decline("an ICC chunk without its sequence numbers")
            self.icc_chunks.append(s)
        elif marker == 0xE2 and s.startswith(b"MPF\0"):
            if self.mp is not None:
                raise Decline("a second MPF segment")
            self.mp = s[4:]
        elif marker == 0xED and s.startswith(b"Photoshop 3.0\x00"):
            _photoshop(s)
        elif marker == 0xEE and s.startswith(b"Adobe") and len(s) < 7:
            raise Decline("an Adobe segment too short for its version")

    def sof(self, s: bytes) -> None:
        """Pillow's SOF handler: one frame header of 8-bit 1, 3 or 4 components."""
        if self.frame is not None:
            raise Decline("a second frame header")
        if len(s) < 6 or (len(s) - 6) % 3 or s[0] != 8 or s[5] not in _MODES:
            raise Decline("a frame header Pillow refuses or reads partly")
        self.frame = s
        if self.icc_chunks:  # the chunks before the frame header make the profile
            chunks = sorted(self.icc_chunks)
            if chunks[0][13] == len(chunks):
                self.icc = b"".join(c[14:] for c in chunks)
            self.icc_chunks = []


def _photoshop(s: bytes) -> None:
    """Pillow's walk of Photoshop resources: it stops at a short read (struct.error)
    but an IndexError escapes and Pillow cannot open the file."""
    offset = 14
    try:
        while s[offset : offset + 4] == b"8BIM":
            offset += 4
            (code,) = struct.unpack_from(">H", s, offset)
            offset += 2
            offset += 1 + s[offset]  # the resource name
            offset += offset & 1
            (length,) = struct.unpack_from(">I", s, offset)
            offset += 4
            if code == 0x03ED:  # ResolutionInfo
                struct.unpack_from(">IHxxIH", s[offset : offset + length], 0)
            offset += length
            offset += offset & 1
    except struct.error:
        return
    except IndexError:
        raise Decline("Photoshop resources Pillow cannot walk") from None


def read_jpeg(f: BinaryIO, size: int) -> JpegOpened | None:
    """What Pillow would report on opening this JPEG, or None when it cannot be
    told here with certainty. The file's markers have passed `jpeg_header`."""
    seen = _Segments()
    pos = 2
    for _ in range(10_000):
        f.seek(pos)
        two = f.read(2)
        if len(two) < 2 or two[0] != 0xFF:
            return None
        marker = two[1]
        if marker == 0xFF:  # fill byte: Pillow reads on, as the walk does
            pos += 1
            continue
        if marker not in _HANDLED:
            return None  # a marker Pillow reads no length for, or refuses
        (length,) = struct.unpack(">H", f.read(2))
        if length < 2 or pos + 2 + length > size:
            return None
        if marker == 0xDA:
            return _opened(seen)
        s = f.read(length - 2) if marker in _SOF or marker in _APP or marker == 0xDB else b""
        try:
            if marker in _SOF:
                seen.sof(s)
            elif marker in _APP:
                seen.app(marker, s)
            elif marker == 0xDB and not _dqt_ok(s):
                return None
        except Decline:
            return None
        pos += 2 + length
    return None


def _dqt_ok(s: bytes) -> bool:
    """Pillow's DQT handler raises on a table shorter than its precision says."""
    while s:
        length = 1 + (1 if s[0] // 16 == 0 else 2) * 64
        if len(s) < length:
            return False
        s = s[length:]
    return True


def _opened(seen: _Segments) -> JpegOpened | None:
    if seen.frame is None:
        return None  # no mode: Pillow refuses the file
    height, width = struct.unpack(">HH", seen.frame[1:5])
    if width == 0 or height == 0:
        return None
    try:
        orientation = pillow_orientation(
            seen.exif, seen.xmp, seen.exif is not None and not seen.dpi
        )
        opened, reported, frames = (
            ("JPEG", "JPEG", 1) if seen.mp is None else mpf_reading(seen.mp, seen.ultra_hdr)
        )
    except (Decline, struct.error):
        return None
    return JpegOpened(
        width=width,
        height=height,
        mode=_MODES[seen.frame[5]],
        exif=seen.exif,
        icc=seen.icc,
        orientation=orientation,
        formats=(opened, reported),
        frames=frames,
    )


def jpeg_details(
    f: BinaryIO, size: int, jpeg: JpegHeader, colorspace: str, exif: object
) -> str | tuple[int, bool, str | None, str, str]:
    """A JPEG's truncation, or its (bits, progressive, EXIF problem, colour space,
    coding process) from the marker walk; shared by both paths so that they cannot
    differ."""
    truncated = jpeg_truncation(f, size, jpeg)
    if truncated:
        return truncated
    exif_error = exif_problem(exif) if isinstance(exif, bytes) else None
    if jpeg.components == 1:
        colorspace = "GRAY"
    elif jpeg.components == 4:
        colorspace = "YCCK" if jpeg.adobe_transform == 2 else "CMYK"
    return jpeg.precision, jpeg.progressive, exif_error, colorspace, jpeg.coding


def probe_jpeg(path: str, f: BinaryIO, size: int, ext: str) -> ImageFacts | Unreadable | None:
    """A JPEG's facts without Pillow, equal to `probe_image`'s; None to ask Pillow."""
    try:
        return _probe_jpeg(path, f, size, ext)
    except Exception:  # noqa: BLE001 - Pillow's path gives the failure its wording
        return None


def _probe_jpeg(path: str, f: BinaryIO, size: int, ext: str) -> ImageFacts | Unreadable | None:
    jpeg = jpeg_header(f, size)
    if isinstance(jpeg, str):
        return Unreadable(path, jpeg, size)
    opened = read_jpeg(f, size)
    if opened is None:
        return None
    bomb = bomb_reason(opened.width, opened.height, size, opened.formats[0])
    if bomb:
        return Unreadable(path, bomb, size)
    start = {"CMYK": "CMYK", "L": "GRAY"}.get(opened.mode, "RGB")
    details = jpeg_details(f, size, jpeg, start, opened.exif)
    if isinstance(details, str):
        return Unreadable(path, details, size)
    bits, progressive, exif_error, colorspace, coding = details
    icc_name, icc_is_srgb, icc_misfit = colour_description(opened.icc, None, colorspace)
    return ImageFacts(
        path=path,
        bytes=size,
        format=opened.formats[1],
        width=opened.width,
        height=opened.height,
        mode=opened.mode,
        bits=bits,
        orientation=opened.orientation,
        frames=opened.frames,
        has_alpha=False,
        icc_name=icc_name,
        icc_is_srgb=icc_is_srgb,
        colorspace=colorspace,
        progressive=progressive,
        extension=ext,
        exif_error=exif_error,
        icc_misfit=icc_misfit,
        jpeg_coding=coding,
    )

"""Image facts from headers: Pillow opened lazily plus a few cheap structure walks.

Nothing here decodes pixels: Pillow's `Image.open` only parses headers, and the
JPEG marker walk, PNG chunk walk and ISO-BMFF box walk seek past the payloads.
That is why a 6000x4000 JPEG costs what a 600x400 one does. The walks live in
`image_structure.py`, opening and the bomb policy in `image_open.py`, the colour
description in `image_colour.py`; this module turns what they say into `ImageFacts`.
A JPEG is answered without Pillow when its header walk can (`jpeg_facts.py`): Pillow
loads only for the other formats and the JPEGs that walk declines.
"""

from __future__ import annotations

import re
import struct
import warnings
from typing import TYPE_CHECKING, BinaryIO

from igpreflight.model import ImageFacts, Unreadable
from igpreflight.preflight.image_colour import colour_description, icc_facts
from igpreflight.preflight.image_open import bomb_reason, open_image
from igpreflight.preflight.image_structure import (
    JpegHeader,
    PngHeader,
    jpeg_header,
    png_header,
    tiff_truncation,
)
from igpreflight.preflight.jpeg_facts import jpeg_details, probe_jpeg

if TYPE_CHECKING:
    from PIL import Image

# Importers of these names from here (the fixer, the full decode, probe.py).
__all__ = ["bomb_reason", "icc_facts", "open_image", "probe_image"]

# ---------------------------------------------------------------- the probe

_ALPHA_MODES = {"RGBA", "LA", "PA", "La", "RGBa", "I;16A"}
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_MP_MULTIVIEW = ("Multi-Frame Image: (Disparity)", "Multi-Frame Image: (Multi-Angle)")


def _mode_bits(mode: str) -> int:
    if mode == "1":
        return 1
    if mode.startswith("I;16"):
        return 16
    if mode in ("I", "F"):
        return 32
    return 8


def _orientation(im: Image.Image) -> int:
    from PIL import Image

    try:
        value = Image.Image.getexif(im).get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block means "no orientation"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _exif_orientation(data: bytes) -> int:
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(data)
        value = exif.get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block means "no orientation"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def probe_image(
    path: str, f: BinaryIO, size: int, ext: str, sniffed: str, *, skim: bool = False
) -> ImageFacts | Unreadable:
    """Facts of an image file already sniffed as `sniffed` (jpeg, png, gif, webp, heif...).
    `skim`: every seek costs a request (a ranged reader), so a PNG's end is read
    rather than every chunk header walked (`png_header`).

    Decoders answer hostile bytes with many exception types (RuntimeError from
    libavif, struct.error, ...): every one becomes Unreadable, never an exception.
    """
    if sniffed == "jpeg":
        fast = probe_jpeg(path, f, size, ext)
        if fast is not None:
            return fast
    return pillow_probe(path, f, size, ext, sniffed, skim=skim)


def pillow_probe(
    path: str, f: BinaryIO, size: int, ext: str, sniffed: str, *, skim: bool = False
) -> ImageFacts | Unreadable:
    """`probe_image` through Pillow, for every format (the JPEG path's reference)."""
    from PIL import Image, UnidentifiedImageError

    label = sniffed.upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _probe_image(path, f, size, ext, sniffed, skim)
    except UnidentifiedImageError:
        return Unreadable(path, f"corrupt {label}: the header cannot be parsed", size)
    except Image.DecompressionBombError as e:
        # Pillow checks frames (GIF) against its own limit while opening.
        m = re.search(r"\((\d+) pixels\)", str(e))
        declared = f"{int(m.group(1)) / 1e6:,.0f} MP" if m else "more pixels than Pillow allows"
        return Unreadable(
            path, f"decompression bomb: a frame declares {declared} in {size:,} bytes", size
        )
    except Exception as e:  # noqa: BLE001 - a bad file is a finding, not a crash
        return Unreadable(path, f"corrupt {label}: {_one_line(e)}", size)


def _probe_image(
    path: str, f: BinaryIO, size: int, ext: str, sniffed: str, skim: bool = False
) -> ImageFacts | Unreadable:
    jpeg: JpegHeader | None = None
    png: PngHeader | None = None
    if sniffed == "jpeg":
        got = jpeg_header(f, size)
        if isinstance(got, str):
            return Unreadable(path, got, size)
        jpeg = got
    elif sniffed == "gif":
        f.seek(6)
        w, h = struct.unpack("<HH", f.read(4).ljust(4, b"\0"))
        bomb = bomb_reason(w, h, size, "GIF")
        if bomb:
            return Unreadable(path, bomb, size)
    elif sniffed == "webp":
        f.seek(4)
        (riff,) = struct.unpack("<I", f.read(4).ljust(4, b"\0"))
        if riff + 8 > size:
            return Unreadable(
                path, "truncated WEBP: the file is shorter than its header says", size
            )
    elif sniffed == "png":
        got_png = png_header(f, size, skim=skim)
        if isinstance(got_png, str):
            # Report a bomb before the truncation it also is (it never ends).
            corrupt = got_png.startswith("corrupt")
            return Unreadable(path, (None if corrupt else _png_bomb(f, size)) or got_png, size)
        png = got_png
    im = open_image(f, path)
    return _facts(path, f, size, ext, im, jpeg, png)


def _png_bomb(f: BinaryIO, size: int) -> str | None:
    f.seek(16)
    data = f.read(8)
    if len(data) < 8:
        return None
    w, h = struct.unpack(">II", data)
    return bomb_reason(w, h, size, "PNG")


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def _facts(
    path: str,
    f: BinaryIO,
    size: int,
    ext: str,
    im: Image.Image,
    jpeg: JpegHeader | None,
    png: PngHeader | None,
) -> ImageFacts | Unreadable:
    fmt = im.format or "UNKNOWN"
    width, height = im.size
    bomb = bomb_reason(width, height, size, fmt)
    if bomb:
        return Unreadable(path, bomb, size)
    mode = im.mode
    bits = _mode_bits(mode)
    orientation = _orientation(im)
    frames = 1
    progressive = False
    colorspace = {"CMYK": "CMYK", "LAB": "LAB"}.get(mode, "GRAY" if mode in _GRAY_MODES else "RGB")
    icc = im.info.get("icc_profile") or None
    nclx: tuple[int, int] | None = None
    exif_error: str | None = None
    coding: str | None = None

    if fmt in ("JPEG", "MPO") and jpeg is not None:
        details = jpeg_details(f, size, jpeg, colorspace, im.info.get("exif"))
        if isinstance(details, str):
            return Unreadable(path, details, size)
        bits, progressive, exif_error, colorspace, coding = details
        if fmt == "MPO":
            # A gain map or preview in an MPF JPEG is not a second frame; only a
            # stereo/multi-angle MPO is a multi-frame image (and not a JPEG).
            entries = getattr(im, "mpinfo", {}).get(0xB002) or []
            types = [e.get("Attribute", {}).get("MPType") for e in entries[1:]]
            if any(t in _MP_MULTIVIEW for t in types):
                frames = len(entries)
            else:
                fmt = "JPEG"
    elif fmt == "PNG" and png is not None:
        if not png.has_iend:
            return Unreadable(path, "truncated PNG: no IEND chunk", size)
        bits = 8 if png.color_type == 3 else png.bit_depth
        frames = getattr(im, "n_frames", png.frames)  # acTL, plus a default image outside it
        if png.exif and "exif" not in im.info:
            # eXIf after IDAT: Pillow would only read it while decoding.
            orientation = _exif_orientation(png.exif)
        if png.cicp:
            nclx = png.cicp[0], png.cicp[1]
    elif fmt == "GIF":
        # A complete GIF ends with a block terminator and the ";" trailer
        # (sometimes followed by zero padding).
        f.seek(max(0, size - 4096))
        if not f.read().rstrip(b"\0").endswith(b"\0;"):
            return Unreadable(path, "truncated GIF: no trailer (image data ends early)", size)
        # Walking every frame reads the whole file; 2 means "more than one".
        frames = 2 if im.is_animated else 1
    elif fmt == "WEBP":
        frames = getattr(im, "n_frames", 1)
    elif fmt in ("HEIF", "AVIF"):
        from igpreflight.preflight import isobmff  # HEIF/AVIF only

        props = isobmff.item_properties(f)
        if props.past_eof:
            return Unreadable(
                path, f"truncated {fmt}: the '{props.past_eof}' box runs past the end", size
            )
        bits = props.bits or int(im.info.get("bit_depth") or 8)
        frames = getattr(im, "n_frames", 1)
        heif_nclx = im.info.get("nclx_profile")
        if heif_nclx:
            nclx = heif_nclx.get("color_primaries", 2), heif_nclx.get("transfer_characteristics", 2)
        elif props.nclx:
            nclx = props.nclx[0], props.nclx[1]
        if fmt == "HEIF":
            # libheif has applied irot/imir: the size is the displayed size and
            # nothing is left to rotate (pillow-heif resets the EXIF tag to 1).
            orientation = 1
    elif fmt == "TIFF":
        truncated = tiff_truncation(im, size)
        if truncated:
            return Unreadable(path, truncated, size)
        bps = im.tag_v2.get(258)
        if bps:
            bits = max(bps) if isinstance(bps, tuple) else int(bps)
        frames = getattr(im, "n_frames", 1)
        # Pillow reports a TIFF's size already oriented and applies the tag
        # while loading, so nothing is left to rotate.
        orientation = 1
    elif fmt == "BMP":
        f.seek(2)
        (declared,) = struct.unpack("<I", f.read(4))
        if declared > size and declared - size > 2:
            return Unreadable(path, "truncated BMP: image data ends early", size)
    else:
        frames = getattr(im, "n_frames", 1)

    icc_name, icc_is_srgb, icc_misfit = colour_description(icc, nclx, colorspace)
    has_alpha = mode in _ALPHA_MODES or "transparency" in im.info
    return ImageFacts(
        path=path,
        bytes=size,
        format=fmt,
        width=width,
        height=height,
        mode=mode,
        bits=bits,
        orientation=orientation,
        frames=max(1, int(frames)),
        has_alpha=has_alpha,
        icc_name=icc_name,
        icc_is_srgb=icc_is_srgb,
        colorspace=colorspace,
        progressive=progressive,
        extension=ext,
        exif_error=exif_error,
        icc_misfit=icc_misfit,
        jpeg_coding=coding,
        # What fix converts from when there is no profile (None: sRGB-like or unknown).
        cicp=nclx if not icc and icc_is_srgb is False else None,
    )

"""Encode a fixed image: JPEG at the highest quality that fits (never above the
source's own when only metadata or colour changed), PNG for --keep-png, and the
metadata --keep-metadata carries over.

A re-encoded JPEG once came out 28 % larger than its source (348.8 KB -> 445.5 KB)
because a photo saved at quality 75 was written at 92 only to bake its rotation:
when the pixels are not resized, the source's quality, estimated from its
quantization tables (`source_quality`), caps the encoder's.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Mapping, Sequence

from PIL import Image, ImageCms

from igpreflight.limits import IMAGE_FIX, ImageFixTargets

# lcms stamps the profile it builds with the current date and time (ICC header
# bytes 24..35), so every process would embed different bytes and the same fix
# would give a different file (and upload key) each run. The stamp is set to
# this constant and the profile ID (an MD5 over the profile) recomputed.
ICC_DATE = (2024, 1, 1, 0, 0, 0)  # year, month, day, hour, minute, second (UTC)


def _constant_icc(profile: bytes) -> bytes:
    """`profile` with its creation date set to ICC_DATE and its profile ID
    recomputed (ICC.1:2010 7.2.18: the MD5 of the profile with the flags,
    rendering intent and ID fields zeroed; profiles before v4 keep a zero ID)."""
    data = bytearray(profile)
    data[24:36] = struct.pack(">6H", *ICC_DATE)
    data[84:100] = bytes(16)
    if data[8] >= 4:
        masked = bytearray(data)
        masked[44:48] = bytes(4)
        masked[64:68] = bytes(4)
        data[84:100] = hashlib.md5(masked, usedforsecurity=False).digest()
    return bytes(data)


SRGB_ICC: bytes = _constant_icc(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())

_MAX_EXIF = 65_000  # bytes of EXIF a JPEG APP1 segment can carry (65,533 with its header)
# A JPEG marker segment carries 65,533 bytes: XMP shares its APP1 segment with the
# 29-byte namespace, a comment has its COM segment to itself. PNG, WebP, TIFF and
# GIF hold more; what does not fit is dropped (Pillow refused the whole file).
_MAX_XMP = 65_533 - 29
_MAX_COMMENT = 65_533
_XMP_MOTION = re.compile(rb"MicroVideo|MotionPhoto")
_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation\s*=\s*"|<tiff:Orientation>)\s*[2-8]')


class FixError(Exception):
    """The image cannot be fixed as planned (the reason is one line)."""


# ---------------------------------------------------------------- source quality

# The example tables of ITU-T T.81 Annex K, which libjpeg (and Pillow, cameras'
# "quality" settings) scale: luminance, then chrominance.
_STANDARD_TABLES = (
    (
        *(16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55),
        *(14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62),
        *(18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92),
        *(49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99),
    ),
    (
        *(17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99),
        *(24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99),
        *(99,) * 32,
    ),
)


def _scaled_total(standard: Sequence[int], quality: int) -> int:
    """The sum of libjpeg's table for `quality` (jcparam.c: scaled, rounded, 1..255)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return sum(min(255, max(1, (value * scale + 50) // 100)) for value in standard)


def source_quality(quantization: Mapping[int, Sequence[int]] | None) -> int | None:
    """The libjpeg quality (1..100) a JPEG was saved at, from its quantization tables:
    the highest whose tables quantize, in total, at least as coarsely as the file's
    (exact for libjpeg's own tables; never above the source for a camera's). None
    when the file has no tables (not a JPEG)."""
    if not quantization:
        return None
    pairs = [
        (standard, quantization[slot])
        for slot, standard in enumerate(_STANDARD_TABLES)
        if len(quantization.get(slot) or ()) == 64
    ]
    if not pairs:
        return None
    for quality in range(100, 0, -1):
        if all(_scaled_total(standard, quality) >= sum(table) for standard, table in pairs):
            return quality
    return 1


# ---------------------------------------------------------------- encode


def metadata(im: Image.Image, exif_ok: bool = True) -> dict[str, bytes | str]:
    """EXIF (orientation removed: it is baked in; a corrupt block never), XMP and
    comment, for --keep-metadata."""
    out: dict[str, bytes | str] = {}
    try:
        exif = im.getexif() if exif_ok else None
    except Exception:  # noqa: BLE001 - a broken EXIF block is dropped, not fatal
        exif = None
    if exif:
        exif.pop(0x0112, None)
        data = exif.tobytes() if len(exif) else b""
        if len(data) > _MAX_EXIF:
            # A JPEG APP1 segment holds 64 KB: the maker note goes first, then all of it.
            exif.get_ifd(0x8769).pop(0x927C, None)
            data = exif.tobytes()
        if data and len(data) <= _MAX_EXIF:
            out["exif"] = data
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    # A motion photo's XMP points at a video appended to the JPEG; the re-encoded
    # file has no such video, so that XMP would lie (and mislead readers).
    if xmp and not _XMP_MOTION.search(xmp) and len(xmp) <= _MAX_XMP:
        out["xmp"] = _XMP_ORIENTATION.sub(rb"\g<1>1", xmp)
    comment = im.info.get("comment")
    if isinstance(comment, str):
        comment = comment.encode("utf-8")
    if comment and len(comment) <= _MAX_COMMENT:
        out["comment"] = comment
    return out


def _icc_for(im: Image.Image) -> bytes | None:
    """sRGB colour images carry the sRGB profile; grey images carry none."""
    return SRGB_ICC if im.mode == "RGB" else None


def _encode_once(im: Image.Image, quality: int, meta: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    params: dict[str, object] = {
        "quality": quality,
        "subsampling": 2,  # 4:2:0
        "progressive": False,
        "optimize": True,
        # Pillow writes the source's comment (a GIF's or a JPEG's im.info) unless told
        # otherwise: metadata is kept only with --keep-metadata (then `meta` has it).
        "comment": b"",
    }
    icc = _icc_for(im)
    if icc:
        params["icc_profile"] = icc
    params.update(meta)
    im.save(buf, "JPEG", **params)
    return buf.getvalue()


def encode_jpeg(
    im: Image.Image,
    max_bytes: int,
    meta: dict[str, bytes | str] | None = None,
    targets: ImageFixTargets = IMAGE_FIX,
    ceiling: int | None = None,
) -> tuple[bytes, int]:
    """The highest quality <= targets.max_quality (and <= `ceiling`: the source's
    own, when its pixels were not resized) whose JPEG fits in `max_bytes`.

    One encode when the top quality fits (nearly always); otherwise a bisection
    over [min_quality, top - 1], at most `targets.max_encodes` encodes.
    """
    meta = meta or {}
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    quality = max(targets.min_quality, min(targets.max_quality, ceiling or targets.max_quality))
    top = _encode_once(im, quality, meta)
    if len(top) <= max_bytes:
        return top, quality
    lo, hi = targets.min_quality, quality - 1
    best: tuple[bytes, int] | None = None
    encodes = 1
    while lo <= hi and encodes < targets.max_encodes:
        mid = (lo + hi) // 2
        data = _encode_once(im, mid, meta)
        encodes += 1
        if len(data) <= max_bytes:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    if best is None:
        raise FixError(f"no JPEG quality down to {targets.min_quality} fits in {max_bytes:,} bytes")
    return best


def encode_png(im: Image.Image, meta: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    params: dict[str, object] = {"compress_level": 6}
    icc = _icc_for(im)
    if icc:
        params["icc_profile"] = icc
    if "exif" in meta:
        params["exif"] = meta["exif"]
    im.save(buf, "PNG", **params)
    return buf.getvalue()

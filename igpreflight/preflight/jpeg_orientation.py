"""A JPEG's orientation exactly as Pillow's `getexif()` gives it, without Pillow.

`check` of a JPEG answers from the header walk alone (`jpeg_facts.py`), and its
facts must equal what the Pillow path reports (`probe_image.py`). So this does not
read EXIF the way the standard says but the way Pillow 13 does: the first IFD0 entry
of each tag wins, an entry of a type Pillow does not know is skipped, an
out-of-line value that lies outside the block stops the walk (Pillow's
`_safe_read` raises, and `ImageFileDirectory_v2.load` keeps what it read), and
when IFD0 has no orientation the XMP packet's `tiff:Orientation` counts. Whatever
Pillow would read in a way not reproduced here (an orientation that is not one
SHORT, a BigTIFF header, a resolution tag whose type makes Pillow's DPI reading
raise) answers `None`: the caller then asks Pillow.
"""

from __future__ import annotations

import re
import struct

ORIENTATION, RESOLUTION_UNIT, X_RESOLUTION = 0x0112, 0x0128, 0x011A
# Bytes per value of the TIFF types Pillow loads (ImageFileDirectory_v2._load_dispatch).
_UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
# Pillow's pattern; searched with `re`'s cache rather than compiled at import (a
# compiled pattern costs this module's import more than the rest of it).
_XMP_ORIENTATION = rb'tiff:Orientation(="|>)([0-9])'
# TIFF headers Pillow accepts but reads unlike a plain TIFF (swapped magic, BigTIFF).
_ODD_TIFF = (b"MM\x2a\x00", b"II\x00\x2a", b"MM\x00\x2b", b"II\x2b\x00")


class Decline(Exception):
    """Pillow would read this block in a way not reproduced here."""


def ifd_entries(tiff: bytes, order: str) -> dict[int, tuple[int, int, bytes]]:
    """The entries of the first IFD (IFD0 of EXIF, the MP Index of MPF) that Pillow
    keeps, as tag -> (type, count, value bytes)."""
    limit = len(tiff)
    (pos,) = struct.unpack(order + "L", tiff[4:8])
    head = tiff[pos : pos + 2]
    if len(head) < 2:
        return {}
    (count,) = struct.unpack(order + "H", head)
    kept: dict[int, tuple[int, int, bytes]] = {}
    total = 0
    for k in range(count):
        entry = tiff[pos + 2 + 12 * k : pos + 14 + 12 * k]
        if len(entry) < 12:
            break  # _ensure_read raises: the tags read so far stay
        tag, kind, n, data = struct.unpack(order + "HHL4s", entry)
        if tag in kept or kind not in _UNIT:
            continue
        size = n * _UNIT[kind]
        if size > 4:
            (offset,) = struct.unpack(order + "L", data)
            total += size
            if total > limit:
                continue  # "Tag data larger than file": skipped
            data = tiff[offset : offset + size]
            if len(data) < size:
                break  # _safe_read raises: the walk stops here
        else:
            data = data[:size]
        if data:
            kept[tag] = (kind, n, data)
    return kept


def pillow_orientation(exif: bytes | None, xmp: bytes | None, reads_dpi: bool) -> int:
    """The orientation (1-8) Pillow's `getexif()` gives a JPEG with this EXIF block
    (`info["exif"]`) and XMP packet (`info["xmp"]`), as `probe_image._orientation`
    keeps it. `reads_dpi`: Pillow's `_read_dpi_from_exif` runs while opening (EXIF
    and no JFIF density), and some tag types make it raise. Raises `Decline`."""
    if exif is None:
        return _xmp(xmp)
    tiff = exif
    for _ in range(2):  # Pillow strips "^(Exif\0\0){1,2}"
        if tiff.startswith(b"Exif\x00\x00"):
            tiff = tiff[6:]
    if not tiff:
        return _xmp(xmp)
    if tiff[:4] in _ODD_TIFF:
        raise Decline("a TIFF header Pillow reads its own way")
    order = {b"II\x2a\x00": "<", b"MM\x00\x2a": ">"}.get(tiff[:4])
    if order is None or len(tiff) < 8:
        return 1  # Pillow raises ("not a TIFF file"): no orientation, no XMP either
    entries = ifd_entries(tiff, order)
    if reads_dpi and RESOLUTION_UNIT in entries:
        if entries[RESOLUTION_UNIT][:2] != (3, 1):
            raise Decline("a resolution unit that is not one SHORT")
        if X_RESOLUTION in entries and entries[X_RESOLUTION][:2] != (5, 1):
            raise Decline("an X resolution that is not one RATIONAL")
    found = entries.get(ORIENTATION)
    if found is None:
        return _xmp(xmp)
    kind, n, data = found
    if (kind, n) != (3, 1):
        raise Decline("an orientation that is not one SHORT")
    (value,) = struct.unpack(order + "H", data[:2])
    return value if 1 <= value <= 8 else 1


def _xmp(xmp: bytes | None) -> int:
    match = re.search(_XMP_ORIENTATION, xmp) if xmp else None
    value = int(match[2]) if match else 1
    return value if 1 <= value <= 8 else 1

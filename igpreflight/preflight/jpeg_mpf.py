"""What Pillow makes of a JPEG's MPF segment (a gain map, a preview, a stereo pair),
without Pillow, for the Pillow-free JPEG path (`jpeg_facts.py`).

Pillow 13's `jpeg_factory` reads the MP Index (`_getmp`): a malformed one, one image,
or an Ultra HDR file (an APP1 naming `hdrgm:Version`) stays a JPEG; otherwise the
file becomes an `MpoImageFile`, whose format the bomb policy uses ("MPO"), and the
probe reports it as a multi-frame MPO only when a later image is a stereo or
multi-angle view, as a JPEG otherwise (`probe_image._facts`). An MP Index holding
tags or types Pillow would convert in ways not reproduced here answers `Decline`.
"""

from __future__ import annotations

import struct

from igpreflight.preflight.jpeg_orientation import Decline, ifd_entries

NUMBER_OF_IMAGES, MP_ENTRY = 0xB001, 0xB002
# The MP Index tags a camera or phone writes, with the (type, count) Pillow converts
# without surprises: MPFVersion, ImageUIDList (UNDEFINED), TotalFrames (one LONG).
_PLAIN = {0xB000: 7, NUMBER_OF_IMAGES: 4, MP_ENTRY: 7, 0xB003: 7, 0xB004: 4}
_MULTIVIEW = (0x020002, 0x020003)  # Multi-Frame Image: Disparity, Multi-Angle


def mpf_reading(mp: bytes, ultra_hdr: bool) -> tuple[str, str, int]:
    """(the format Pillow opens the file as, the format the facts report, frames)
    for an MPF payload after "MPF\\0" (Pillow's `info["mp"]`). Raises `Decline`."""
    order = {b"II\x2a\x00": "<", b"MM\x00\x2a": ">"}.get(mp[:4])
    if order is None or len(mp) < 8:
        raise Decline("an MP Index header Pillow reads its own way")
    entries = ifd_entries(mp, order)
    for tag, (kind, n, _data) in entries.items():
        if _PLAIN.get(tag) != kind or (kind == 4 and n != 1):
            raise Decline("an MP Index tag Pillow converts otherwise")
    if NUMBER_OF_IMAGES not in entries or MP_ENTRY not in entries:
        return "JPEG", "JPEG", 1  # "malformed MP Index": Pillow keeps the JPEG
    (count,) = struct.unpack(order + "L", entries[NUMBER_OF_IMAGES][2][:4])
    raw = entries[MP_ENTRY][2]
    types = []
    for k in range(count):
        if len(raw) < 16 * k + 16:
            return "JPEG", "JPEG", 1  # struct.error: "bad MP Entry"
        (attribute,) = struct.unpack_from(order + "L", raw, 16 * k)
        if attribute >> 24 & 7:
            return "JPEG", "JPEG", 1  # "unsupported picture format in MPO"
        types.append(attribute & 0xFFFFFF)
    if count <= 1 or ultra_hdr:
        return "JPEG", "JPEG", 1
    if any(t in _MULTIVIEW for t in types[1:]):
        return "MPO", "MPO", count
    return "MPO", "JPEG", 1

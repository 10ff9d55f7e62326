"""Whether a JPEG's EXIF block is well formed, from its bytes alone (header data).

Instagram refuses a JPEG whose EXIF block is corrupt (2207005/2207026) although
its pixels are fine. Pillow reads such a block as empty with a warning, and
warnings are process-wide state, so they cannot tell which of several probing
threads read the broken block. This walks the TIFF structure instead: the
header, IFD0 and IFD1, and the Exif, GPS and Interoperability sub-IFDs, checking
that every directory, entry and value lies inside the block and that no
directory is visited twice. MakerNote contents are the camera's own and not
walked.
"""

from __future__ import annotations

import struct

# Bytes per value of each TIFF field type (1-13); an unknown type is skipped by
# readers, not an error.
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_SUB_IFDS = {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interoperability"}
_MAX_IFDS = 32  # a real block has at most 5; more is a loop or a crafted chain


def exif_problem(block: bytes) -> str | None:
    """Why an EXIF block (APP1 payload, "Exif\\0\\0" + TIFF) is corrupt, or None."""
    tiff = block[6:] if block.startswith(b"Exif\x00\x00") else block
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(tiff[:4])
    if order is None:
        return "the EXIF block has no TIFF header"
    (first,) = struct.unpack(order + "I", tiff[4:8].ljust(4, b"\0"))
    todo: list[tuple[int, str]] = [(first, "IFD0")]
    seen: set[int] = set()
    while todo:
        offset, name = todo.pop(0)
        if offset in seen or len(seen) >= _MAX_IFDS:
            return f"the EXIF {name} directory at byte {offset} is visited twice (a loop)"
        seen.add(offset)
        problem = _directory(tiff, order, offset, name, todo)
        if problem:
            return problem
    return None


def _directory(
    tiff: bytes, order: str, offset: int, name: str, todo: list[tuple[int, str]]
) -> str | None:
    """Check one IFD; queue the directories it points to."""
    size = len(tiff)
    if offset < 8 or offset + 2 > size:
        return f"the EXIF {name} directory starts at byte {offset}, outside the {size}-byte block"
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    end = offset + 2 + 12 * count
    if end > size:
        return (
            f"the EXIF {name} directory declares {count:,} entries "
            f"({12 * count:,} bytes) in a {size:,}-byte block"
        )
    for k in range(count):
        at = offset + 2 + 12 * k
        tag, kind, n, value = struct.unpack(order + "HHII", tiff[at : at + 12])
        width = _TYPE_SIZE.get(kind)
        if width is None:
            continue
        length = width * n
        if length > 4 and value + length > size:
            return (
                f"EXIF tag 0x{tag:04X} in {name} points to {length:,} bytes at byte "
                f"{value:,}, past the end of the {size:,}-byte block"
            )
        if tag in _SUB_IFDS and kind in (4, 13) and name in ("IFD0", "Exif"):
            (target,) = struct.unpack(order + "I", tiff[at + 8 : at + 12])
            todo.append((target, _SUB_IFDS[tag]))
    if name == "IFD0" and end + 4 <= size:
        (following,) = struct.unpack(order + "I", tiff[end : end + 4])
        if following:
            todo.append((following, "IFD1"))
    return None

"""The video track's MP4/MOV sample entry: its type and where its parameter sets are.

HEVC comes as `hvc1` (VPS, SPS and PPS in the sample entry's hvcC, where Apple's
players and Apple's HLS authoring rules want them) or `hev1` (they may also or only
come in-band). A remux with `-tag:v hvc1` turns the first into the second only when
the hvcC already holds all three: ffmpeg then writes the same arrays as complete.
"""

from __future__ import annotations

import struct

from igpreflight.preflight.isobmff import MovieLayout
from igpreflight.preflight.mp4_audio_config import plain_boxes
from igpreflight.records import record

_VISUAL_ENTRY_FIELDS = 78  # VisualSampleEntry's fixed fields after its box header
_HEVC_PARAMETER_SETS = frozenset({32, 33, 34})  # VPS, SPS, PPS NAL unit types


@record
class VideoEntry:
    """The first video track's sample entry type, and whether its decoder
    configuration holds every parameter set (False: some only in-band)."""

    kind: str
    parameter_sets: bool


def video_entry(layout: MovieLayout | None) -> VideoEntry | None:
    """The first video track's sample entry, or None (no such track, or unreadable)."""
    if layout is None:
        return None
    stsd = next((t.boxes.get(b"stsd", b"") for t in layout.tracks if t.handler == "vide"), b"")
    if len(stsd) < 16:
        return None
    (size,) = struct.unpack(">I", stsd[8:12])
    kind = stsd[12:16].decode("latin-1")
    end = min(len(stsd), 8 + size) if size >= 8 else len(stsd)
    configs = dict(plain_boxes(stsd[16 + _VISUAL_ENTRY_FIELDS : end]))
    if kind in ("hev1", "hvc1"):
        return VideoEntry(kind, _hvcc_nal_types(configs.get(b"hvcC", b"")) >= _HEVC_PARAMETER_SETS)
    return VideoEntry(kind, True)


def _hvcc_nal_types(hvcc: bytes) -> set[int]:
    """The NAL unit types an HEVCDecoderConfigurationRecord carries at least one of."""
    if len(hvcc) < 23:
        return set()
    found, pos = set(), 23
    for _ in range(hvcc[22]):
        if pos + 3 > len(hvcc):
            break
        nal_type = hvcc[pos] & 0x3F
        (count,) = struct.unpack(">H", hvcc[pos + 1 : pos + 3])
        pos += 3
        for _ in range(count):
            if pos + 2 > len(hvcc):
                return found
            (length,) = struct.unpack(">H", hvcc[pos : pos + 2])
            pos += 2 + length
        if count:
            found.add(nal_type)
    return found

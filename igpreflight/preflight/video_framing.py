"""What a video's structure proof (`video_proof`, fix's default) must add to a
stream copy so that it meets damage a plain copy passes.

A copy to the null muxer reads every packet but looks inside none: H.264 and
HEVC in MP4/MOV/Matroska are length-prefixed NAL units, and a length prefix
made smaller (a flipped bit) cut the sample into pieces that ffmpeg's parser
never walked: `fix` called such a file "copied", and its output failed to play
("Invalid NAL unit size"). The `*_mp4toannexb` bitstream filter walks every
length prefix of every packet and fails on one that runs past its packet, at
the cost of a copy; it is only named for a stream whose codec is known, as it
refuses to start on any other.

MPEG-TS says no size of a video packet: a file cut short ends with a picture
cut short that the demuxer hands on without a word, so its structure cannot
prove its end, and it is decoded (`structure_proves_end`).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from igpreflight.preflight import isobmff

_MP4_FILTERS = {
    b"avc1": "h264_mp4toannexb",
    b"avc3": "h264_mp4toannexb",
    b"hvc1": "hevc_mp4toannexb",
    b"hev1": "hevc_mp4toannexb",
}
_MKV_FILTERS = {b"V_MPEG4/ISO/AVC": "h264_mp4toannexb", b"V_MPEGH/ISO/HEVC": "hevc_mp4toannexb"}
_MKV_HEAD = 1 << 16  # Matroska's Tracks element comes before the first cluster
_CLUSTER = b"\x1f\x43\xb6\x75"  # the first Cluster's ID: the headers end there
_TS_PACKETS = ((188, 0), (192, 4))  # packet size, offset of the 0x47 sync byte


def nal_filter(path: Path) -> str | None:
    """The bitstream filter that walks every NAL length prefix of the video, when
    every video track is one codec it knows (None: nothing to add)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
                return _mp4_filter(f)
            if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
                f.seek(0)
                return _mkv_filter(f.read(_MKV_HEAD))
    except (OSError, ValueError, IndexError, struct.error):
        return None
    return None


def _mp4_filter(f: BinaryIO) -> str | None:
    eof = isobmff.file_size(f)
    found = set()
    for trak in isobmff.find_path(f, isobmff.top_level(f), [b"moov", b"trak"], eof):
        hdlr = isobmff.find_path(f, [trak], [b"trak", b"mdia", b"hdlr"], eof)
        if not hdlr or isobmff.read_payload(f, hdlr[0], 64)[8:12] != b"vide":
            continue
        stsd = isobmff.find_path(f, [trak], [b"trak", b"mdia", b"minf", b"stbl", b"stsd"], eof)
        entry = isobmff.read_payload(f, stsd[0], 16)[12:16] if stsd else b""
        found.add(_MP4_FILTERS.get(entry))
    return found.pop() if len(found) == 1 else None


def _mkv_filter(head: bytes) -> str | None:
    cluster = head.find(_CLUSTER)
    head = head[:cluster] if cluster >= 0 else head  # the headers, not the coded data
    videos = head.count(b"V_")  # every video CodecID starts with V_
    found = {name for codec, name in _MKV_FILTERS.items() if codec in head}
    return found.pop() if len(found) == 1 and videos == 1 else None


def structure_proves_end(path: Path) -> bool:
    """False for MPEG-TS (and M2TS): its last picture may be cut short unseen."""
    try:
        with open(path, "rb") as f:
            head = f.read(3 * 192)
    except OSError:
        return True
    for size, sync in _TS_PACKETS:
        if len(head) > 2 * size + sync and all(head[sync + k * size] == 0x47 for k in range(3)):
            return False
    return True

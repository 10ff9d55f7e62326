"""The frame rate of an MPEG-TS video, from its pictures' timestamps.

MediaInfo calls the video of every MPEG-TS and M2TS file variable-rate ("VFR",
mostly with no rate): a transport stream carries no frame rate and no frame
durations, only each picture's PTS. Taken at its word, `fix` re-encoded a
camcorder's or a broadcast's constant 30 fps stream to make it constant
(VID015), where a remux to MP4 keeps every picture and is CFR. So for these
containers the probe reads the timestamps itself: ffmpeg demuxes the first
video stream (`-c copy -f framecrc`: packets only, nothing decoded, a capped
child like every other) and the steps between the sorted PTS say CFR (all equal,
give or take the one tick 59.94 fps alternates by) or VFR.

A fragmented MP4 (OBS and other recorders, `-movflags frag_keyframe`) gets the
same reading: MediaInfo sets a different last sample aside in an `stts` table,
but counts every `trun` duration. ffmpeg's fragmenting muxer, which cannot
write an edit list, stretches the first picture by the AAC priming (840 ticks
where the rest have 512): the same 30 fps stream was CFR unfragmented and "VFR
29.841 fps" fragmented, which `fix` re-encoded to 29.97 fps. So there a
different first step is set aside, as MediaInfo does for `stts`.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from itertools import pairwise
from typing import Any

# Containers whose frame-rate mode MediaInfo cannot tell (its names for them).
TIMESTAMP_ONLY = frozenset({"MPEG-TS", "BDAV"})
MAX_PICTURES = 3000  # timestamps read: 100 s at 30 fps, a few hundred KB of text
SECONDS = 60.0  # a demux of MAX_PICTURES packets takes a few hundredths of a second
TICK_SLACK = 1  # 59.94 fps on a 90 kHz clock steps 1501, 1502, 1501...
_TIME_BASE = re.compile(r"^#tb 0: (\d+)/(\d+)", re.MULTILINE)
_NOPTS = str(-(2**63))  # AV_NOPTS_VALUE as framecrc prints it
_PACKET = re.compile(r"^0,\s*(-?\d+|NOPTS),\s*(-?\d+|NOPTS),", re.MULTILINE)


def stamped_timing(
    path: str, container: str, fields: dict[str, Any], fragmented: bool = False
) -> dict[str, Any]:
    """The fps and frame-rate mode of a local transport stream's (or fragmented
    MP4's) video from its timestamps, where MediaInfo (whose `fields` these are)
    says VFR of a progressive stream; else nothing. An interlaced one may carry a
    field per packet."""
    stamped = container in TIMESTAMP_ONLY or fragmented
    if not stamped or fields.get("frame_rate_mode") != "VFR":
        return {}
    if (fields.get("scan_type") or "Progressive") != "Progressive":
        return {}
    found = packet_timing(path, first_aside=fragmented)
    if found is None:
        return {}
    fps, mode = found
    return {"fps": fps, "frame_rate_mode": mode}


def stream_duration(video: Any, audio: Any) -> float | None:
    """A transport stream's duration in ms: its longest stream's. MediaInfo's overall
    one is an estimate there (4.30 s for a 4.0 s HEVC clip with 4.03 s of AAC), and
    `fix` refused such a file because its output did not last that long."""
    found = []
    for track in (video, audio):
        try:
            found.append(float(track.duration))
        except (AttributeError, TypeError, ValueError):
            continue
    return max(found, default=None)


def packet_timing(
    path: str, first_aside: bool = False, by_dts: bool = False
) -> tuple[float, str] | None:
    """(fps, "CFR" or "VFR") from the first MAX_PICTURES pictures' timestamps of the
    first video stream of the file at `path`; None when they cannot say (ffmpeg
    failed, fewer than three pictures, or some without a PTS). `first_aside`: a
    first step unlike the others is not judged (`timing_of`)."""
    listing = copied_out(path, MAX_PICTURES, "framecrc")
    if listing is None:
        return None
    return timing_of(listing.decode("ascii", "replace"), first_aside, by_dts)


def copied_out(path: str, pictures: int, fmt: str) -> bytes | None:
    """The first `pictures` packets of the first video stream of the local file at
    `path`, copied (nothing decoded) into ffmpeg's `fmt` (framecrc: their timestamps;
    h264: Annex B with its parameter sets), by a capped child; None when ffmpeg fails."""
    from igpreflight.childproc import child_kwargs  # only for the files that need it
    from igpreflight.ffmpeg_bin import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", "file:" + path]
    cmd += ["-map", "0:v:0", "-c", "copy", "-frames:v", str(pictures), "-f", fmt, "-"]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=SECONDS, stdin=subprocess.DEVNULL, **child_kwargs()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def timing_of(
    framecrc: str, first_aside: bool = False, by_dts: bool = False
) -> tuple[float, str] | None:
    """(fps, mode) from ffmpeg's framecrc listing of one stream (see packet_timing);
    with `first_aside`, a first step unlike all the others (a fragmented MP4's first
    picture, stretched by the audio's priming) is left out of both. `by_dts`: the
    decode times are read (an AVI's chunk numbers: it has no presentation times)."""
    base = _TIME_BASE.search(framecrc)
    pts = [dts if by_dts else pts for dts, pts in _PACKET.findall(framecrc)]
    if base is None or len(pts) < 3 or "NOPTS" in pts or _NOPTS in pts:
        return None
    stamps = sorted(int(p) for p in pts)
    steps = [b - a for a, b in pairwise(stamps)]
    if min(steps) <= 0:
        return None  # two pictures at one time: not something a rate describes
    slack = 0 if by_dts else TICK_SLACK  # an AVI's tick is a whole picture
    if first_aside and len(steps) >= 3 and max(steps[1:]) - min(steps[1:]) <= slack:
        steps = steps[1:]
    tick = Fraction(int(base[1]), int(base[2]))
    fps = float(len(steps) / (sum(steps) * tick))
    mode = "CFR" if max(steps) - min(steps) <= slack else "VFR"
    return round(fps, 3), mode

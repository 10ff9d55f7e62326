"""MediaInfo's numbers for a video stream as facts: rates, bitrates, timing.

Apart from `probe_video` because they are the arithmetic on MediaInfo's strings
(and the MP4 tables that overrule them), not the reading of a file.
"""

from __future__ import annotations

import re
from typing import Any

from igpreflight.preflight import isobmff
from igpreflight.probe_limits import PROBE_LIMITS

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _num(value: Any) -> float | None:
    """First number of a MediaInfo value ("48000 / 24000", "2 / 1", "-90.000")."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = _NUMBER.search(str(value))
    return float(m.group()) if m else None


def _int(value: Any) -> int | None:
    n = _num(value)
    return int(round(n)) if n is not None else None


def _video_bitrate(video: Any, general: Any, audio: Any, duration: float | None) -> int | None:
    """The video stream's average bitrate.

    MediaInfo's BitRate when present; else the stream's size over the duration;
    else the whole file's rate minus the audio's (a slight overestimate: the
    container overhead is counted as video).
    """
    rate = _int(video.bit_rate)
    if rate:
        return rate
    vdur = (_num(video.duration) or 0) / 1000 or duration
    stream_size = _num(video.stream_size)
    if stream_size and vdur:
        return int(stream_size * 8 / vdur)
    file_size = _num(general.file_size)
    if file_size and duration:
        total = int(file_size * 8 / duration)
        audio_rate = _int(audio.bit_rate) if audio is not None else 0
        return max(total - (audio_rate or 0), 0) or None
    return None


def _fps(video: Any, duration: float | None) -> float | None:
    fps = _num(video.frame_rate)
    if fps:
        return fps
    num, den = _num(video.framerate_num), _num(video.framerate_den)
    if num and den:
        return num / den
    count = _num(video.frame_count)
    vdur = (_num(video.duration) or 0) / 1000 or duration
    if count and vdur:
        return count / vdur
    return None


def _table_bitrate(layout: isobmff.MovieLayout | None, handler: str) -> int | None:
    """An MP4/MOV stream's average bitrate from its sample tables: its bytes (stsz)
    over what its samples last (stts). MediaInfo's BitRate is an estimate with
    quirks of its own (an AAC stream near a "well-known" rate is reported at that
    rate: 129.8 kb/s as 132.3), so the tables decide wherever they say."""
    if layout is None:
        return None
    track = next((t for t in layout.tracks if t.handler == handler), None)
    if track is None or not track.sample_bytes or not track.sample_duration:
        return None
    return round(track.sample_bytes * 8 / track.sample_duration)


def _layout_channels(layout: isobmff.MovieLayout | None) -> int | None:
    """The first sound track's channel count from its MP4 sample entry."""
    if layout is None:
        return None
    return next((t.channels for t in layout.tracks if t.handler == "soun" and t.channels), None)


def _frame_rate_mode(video: Any) -> str | None:
    """MediaInfo's CFR/VFR, except that millisecond rounding is not VFR.

    When MediaInfo says VFR but its minimum and maximum frame rates differ by
    at most one millisecond per frame (`ProbeLimits.vfr_jitter`), the stream
    is a constant rate stored in a millisecond timebase: CFR.
    """
    mode = str(video.frame_rate_mode) if video.frame_rate_mode else None
    low, high = _num(video.minimum_frame_rate), _num(video.maximum_frame_rate)
    if mode == "VFR" and low and high and 1 / low - 1 / high <= PROBE_LIMITS.vfr_jitter:
        return "CFR"
    return mode


def _timing(video: Any, duration: float | None) -> dict[str, Any]:
    """fps and frame-rate mode, cross-checked against the frame count.

    A stream whose frame count disagrees with its nominal rate x duration (see
    ProbeLimits.frame_count_slack) is variable: its real average rate is reported.
    """
    fps, mode = _fps(video, duration), _frame_rate_mode(video)
    count = _num(video.frame_count)
    vdur = (_num(video.duration) or 0) / 1000
    if fps and count and count >= 2 and vdur:
        expected = fps * vdur
        slack = max(PROBE_LIMITS.frame_count_slack, PROBE_LIMITS.frame_count_share * expected)
        if abs(count - expected) > slack:
            return {"fps": round(count / vdur, 3), "frame_rate_mode": "VFR"}
    return {"fps": fps, "frame_rate_mode": mode}

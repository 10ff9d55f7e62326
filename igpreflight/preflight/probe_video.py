"""Video (and audio-only) facts from MediaInfo plus the ISO-BMFF box walker.

MediaInfo reads container and stream headers only. It says nothing reliable
about edit lists and little about truncation, so MP4/MOV files also get a walk
over their box headers (`isobmff.movie_layout`).
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO

from igpreflight.model import Unreadable, VideoFacts
from igpreflight.preflight import avi_h264, isobmff, mp4_native, packet_duration, ts_timing
from igpreflight.preflight.mediainfo_fields import Fields, Track
from igpreflight.preflight.mp4_video_entry import video_entry
from igpreflight.preflight.video_numbers import (
    _int,
    _layout_channels,
    _num,
    _table_bitrate,
    _timing,
    _video_bitrate,
)
from igpreflight.probe_limits import PROBE_LIMITS


def normalise_rotation(value: Any) -> int:
    """MediaInfo's Rotation ("90.000", "-90", "270.000") as 0, 90, 180 or 270.

    Degrees clockwise the player turns the coded picture for display, as
    MediaInfo reports it (ffprobe's display-matrix "-90" is MediaInfo's 90).
    """
    n = _num(value)
    if n is None:
        return 0
    return int(round(n / 90.0)) * 90 % 360


def _profile(track: Any) -> str | None:
    profile = track.format_profile
    level = track.format_level
    if profile and level and "@" not in str(profile):
        return f"{profile}@L{level}" if not str(level).startswith("L") else f"{profile}@{level}"
    return str(profile) if profile else None


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _chroma(track: Any) -> str | None:
    value = track.chroma_subsampling
    if not value:
        return None
    m = re.match(r"\d:\d:\d", str(value))
    return m.group() if m else str(value)


def _audio_profile(track: Any) -> str | None:
    for value in (track.format_additionalfeatures, track.format_profile):
        if value:
            return str(value).split(" / ")[0]
    return None


# ftyp brands that make an ISO base media file an MP4 (MPEG-4 Part 14 or its ISO
# base): MediaInfo names a file after a major brand it does not know ("iso6" for
# CMAF from `ffmpeg -movflags +cmaf`), though its compatible brands say MP4.
MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"iso8",
    b"iso9",
    b"mp41",
    b"mp42",
}


def _container(general: Any, layout: isobmff.MovieLayout | None = None) -> str:
    fmt = str(general.format or "")
    if fmt == "MPEG-4" and str(general.format_profile or "") == "QuickTime":
        return "QuickTime"
    if fmt not in ("MPEG-4", "QuickTime") and layout is not None and _mp4_brand(layout.ftyp):
        return "MPEG-4"
    return fmt


def _mp4_brand(ftyp: bytes) -> bool:
    """True when the ftyp's major or a compatible brand is an MP4 one."""
    brands = [ftyp[:4]] + [ftyp[i : i + 4] for i in range(8, len(ftyp) - 3, 4)]
    return any(b in MP4_BRANDS for b in brands)


FAST_PARSE = 0.0
DEFAULT_PARSE = 0.5


@contextmanager
def lookahead(paths: Sequence[str] = ()) -> Iterator[Callable[[str], None]]:
    """Have MediaInfo parse these local files ahead, in this order, each at the speed
    its probe will ask for (`mediainfo_child.lookahead`); yields `add(path)`, which
    announces one more file to parse after them."""
    from igpreflight.preflight import mediainfo_child

    with mediainfo_child.lookahead([(path, _parse_speed(path)) for path in paths]) as ahead:

        def add(path: str) -> None:
            if ahead is not None:
                ahead.add(path, _parse_speed(path))

        yield add


class MediaInfoNeeded(Exception):
    """Inside `native_only()`: this file's facts need MediaInfo (str() is its path)."""


_NATIVE_ONLY = threading.local()


@contextmanager
def native_only() -> Iterator[None]:
    """Within it, this thread's `probe_video` raises MediaInfoNeeded where it would
    ask MediaInfo, so that a caller can hand the file to a thread that waits on the
    MediaInfo server while this one goes on (`preflight.overlap`)."""
    _NATIVE_ONLY.on = True
    try:
        yield
    finally:
        _NATIVE_ONLY.on = False


def _parse_speed(path: str) -> float:
    """The speed `probe_video` parses a file at: ISO-BMFF files the fastest."""
    from igpreflight import formats

    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return DEFAULT_PARSE
    return FAST_PARSE if formats.probe_route(head) in ("iso", "heif") else DEFAULT_PARSE


def _movie(
    path: str, size: int, source: BinaryIO | None, native: bool
) -> tuple[isobmff.MovieLayout, Fields | None] | Unreadable:
    """The box layout of an MP4/MOV, checked for truncation and impossible tables,
    and its fields when the native reader settles them (else None: MediaInfo's turn)."""
    try:
        if source is not None:
            return _read_movie(source, path, size, native)
        with open(path, "rb") as f:
            return _read_movie(f, path, size, native)
    except (isobmff.BoxError, OSError, ValueError, IndexError, struct.error) as e:
        return Unreadable(path, f"corrupt MP4: {e}", size)


def _read_movie(
    f: BinaryIO, path: str, size: int, native: bool
) -> tuple[isobmff.MovieLayout, Fields | None] | Unreadable:
    f.seek(0)
    layout = isobmff.movie_layout(f)
    if layout.moov_offset is None and not layout.fragmented:
        return Unreadable(path, "incomplete MP4: no moov box (truncated or still recording)", size)
    if layout.past_eof == "moov":
        return Unreadable(path, "truncated MP4: the moov box runs past the end", size)
    if any(t.data_end is not None and t.data_end > size for t in layout.tracks):
        return Unreadable(path, "truncated MP4: media data ends early", size)
    limits = PROBE_LIMITS
    odd = isobmff.implausible(layout, size, limits.duration_slack, limits.duration_share)
    if odd:
        return Unreadable(path, f"implausible MP4: {odd}", size)
    if not native or layout.moov_offset is None:
        return layout, None

    def read_at(offset: int, count: int) -> bytes:
        f.seek(offset)
        return f.read(count)

    return layout, mp4_native.native_fields(layout, size, read_at)


def _track_counts(general: Track, video: Track | None, audio: Track | None) -> dict[str, int]:
    """How many video and audio streams MediaInfo counted (the facts describe the
    first of each); a reader that gave no count saw one stream where it gave one."""
    return {
        "video_tracks": _int(general.count_of_video_streams) or (1 if video is not None else 0),
        "audio_tracks": _int(general.count_of_audio_streams) or (1 if audio is not None else 0),
    }


def implausible_reason(frames: int | None, duration: float | None, size: int) -> str | None:
    """Why declared numbers cannot be true for a file of `size` bytes (None: they can).

    Every frame takes at least a byte, and no stream averages under
    `ProbeLimits.min_bitrate` over its declared duration.
    """
    if frames and frames > size:
        return f"declares {frames:,} frames in {size:,} bytes"
    if duration and size * 8 / duration < PROBE_LIMITS.min_bitrate:
        return (
            f"declares {duration:,.0f} s, under {PROBE_LIMITS.min_bitrate} bit/s "
            f"for its {size:,} bytes"
        )
    return None


def probe_video(
    path: str, size: int, ext: str, iso: bool, source: BinaryIO | None = None, native: bool = True
) -> VideoFacts | Unreadable:
    """Facts of a file MediaInfo should understand (`iso`: it is MP4/MOV/3GP).

    `source`, when given, is read instead of opening `path` (a ranged reader
    over an S3 object: MediaInfo then parses it through its buffer API). An
    MP4/MOV is read natively where `mp4_native` settles it (`native`), else by
    MediaInfo.
    """
    layout: isobmff.MovieLayout | None = None
    streams: Fields | None = None
    if iso:
        movie = _movie(path, size, source, native)
        if isinstance(movie, Unreadable):
            return movie
        layout, streams = movie
    if streams is None:
        if getattr(_NATIVE_ONLY, "on", False):
            raise MediaInfoNeeded(path)
        from igpreflight.preflight import mediainfo_child

        try:
            # MP4/MOV keep every timing table in moov, which MediaInfo reads at its
            # fastest speed with the same results on the whole corpus (and without
            # reading mdat); other containers need its default scan to tell CFR
            # from VFR. The parse runs in a capped child process, one at a time
            # there, so two speeds never mix inside one libmediainfo.
            speed = FAST_PARSE if iso else DEFAULT_PARSE
            streams = mediainfo_child.parse_fields(path, speed, source)
        except mediainfo_child.ParseBoundError as e:
            return Unreadable(path, f"probe bound: {e}", size)
        except Exception as e:  # noqa: BLE001 - libmediainfo failures come in many types
            reason = " ".join(str(e).split())[:200]
            return Unreadable(path, f"cannot parse media: {reason}", size)
    general, video, audio = (
        Track(fields) if fields is not None else None
        for fields in (streams.get("general"), streams.get("video"), streams.get("audio"))
    )
    if general is None or not general.format:
        return Unreadable(path, "not a media file", size)
    if video is None and audio is None and not iso:
        return Unreadable(path, f"a {general.format} file, not an image or a video", size)
    if layout is None and str(general.format) in ("MPEG-4", "QuickTime"):
        # A movie whose first box the sniffer did not know (a damaged ftyp, a
        # leading uuid): MediaInfo read it, so its boxes are read too, or its moov
        # position (VID004), edit lists and tables went unjudged.
        movie = _movie(path, size, source, native=False)
        if isinstance(movie, Unreadable):
            return movie
        layout = movie[0]
    container = _container(general, layout)
    duration_ms = _num(general.duration)
    if container in ts_timing.TIMESTAMP_ONLY:
        duration_ms = ts_timing.stream_duration(video, audio) or duration_ms
    if duration_ms is None and video is not None:
        duration_ms = _num(video.duration)
    if duration_ms is None and audio is not None:
        duration_ms = _num(audio.duration)
    duration = duration_ms / 1000 if duration_ms else None
    if duration is None and source is None and video is not None:
        duration = packet_duration.packet_duration(path)  # a live recording's WebM

    streamable: bool | None = None
    has_edit_list = False
    if layout is not None:
        streamable = layout.streamable
        has_edit_list = any(
            isobmff.edits_change_timeline(t, PROBE_LIMITS.edit_list_tolerance)
            for t in layout.tracks
            if t.handler in ("vide", "soun")
        )

    fields: dict[str, Any] = {}
    if video is not None:
        if not video.format:
            return Unreadable(path, "the video stream cannot be read", size)
        fields.update(
            video_codec=str(video.format),
            video_profile=_profile(video),
            width=_int(video.width),
            height=_int(video.height),
            rotation=normalise_rotation(video.rotation),
            sar=_num(video.pixel_aspect_ratio) or 1.0,
            **_timing(video, duration),
            scan_type=str(video.scan_type) if video.scan_type else None,
            chroma=_chroma(video),
            bit_depth=_int(video.bit_depth),
            transfer=_text(video.transfer_characteristics),
            video_bitrate=_table_bitrate(layout, "vide")
            or _video_bitrate(video, general, audio, duration),
        )
        entry = video_entry(layout)
        if entry is not None:
            fields.update(video_entry=entry.kind, inband_parameter_sets=not entry.parameter_sets)
        if fields["width"] is None or fields["height"] is None:
            return Unreadable(path, f"the {video.format} video stream has no frame size", size)
        if source is None:  # a local file ffmpeg can read
            fragmented = layout is not None and layout.fragmented
            fields.update(ts_timing.stamped_timing(path, container, fields, fragmented))
            if container == "AVI":
                fields.update(avi_h264.avi_h264_facts(path, fields))
    if audio is not None:
        if not audio.format:
            # A damaged audio track (its stsd or stbl unreadable): check said VID003
            # "fixable" and fix failed on ffmpeg's "Could not find codec parameters".
            return Unreadable(path, "the audio stream cannot be read", size)
        fields.update(
            audio_codec=str(audio.format) if audio.format else None,
            audio_profile=_audio_profile(audio),
            audio_sample_rate=_int(audio.sampling_rate),
            audio_channels=_int(audio.channel_s) or _layout_channels(layout),
            audio_bitrate=_table_bitrate(layout, "soun") or _int(audio.bit_rate),
        )
    frames = _int(video.frame_count) if video is not None else None
    odd = implausible_reason(frames, duration, size)
    if odd:
        return Unreadable(path, f"implausible {container} file: {odd}", size)
    return VideoFacts(
        **_track_counts(general, video, audio),
        path=path,
        bytes=size,
        container=container,
        is_streamable=streamable,
        duration=duration,
        has_video=video is not None,
        has_audio=audio is not None,
        has_edit_list=has_edit_list,
        mirrored=video is not None and mp4_native.mirrored(layout),
        extension=ext,
        **fields,
    )

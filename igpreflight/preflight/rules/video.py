"""Video rules VID001-VID020: pure functions of VideoFacts and the role's VideoLimits.

A value the probe could not read (None) is never judged: a rule only speaks
about what was measured. Sizes and ratios are the DISPLAYED ones (rotation and
sample aspect ratio applied). Frame rates and durations are compared after
rounding to 3 decimals, the precision MediaInfo reports, so 60.000 passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from igpreflight.catalog import finding
from igpreflight.limits import VideoLimits
from igpreflight.model import Finding, Role, VideoFacts
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import (
    exact,
    fmt_int,
    fmt_number,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    ratio_label,
    relative_gap,
)

# What people call MediaInfo's codec names, for messages.
CODEC_NAMES = {"AVC": "H.264 (AVC)", "HEVC": "HEVC (H.265)"}

ROLE_NAMES = {
    Role.REELS: "a Reel",
    Role.STORY_VIDEO: "a story video",
    Role.CAROUSEL_VIDEO: "a carousel video",
}


def _codec(name: str) -> str:
    return CODEC_NAMES.get(name.upper(), name)


def _in(value: str | None, allowed: tuple[str, ...]) -> bool:
    return value is not None and value.upper() in {a.upper() for a in allowed}


def _size(f: VideoFacts) -> str:
    return f"{f.display_width}x{f.display_height}"


def _for(lim: VideoLimits) -> str:
    return f" for {ROLE_NAMES[lim.role]}" if lim.role in ROLE_NAMES else ""


@REGISTRY.video_rule("VID001")
def container(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if not _in(f.container, lim.containers):
        yield finding(
            "VID001",
            f"container {f.container or 'unknown'} is not accepted; use MP4 or MOV "
            f"({' or '.join(lim.containers)})",
        )


@REGISTRY.video_rule("VID002")
def video_codec(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    wanted = " or ".join(_codec(c) for c in lim.video_codecs)
    if not f.has_video:
        yield finding("VID002", f"no video stream; a video needs {wanted}", fixable=False)
    elif not _in(f.video_codec, lim.video_codecs):
        yield finding(
            "VID002",
            f"video codec {_codec(f.video_codec or 'unknown')} is not accepted; use {wanted}",
        )


@REGISTRY.video_rule("VID018")
def hevc(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_video and _in(f.video_codec, lim.warned_video_codecs):
        yield finding(
            "VID018",
            f"video codec {_codec(f.video_codec or '')} is accepted, but "
            f"{_codec(lim.video_codecs[0])} is the safest",
        )


@REGISTRY.video_rule("VID003")
def audio_codec(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_audio and not _in(f.audio_codec, lim.audio_codecs):
        yield finding(
            "VID003",
            f"audio codec {f.audio_codec or 'unknown'} is not accepted; use "
            f"{' or '.join(lim.audio_codecs)}",
        )


@REGISTRY.video_rule("VID004")
def faststart(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.is_streamable is False:
        yield finding(
            "VID004",
            "moov atom is after the media data; it should be at the front (faststart)",
        )


@REGISTRY.video_rule("VID005")
def frame_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.fps is None:
        return
    fps = round(f.fps, 3)
    vfr = " (average of a variable rate)" if (f.frame_rate_mode or "").upper() == "VFR" else ""
    if fps < lim.min_fps:
        yield finding(
            "VID005", f"frame rate {fmt_number(fps)} fps{vfr} is below {fmt_number(lim.min_fps)}"
        )
    elif fps > lim.max_fps:
        yield finding(
            "VID005", f"frame rate {fmt_number(fps)} fps{vfr} is above {fmt_number(lim.max_fps)}"
        )


@REGISTRY.video_rule("VID006")
def width(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.display_width is not None and f.display_width > lim.max_width:
        yield finding("VID006", f"displayed width {f.display_width} px is above {lim.max_width}")


@REGISTRY.video_rule("VID007")
def aspect_ratio(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    dw, dh = f.display_width, f.display_height
    if not dw or not dh:
        return
    ratio = Fraction(dw, dh)
    if ratio < exact(lim.min_aspect):
        yield finding(
            "VID007",
            f"aspect ratio {fmt_ratio(float(ratio), lim.min_aspect)} ({_size(f)}) is below "
            f"{ratio_label(lim.min_aspect)}{_for(lim)}",
        )
    elif ratio > exact(lim.max_aspect):
        yield finding(
            "VID007",
            f"aspect ratio {fmt_ratio(float(ratio), lim.max_aspect)} ({_size(f)}) is above "
            f"{ratio_label(lim.max_aspect)}{_for(lim)}",
        )


@REGISTRY.video_rule("VID019")
def recommended_ratio(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    target = lim.recommended_aspect
    if target is None or f.aspect is None:
        return
    if relative_gap(f.aspect, target) > lim.recommended_aspect_tolerance:
        yield finding(
            "VID019",
            f"aspect ratio {fmt_ratio(f.aspect)} ({_size(f)}) is not {ratio_label(target)}, "
            f"the recommended ratio{_for(lim)}; it is not shown full screen",
        )


@REGISTRY.video_rule("VID008")
def duration(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.duration is None:
        return
    d = round(f.duration, 3)
    if d < lim.min_duration:
        yield finding(
            "VID008",
            f"duration {fmt_seconds(d)} is below {fmt_seconds(lim.min_duration)}{_for(lim)}; "
            "fix it with --extend (or use a longer clip)",
        )
    elif d > lim.max_duration:
        yield finding(
            "VID008",
            f"duration {fmt_seconds(d)} is above {fmt_seconds(lim.max_duration)}{_for(lim)}; "
            "fix it with --trim (or cut the clip)",
        )


@REGISTRY.video_rule("VID009")
def file_size(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.bytes > lim.max_bytes:
        yield finding(
            "VID009",
            f"file is {fmt_int(f.bytes)} bytes; the limit{_for(lim)} is {fmt_int(lim.max_bytes)}",
        )


def estimated_video_bitrate(f: VideoFacts) -> int | None:
    """The video bitrate MediaInfo gave, else file size over duration minus the audio
    (a slight over-estimate: container overhead is counted as video)."""
    if f.video_bitrate is not None:
        return f.video_bitrate
    if not f.has_video or not f.duration or f.duration <= 0:
        return None
    total = f.bytes * 8 / f.duration
    return round(total - (f.audio_bitrate or 0))


@REGISTRY.video_rule("VID010")
def video_bitrate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = estimated_video_bitrate(f)
    if rate is not None and rate > lim.max_video_bitrate:
        how = "" if f.video_bitrate is not None else " (estimated from size and duration)"
        yield finding(
            "VID010",
            f"video bitrate {fmt_rate(rate, 'Mbps')}{how} is above "
            f"{fmt_rate(lim.max_video_bitrate, 'Mbps')}",
        )


@REGISTRY.video_rule("VID011")
def sample_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = f.audio_sample_rate
    if f.has_audio and rate is not None and rate > lim.max_audio_sample_rate:
        yield finding(
            "VID011",
            f"audio sample rate {fmt_number(rate / 1000)} kHz is above "
            f"{fmt_number(lim.max_audio_sample_rate / 1000)} kHz",
        )


@REGISTRY.video_rule("VID012")
def channels(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    n = f.audio_channels
    if f.has_audio and n is not None and not lim.min_audio_channels <= n <= lim.max_audio_channels:
        yield finding(
            "VID012",
            f"audio has {n} channels; Instagram accepts {lim.min_audio_channels} to "
            f"{lim.max_audio_channels} (mono or stereo)",
        )


@REGISTRY.video_rule("VID013")
def scan(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    # MediaInfo says Progressive, Interlaced, MBAFF, PAFF or Mixed; only progressive passes.
    if f.has_video and f.scan_type and f.scan_type.upper() != "PROGRESSIVE":
        yield finding("VID013", f"scan type is {f.scan_type}; it must be progressive")


@REGISTRY.video_rule("VID014")
def pixels(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if not f.has_video:
        return
    parts = []
    chroma = (f.chroma or "").split(" ")[0]
    if chroma and chroma != lim.chroma:
        parts.append(f"chroma {chroma}")
    if f.bit_depth is not None and f.bit_depth > lim.max_bit_depth:
        parts.append(f"{f.bit_depth}-bit")
    if parts:
        yield finding(
            "VID014",
            f"pixels are {', '.join(parts)}; they must be {lim.chroma}, {lim.max_bit_depth}-bit",
        )


@REGISTRY.video_rule("VID015")
def variable_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_video and (f.frame_rate_mode or "").upper() == "VFR":
        yield finding("VID015", "frame rate mode is variable (VFR); it should be constant (CFR)")


@REGISTRY.video_rule("VID016")
def edit_list(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_edit_list:
        yield finding("VID016", "an edit list shifts or cuts the timeline; there should be none")


@REGISTRY.video_rule("VID017")
def rotation(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.rotation % 360:
        shown = f"; checks use the displayed size {_size(f)}" if f.display_width else ""
        yield finding(
            "VID017",
            f"display matrix rotates the video by {f.rotation}° (should be 0°){shown}",
        )


@REGISTRY.video_rule("VID020")
def audio_bitrate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = f.audio_bitrate
    if not f.has_audio or rate is None:
        return
    if rate < lim.min_audio_bitrate or rate > lim.max_audio_bitrate:
        yield finding(
            "VID020",
            f"audio bitrate {fmt_rate(rate, 'kbps')} is far from the recommended "
            f"{fmt_rate(lim.recommended_audio_bitrate, 'kbps')} (outside "
            f"{fmt_number(lim.min_audio_bitrate / 1000)}..{fmt_rate(lim.max_audio_bitrate, 'kbps')})",
        )

"""Video rules VID001-VID020: pure functions of VideoFacts and the role's VideoLimits.

A value the probe could not read (None) is never judged: a rule only speaks
about what was measured. Sizes and ratios are the DISPLAYED ones (rotation and
sample aspect ratio applied). Frame rates and durations are compared after
rounding to 3 decimals, the precision MediaInfo reports, so 60.000 passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from igpreflight.limits import VIDEO_LIMITS, VideoLimits
from igpreflight.model import Finding, Role, Severity, VideoFacts
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import (
    allowed_aspect,
    aspects_label,
    exact,
    fmt_int,
    fmt_number,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    ratio_label,
    ratio_name,
    relative_gap,
)

# What people call MediaInfo's codec names, for messages.
CODEC_NAMES = {"AVC": "H.264 (AVC)", "HEVC": "HEVC (H.265)"}

ROLE_NAMES = {
    Role.REELS: "a Reel",
    Role.STORY_VIDEO: "a story video",
    Role.CAROUSEL_VIDEO: "a carousel video",
}


# The numbers in rule summaries (what `igpreflight rules` lists): a Reel's limits.
_REELS = VIDEO_LIMITS[Role.REELS]
_nine_sixteen = ratio_name(_REELS.recommended_aspect or 0)
_khz = fmt_number(_REELS.max_audio_sample_rate / 1000)
_kbps = fmt_rate(_REELS.recommended_audio_bitrate, "kbps")


def _codec(name: str) -> str:
    return CODEC_NAMES.get(name.upper(), name)


def _in(value: str | None, allowed: tuple[str, ...]) -> bool:
    return value is not None and value.upper() in {a.upper() for a in allowed}


def _size(f: VideoFacts) -> str:
    return f"{f.display_width}x{f.display_height}"


def _for(lim: VideoLimits) -> str:
    return f" for {ROLE_NAMES[lim.role]}" if lim.role in ROLE_NAMES else ""


@REGISTRY.video_rule(
    "VID001",
    Severity.ERROR,
    "container is MP4 or MOV",
    graph=(352, 2207026),
    fix="remuxed (or transcoded) to MP4",
    limits=("video.containers",),
)
def container(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if not _in(f.container, lim.containers):
        yield container.finding(
            f"container {f.container or 'unknown'} is not accepted; use MP4 or MOV "
            f"({' or '.join(lim.containers)})",
        )


@REGISTRY.video_rule(
    "VID002",
    Severity.ERROR,
    "video codec is H.264 or HEVC",
    graph=(352, 2207026),
    fix="transcoded to H.264 High",
    limits=("video.video_codecs",),
)
def video_codec(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    wanted = " or ".join(_codec(c) for c in lim.video_codecs)
    if not f.has_video:
        yield video_codec.finding(f"no video stream; a video needs {wanted}", fixable=False)
    elif not _in(f.video_codec, lim.video_codecs):
        yield video_codec.finding(
            f"video codec {_codec(f.video_codec or 'unknown')} is not accepted; use {wanted}",
        )


@REGISTRY.video_rule(
    "VID018",
    Severity.WARNING,
    "HEVC is accepted, but H.264 is the safest codec",
    fix="transcoded to H.264 (unless --keep-hevc)",
    limits=("video.warned_video_codecs",),
)
def hevc(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_video and _in(f.video_codec, lim.warned_video_codecs):
        yield hevc.finding(
            f"video codec {_codec(f.video_codec or '')} is accepted, but "
            f"{_codec(lim.video_codecs[0])} is the safest",
        )


@REGISTRY.video_rule(
    "VID003",
    Severity.ERROR,
    "audio codec is AAC",
    graph=(352, 2207026),
    fix="audio transcoded to AAC-LC",
    limits=("video.audio_codecs",),
)
def audio_codec(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_audio and not _in(f.audio_codec, lim.audio_codecs):
        yield audio_codec.finding(
            f"audio codec {f.audio_codec or 'unknown'} is not accepted; use "
            f"{' or '.join(lim.audio_codecs)}",
        )


@REGISTRY.video_rule(
    "VID004",
    Severity.WARNING,
    "moov atom is at the front (faststart)",
    fix="remuxed with faststart",
)
def faststart(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.is_streamable is False:
        yield faststart.finding(
            "moov atom is after the media data; it should be at the front (faststart)",
        )


@REGISTRY.video_rule(
    "VID005",
    Severity.ERROR,
    f"frame rate is between {fmt_number(_REELS.min_fps)} and {fmt_number(_REELS.max_fps)} fps",
    graph=(352, 2207026),
    fix=f"converted to a constant rate inside {fmt_number(_REELS.min_fps)}..{fmt_number(_REELS.max_fps)}",
    limits=("video.min_fps", "video.max_fps"),
)
def frame_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.fps is None:
        return
    fps = round(f.fps, 3)
    vfr = " (average of a variable rate)" if (f.frame_rate_mode or "").upper() == "VFR" else ""
    if fps < lim.min_fps:
        yield frame_rate.finding(
            f"frame rate {fmt_number(fps)} fps{vfr} is below {fmt_number(lim.min_fps)}"
        )
    elif fps > lim.max_fps:
        yield frame_rate.finding(
            f"frame rate {fmt_number(fps)} fps{vfr} is above {fmt_number(lim.max_fps)}"
        )


@REGISTRY.video_rule(
    "VID006",
    Severity.ERROR,
    f"displayed width is at most {_REELS.max_width} px",
    graph=(352, 2207026),
    fix="downscaled",
    limits=("video.max_width",),
)
def width(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.display_width is not None and f.display_width > lim.max_width:
        yield width.finding(f"displayed width {f.display_width} px is above {lim.max_width}")


@REGISTRY.video_rule(
    "VID021",
    Severity.ERROR,
    "displayed size is at least the profile's minimum (Facebook Reels: 540x960)",
    todo="use a larger original (upscaling adds no detail)",
    limits=("video.min_short_edge", "video.min_long_edge"),
)
def min_size(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    dw, dh = f.display_width, f.display_height
    if not dw or not dh or (lim.min_short_edge is None and lim.min_long_edge is None):
        return
    short, long = min(dw, dh), max(dw, dh)
    if short < (lim.min_short_edge or 0) or long < (lim.min_long_edge or 0):
        want = [lim.min_short_edge or 0, lim.min_long_edge or 0]
        least = f"{want[0]}x{want[1]}" if dh >= dw else f"{want[1]}x{want[0]}"
        yield min_size.finding(
            f"displayed size {_size(f)} is below the minimum {least}{_for(lim)} on {lim.platform}",
        )


@REGISTRY.video_rule(
    "VID007",
    Severity.ERROR,
    "displayed aspect ratio is inside the range for the role",
    graph=(352, 2207026),
    fix="cropped or padded into range",
    limits=("video.min_aspect", "video.max_aspect", "video.aspects"),
)
def aspect_ratio(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    dw, dh = f.display_width, f.display_height
    if not dw or not dh:
        return
    ratio = Fraction(dw, dh)
    if ratio < exact(lim.min_aspect):
        yield aspect_ratio.finding(
            f"aspect ratio {fmt_ratio(float(ratio), lim.min_aspect)} ({_size(f)}) is below "
            f"{ratio_label(lim.min_aspect)}{_for(lim)}",
        )
    elif ratio > exact(lim.max_aspect):
        yield aspect_ratio.finding(
            f"aspect ratio {fmt_ratio(float(ratio), lim.max_aspect)} ({_size(f)}) is above "
            f"{ratio_label(lim.max_aspect)}{_for(lim)}",
        )
    elif lim.aspects and not allowed_aspect(float(ratio), lim.aspects, lim.aspect_tolerance):
        yield aspect_ratio.finding(
            f"aspect ratio {fmt_ratio(float(ratio))} ({_size(f)}) is not "
            f"{aspects_label(lim.aspects)}{_for(lim)}",
        )


@REGISTRY.video_rule(
    "VID019",
    Severity.INFO,
    f"{_nine_sixteen} is the recommended ratio for Reels and Stories",
    todo=f"crop or pad to {_nine_sixteen} for full screen",
    limits=("video.recommended_aspect",),
)
def recommended_ratio(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    target = lim.recommended_aspect
    if target is None or f.aspect is None:
        return
    if relative_gap(f.aspect, target) > lim.recommended_aspect_tolerance:
        yield recommended_ratio.finding(
            f"aspect ratio {fmt_ratio(f.aspect)} ({_size(f)}) is not {ratio_label(target)}, "
            f"the recommended ratio{_for(lim)}; it is not shown full screen",
        )


@REGISTRY.video_rule(
    "VID008",
    Severity.ERROR,
    "duration is inside the range for the role",
    graph=(352, 2207026),
    todo="use --trim or --extend",
    on_request=True,
    limits=("video.min_duration", "video.max_duration"),
)
def duration(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.duration is None:
        return
    d = round(f.duration, 3)
    if d < lim.min_duration:
        yield duration.finding(
            f"duration {fmt_seconds(d)} is below {fmt_seconds(lim.min_duration)}{_for(lim)}; "
            "fix it with --extend (or use a longer clip)",
        )
    elif d > lim.max_duration:
        yield duration.finding(
            f"duration {fmt_seconds(d)} is above {fmt_seconds(lim.max_duration)}{_for(lim)}; "
            "fix it with --trim (or cut the clip)",
        )


@REGISTRY.video_rule(
    "VID009",
    Severity.ERROR,
    "file size is inside the limit for the role",
    graph=(352, 2207026),
    fix="re-encoded at a lower bitrate",
    limits=("video.max_bytes",),
)
def file_size(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.bytes > lim.max_bytes:
        yield file_size.finding(
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


@REGISTRY.video_rule(
    "VID010",
    Severity.ERROR,
    f"video bitrate is at most {fmt_rate(_REELS.max_video_bitrate, 'Mbps')}",
    graph=(352, 2207026),
    fix="re-encoded with a capped bitrate",
    limits=("video.max_video_bitrate",),
)
def video_bitrate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = estimated_video_bitrate(f)
    if rate is not None and rate > lim.max_video_bitrate:
        how = "" if f.video_bitrate is not None else " (estimated from size and duration)"
        yield video_bitrate.finding(
            f"video bitrate {fmt_rate(rate, 'Mbps')}{how} is above "
            f"{fmt_rate(lim.max_video_bitrate, 'Mbps')}",
        )


@REGISTRY.video_rule(
    "VID011",
    Severity.ERROR,
    f"audio sample rate is at most {_khz} kHz",
    graph=(352, 2207026),
    fix=f"resampled to {_khz} kHz",
    limits=("video.min_audio_sample_rate", "video.max_audio_sample_rate"),
)
def sample_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = f.audio_sample_rate
    if f.has_audio and rate is not None and rate > lim.max_audio_sample_rate:
        yield sample_rate.finding(
            f"audio sample rate {fmt_number(rate / 1000)} kHz is above "
            f"{fmt_number(lim.max_audio_sample_rate / 1000)} kHz",
        )
    elif f.has_audio and rate is not None and rate < (lim.min_audio_sample_rate or 0):
        yield sample_rate.finding(
            f"audio sample rate {fmt_number(rate / 1000)} kHz is below "
            f"{fmt_number((lim.min_audio_sample_rate or 0) / 1000)} kHz{_for(lim)}",
        )


@REGISTRY.video_rule(
    "VID012",
    Severity.ERROR,
    f"audio has {_REELS.min_audio_channels} or {_REELS.max_audio_channels} channels",
    graph=(352, 2207026),
    fix="downmixed to stereo",
    limits=("video.min_audio_channels", "video.max_audio_channels"),
)
def channels(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    n = f.audio_channels
    if f.has_audio and n is not None and not lim.min_audio_channels <= n <= lim.max_audio_channels:
        lo, hi = lim.min_audio_channels, lim.max_audio_channels
        accepts = f"{lo} to {hi}" if lo != hi else f"{lo} only"
        named = {(1, 2): "mono or stereo", (2, 2): "stereo", (1, 1): "mono"}.get((lo, hi))
        yield channels.finding(
            f"audio has {n} channels; {lim.platform} accepts {accepts}"
            + (f" ({named})" if named else ""),
        )


@REGISTRY.video_rule(
    "VID013",
    Severity.ERROR,
    "video is progressive, not interlaced",
    graph=(352, 2207026),
    fix="deinterlaced (bwdif)",
)
def scan(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    # MediaInfo says Progressive, Interlaced, MBAFF, PAFF or Mixed; only progressive passes.
    if f.has_video and f.scan_type and f.scan_type.upper() != "PROGRESSIVE":
        yield scan.finding(f"scan type is {f.scan_type}; it must be progressive")


@REGISTRY.video_rule(
    "VID014",
    Severity.ERROR,
    f"pixels are {_REELS.chroma} chroma, {_REELS.max_bit_depth} bits",
    graph=(352, 2207026),
    fix="converted to yuv420p",
    limits=("video.chroma", "video.max_bit_depth"),
)
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
        yield pixels.finding(
            f"pixels are {', '.join(parts)}; they must be {lim.chroma}, {lim.max_bit_depth}-bit",
        )


@REGISTRY.video_rule(
    "VID015",
    Severity.WARNING,
    "frame rate is constant",
    fix="converted to a constant frame rate",
)
def variable_rate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_video and (f.frame_rate_mode or "").upper() == "VFR":
        yield variable_rate.finding(
            "frame rate mode is variable (VFR); it should be constant (CFR)"
        )


@REGISTRY.video_rule(
    "VID016",
    Severity.WARNING,
    "no edit list shifts or cuts the timeline",
    fix="re-timed without edit lists",
)
def edit_list(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_edit_list:
        yield edit_list.finding("an edit list shifts or cuts the timeline; there should be none")


@REGISTRY.video_rule(
    "VID017",
    Severity.INFO,
    "rotation metadata is present; the displayed size is what counts",
    fix="rotation baked into the pixels",
)
def rotation(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.rotation % 360:
        shown = f"; checks use the displayed size {_size(f)}" if f.display_width else ""
        yield rotation.finding(
            f"display matrix rotates the video by {f.rotation}° (should be 0°){shown}",
        )


@REGISTRY.video_rule(
    "VID020",
    Severity.INFO,
    f"audio bitrate is about {_kbps}",
    fix=f"audio re-encoded at {_kbps}",
    limits=(
        "video.recommended_audio_bitrate",
        "video.min_audio_bitrate",
        "video.max_audio_bitrate",
    ),
)
def audio_bitrate(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    rate = f.audio_bitrate
    if not f.has_audio or rate is None:
        return
    if rate < lim.min_audio_bitrate or rate > lim.max_audio_bitrate:
        yield audio_bitrate.finding(
            f"audio bitrate {fmt_rate(rate, 'kbps')} is far from the recommended "
            f"{fmt_rate(lim.recommended_audio_bitrate, 'kbps')} (outside "
            f"{fmt_number(lim.min_audio_bitrate / 1000)}..{fmt_rate(lim.max_audio_bitrate, 'kbps')})",
        )

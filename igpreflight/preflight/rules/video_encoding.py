"""Video rules on how the streams are encoded (VID009-VID017, VID020): file size and
bitrates, audio sample rate and channels, scan, pixel format, frame timing and
rotation metadata. Most are what `fix` re-encodes or re-times.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import VideoLimits
from igpreflight.model import Finding, Severity, VideoFacts
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import fmt_int, fmt_number, fmt_rate
from igpreflight.preflight.rules.video import _REELS, _for, _size

# The numbers in rule summaries (what `igpreflight rules` lists): a Reel's limits.
_khz = fmt_number(_REELS.max_audio_sample_rate / 1000)
_kbps = fmt_rate(_REELS.recommended_audio_bitrate, "kbps")


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
    fix="made stereo (downmixed; mono upmixed where a profile wants stereo)",
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
    f"pixels are {_REELS.chroma} chroma, {_REELS.max_bit_depth} bits, SDR (not PQ or HLG)",
    graph=(352, 2207026),
    fix="converted to yuv420p (HDR tone-mapped to SDR BT.709)",
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
    if f.hdr:  # 8-bit too: Instagram shows HDR only from 10-bit, so it would play washed out
        parts.append(f"HDR ({f.transfer} transfer)")
    if parts:
        yield pixels.finding(
            f"pixels are {', '.join(parts)}; they must be {lim.chroma}, "
            f"{lim.max_bit_depth}-bit SDR",
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
    shown = f"; checks use the displayed size {_size(f)}" if f.display_width else ""
    if f.mirrored:  # its angle is MediaInfo's reading of a mirror: no rotation to name
        turns = " and turns" if f.rotation % 180 else ""
        yield rotation.finding(f"display matrix mirrors{turns} the video (should not){shown}")
    elif f.rotation % 360:
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

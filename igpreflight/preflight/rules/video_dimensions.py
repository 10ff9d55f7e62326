"""Video rules on the video's dimensions in space and time (VID005-VID008, VID019,
VID021): frame rate, displayed size, aspect ratio and duration, each against the
range the role allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from igpreflight.limits import VideoLimits
from igpreflight.model import Finding, Severity, VideoFacts
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import (
    allowed_aspect,
    aspects_label,
    exact,
    fmt_number,
    fmt_ratio,
    fmt_seconds,
    ratio_label,
    ratio_name,
    relative_gap,
)
from igpreflight.preflight.rules.video import _REELS, _for, _size

# The numbers in rule summaries (what `igpreflight rules` lists): a Reel's limits.
_nine_sixteen = ratio_name(_REELS.recommended_aspect or 0)


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
    todo="fix --trim cuts a video too long; fix --extend holds the last frame of one too short",
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

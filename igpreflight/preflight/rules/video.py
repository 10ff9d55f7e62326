"""Video rules: the container, its tracks and codecs (VID001-VID004, VID018, VID022), and
what every video rule's messages share (role names, displayed size).

The video family's other rules live next to it: `video_dimensions.py` (frame rate,
displayed size, aspect ratio, duration) and `video_encoding.py` (file size,
bitrates, audio format, scan, pixels, timing and rotation metadata).

Video rules are pure functions of VideoFacts and the role's VideoLimits.
A value the probe could not read (None) is never judged: a rule only speaks
about what was measured. Sizes and ratios are the DISPLAYED ones (rotation and
sample aspect ratio applied). Frame rates and durations are compared after
rounding to 3 decimals, the precision MediaInfo reports, so 60.000 passes.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import VIDEO_LIMITS, VideoLimits
from igpreflight.model import Finding, Role, Severity, VideoFacts
from igpreflight.preflight.rules import REGISTRY

# What people call MediaInfo's codec names, for messages.
CODEC_NAMES = {"AVC": "H.264 (AVC)", "HEVC": "HEVC (H.265)"}

ROLE_NAMES = {
    Role.REELS: "a Reel",
    Role.STORY_VIDEO: "a story video",
    Role.CAROUSEL_VIDEO: "a carousel video",
}


# The numbers in rule summaries (what `igpreflight rules` lists): a Reel's limits.
_REELS = VIDEO_LIMITS[Role.REELS]


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
    fix="transcoded to H.264 (--keep-hevc: kept, an hev1 sample entry remuxed as hvc1)",
    limits=("video.warned_video_codecs",),
)
def hevc(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    if f.has_video and _in(f.video_codec, lim.warned_video_codecs):
        yield hevc.finding(
            f"video codec {_codec(f.video_codec or '')} is accepted, but "
            f"{_codec(lim.video_codecs[0])} is the safest" + _hev1(f),
        )


def _hev1(f: VideoFacts) -> str:
    """Why an hev1 sample entry matters: Apple's players (and Apple's HLS rules) want
    the parameter sets in the sample entry, as hvc1 promises; hev1 may keep them in-band."""
    if f.video_entry != "hev1":
        return ""
    if f.inband_parameter_sets:
        return (
            "; its sample entry is hev1 with parameter sets only in-band, which Apple's "
            "players refuse (only re-encoding fixes it)"
        )
    return "; its sample entry is hev1, which Apple's players refuse (hvc1 plays)"


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


def _tracks(n: int, kind: str) -> str:
    return f"{n} {kind} track{'s' if n != 1 else ''}"


@REGISTRY.video_rule(
    "VID022",
    Severity.WARNING,
    "one video track and at most one audio track",
    todo="keep only the tracks you want (ffmpeg -i in.mov -map 0:v:0 -map 0:a:1 -c copy "
    "out.mov keeps the second audio track); fix keeps the first of each, but only when "
    "it rewrites the file for another reason",
    limits=("video.max_video_tracks", "video.max_audio_tracks"),
)
def tracks(f: VideoFacts, lim: VideoLimits) -> Iterator[Finding]:
    # A second audio track (a commentary, a dub, a second mic) is likely never heard:
    # Instagram plays one, Meta does not say which; the other rules judge the first.
    videos, audios = f.video_tracks or 0, f.audio_tracks or 0
    if videos <= lim.max_video_tracks and audios <= lim.max_audio_tracks:
        return
    what = []
    if audios > lim.max_audio_tracks:
        what.append("plays one audio track (Meta does not say which)")
    if videos > lim.max_video_tracks:
        what.append("shows one video track")
    yield tracks.finding(
        f"{_tracks(videos, 'video')} and {_tracks(audios, 'audio')}; {lim.platform} "
        f"{' and '.join(what)}; fix keeps the first of each when it rewrites the file",
    )

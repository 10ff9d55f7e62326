"""The values that flow through igpreflight: facts, findings, posts and reports.

Everything here is a frozen record (a dataclass, see `records.py`) or an enum so
that a probe's facts cannot be changed by a rule and a finding means the same thing
wherever it travels.
"""

from __future__ import annotations

from dataclasses import field
from enum import Enum
from typing import Any

from igpreflight.envelope import envelope
from igpreflight.records import record


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Kind(str, Enum):
    """What a file is, decided by its content, never by its extension."""

    IMAGE = "image"
    VIDEO = "video"
    UNKNOWN = "unknown"


class Role(str, Enum):
    """Where a media file will be used; each role has its own limits."""

    FEED_IMAGE = "feed_image"
    CAROUSEL_IMAGE = "carousel_image"
    STORY_IMAGE = "story_image"
    COVER = "cover"
    REELS = "reels"
    STORY_VIDEO = "story_video"
    CAROUSEL_VIDEO = "carousel_video"

    @property
    def is_image(self) -> bool:
        return self in (Role.FEED_IMAGE, Role.CAROUSEL_IMAGE, Role.STORY_IMAGE, Role.COVER)


class AsOption(str, Enum):
    """The user's `--as` choice; combined with a file's kind it gives a Role."""

    AUTO = "auto"
    FEED = "feed"
    REELS = "reels"
    STORY = "story"
    CAROUSEL_ITEM = "carousel-item"


def role_for(kind: Kind, as_: AsOption | str) -> Role | None:
    """Map a file kind and an `--as` value to the role whose limits apply.

    `feed` on a video and `reels` on an image both mean "a single post of this
    file": a lone video is a Reel, a lone image a feed image.
    """
    as_ = AsOption(as_)
    if kind is Kind.IMAGE:
        return {
            AsOption.STORY: Role.STORY_IMAGE,
            AsOption.CAROUSEL_ITEM: Role.CAROUSEL_IMAGE,
        }.get(as_, Role.FEED_IMAGE)
    if kind is Kind.VIDEO:
        return {
            AsOption.STORY: Role.STORY_VIDEO,
            AsOption.CAROUSEL_ITEM: Role.CAROUSEL_VIDEO,
        }.get(as_, Role.REELS)
    return None


ROLE_LABEL: dict[Role, str] = {
    Role.FEED_IMAGE: "feed",
    Role.CAROUSEL_IMAGE: "carousel-item",
    Role.STORY_IMAGE: "story",
    Role.COVER: "cover",
    Role.REELS: "reels",
    Role.STORY_VIDEO: "story",
    Role.CAROUSEL_VIDEO: "carousel-item",
}


@record
class ImageFacts:
    """What the header of an image says. Probing never decodes pixels.

    width/height are as STORED; display_width/display_height apply the EXIF
    orientation (5-8 swap the axes), which is what Instagram measures.
    """

    path: str
    bytes: int
    format: str  # Pillow format name: JPEG, PNG, WEBP, HEIF, AVIF, GIF, TIFF, BMP, MPO, ...
    width: int
    height: int
    mode: str  # Pillow mode: RGB, RGBA, L, LA, P, CMYK, I;16, 1, ...
    bits: int  # bits per channel (8 or 16 usually)
    orientation: int = 1  # EXIF orientation 1..8 (1 when absent)
    frames: int = 1
    has_alpha: bool = False  # an alpha channel or a transparency key (tRNS)
    icc_name: str | None = None  # ICC profile description, None when no profile
    icc_is_srgb: bool | None = None  # None when there is no profile
    colorspace: str = "RGB"  # RGB, GRAY, CMYK, YCCK: what the pixels mean
    progressive: bool = False
    extension: str = ""  # lower-case, without the dot
    kind: Kind = Kind.IMAGE
    exif_error: str | None = None  # why a JPEG's EXIF block is corrupt (None: fine or absent)

    @property
    def display_width(self) -> int:
        return self.height if self.orientation in (5, 6, 7, 8) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.orientation in (5, 6, 7, 8) else self.height

    @property
    def aspect(self) -> float:
        return self.display_width / self.display_height if self.display_height else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "width": self.display_width,
            "height": self.display_height,
            "bytes": self.bytes,
            "mode": self.mode,
            "bits": self.bits,
            "orientation": self.orientation,
            "frames": self.frames,
            "alpha": self.has_alpha,
            "icc": self.icc_name,
        }


@record
class VideoFacts:
    """What MediaInfo says of a video file, read from its headers.

    Units: seconds, bits per second, hertz, degrees. None means "not known",
    never zero. width/height are the coded size; display_width/display_height
    apply the display-matrix rotation (90/270 swap) and the sample aspect ratio.
    """

    path: str
    bytes: int
    container: str  # MediaInfo General/Format: MPEG-4, QuickTime, Matroska, WebM, AVI, ...
    is_streamable: bool | None  # moov before mdat (faststart); None when not ISO-BMFF
    duration: float | None  # seconds
    has_video: bool
    has_audio: bool
    video_codec: str | None = None  # MediaInfo Format: AVC, HEVC, VP9, AV1, MPEG-4 Visual, ...
    video_profile: str | None = None  # e.g. "High@L4"
    width: int | None = None
    height: int | None = None
    rotation: int = 0  # display-matrix rotation, normalised to 0/90/180/270
    sar: float = 1.0  # pixel (sample) aspect ratio
    fps: float | None = None
    frame_rate_mode: str | None = None  # CFR or VFR
    scan_type: str | None = None  # Progressive, Interlaced, MBAFF
    chroma: str | None = None  # "4:2:0", "4:2:2", "4:4:4"
    bit_depth: int | None = None
    video_bitrate: int | None = None  # bits per second
    has_edit_list: bool = False  # an edit list that changes timing (not a plain 1:1 one)
    audio_codec: str | None = None  # MediaInfo Format: AAC, Opus, AC-3, MPEG Audio, PCM, ...
    audio_profile: str | None = None  # e.g. "LC"
    audio_sample_rate: int | None = None  # Hz
    audio_channels: int | None = None
    audio_bitrate: int | None = None  # bits per second
    extension: str = ""
    kind: Kind = Kind.VIDEO
    # MediaInfo transfer_characteristics: BT.709, PQ, HLG, ...; PQ and HLG are HDR,
    # which the video fixer tone-maps when it encodes to 8-bit H.264.
    transfer: str | None = None
    # How many video and audio streams the file holds (MediaInfo's General VideoCount
    # and AudioCount; timecode and metadata tracks are neither). The other facts
    # describe the first of each: what Instagram plays and what `fix` keeps. None:
    # not counted (facts made by hand, or before the counts existed).
    video_tracks: int | None = None
    audio_tracks: int | None = None

    @property
    def display_width(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        w = round(self.width * self.sar)
        return self.height if self.rotation in (90, 270) else w

    @property
    def display_height(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        w = round(self.width * self.sar)
        return w if self.rotation in (90, 270) else self.height

    @property
    def aspect(self) -> float | None:
        dw, dh = self.display_width, self.display_height
        return dw / dh if dw and dh else None

    def summary(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "video_codec": self.video_codec,
            "width": self.display_width,
            "height": self.display_height,
            "rotation": self.rotation,
            "fps": self.fps,
            "duration": self.duration,
            "bytes": self.bytes,
            "video_bitrate": self.video_bitrate,
            "audio_codec": self.audio_codec,
            "audio_sample_rate": self.audio_sample_rate,
            "audio_channels": self.audio_channels,
            "video_tracks": self.video_tracks,
            "audio_tracks": self.audio_tracks,
        }


@record
class Unreadable:
    """A file that could not be probed; it becomes one FILE001 finding, or FILE002
    when the storage refused to read it (`refused`: the file may be fine)."""

    path: str
    reason: str
    bytes: int = 0
    kind: Kind = Kind.UNKNOWN
    refused: bool = False

    def summary(self) -> dict[str, Any]:
        return {"bytes": self.bytes}


Facts = ImageFacts | VideoFacts | Unreadable


@record
class Finding:
    """One broken (or noteworthy) limit: a rule code, how bad, and why, in one line."""

    rule: str
    severity: Severity
    message: str
    code: int | None = None
    subcode: int | None = None
    fixable: bool = False
    # The profile(s) whose limit failed, comma-separated ("threads", "instagram,threads");
    # None when the run checks Instagram alone (the default), as before profiles existed.
    profile: str | None = None

    @property
    def tagged_message(self) -> str:
        """The message with its profile in front: '[threads] aspect ratio ...'."""
        return f"[{self.profile}] {self.message}" if self.profile else self.message

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "fixable": self.fixable,
        }
        if self.profile is not None:  # report version 1, an optional field
            data["profile"] = self.profile
        return data


@record
class Tag:
    """A user tag (username) or product tag (product_id), with optional x/y."""

    username: str | None = None
    product_id: str | None = None
    x: float | None = None
    y: float | None = None


@record
class MediaItem:
    """One media of a post: a local path (resolved) or a URL, with its tags."""

    path: str  # as written in the manifest, or the file path given on the command line
    resolved: str  # absolute local path (a temporary download for URLs)
    url: str | None = None
    media_type: str | None = None  # for carousel children: IMAGE, VIDEO, REELS, STORIES, CAROUSEL
    user_tags: tuple[Tag, ...] = ()
    product_tags: tuple[Tag, ...] = ()
    alt_text: str | None = None
    caption: str | None = None  # a caption given on a carousel child (ignored by Instagram)
    problem: str | None = None  # why the path cannot be used (escapes the manifest, missing)
    # The path as the user would type it from where igpreflight runs (the manifest's
    # folder joined with `path`), for reports and CI annotations; "" means `path`.
    display: str = ""

    @property
    def label(self) -> str:
        return self.display or self.path

    @property
    def key(self) -> str:
        """What identifies this media in a batch: its local path, or its URL."""
        return self.resolved or self.url or ""


@record
class Post:
    """One Instagram post as the manifest (or a lone file) describes it."""

    id: str
    media_type: str  # IMAGE, REELS, STORIES, CAROUSEL (VIDEO accepted to be reported)
    media: tuple[MediaItem, ...]
    caption: str | None = None
    thumb_offset: int | None = None  # milliseconds
    cover: MediaItem | None = None
    share_to_feed: bool | None = None
    collaborators: tuple[str, ...] = ()
    alt_text: str | None = None
    location_id: str | None = None
    user_tags: tuple[Tag, ...] = ()  # post-level tags (single-media posts)
    product_tags: tuple[Tag, ...] = ()
    media_type_given: bool = True  # False when inferred
    source: str = ""  # the manifest this post came from, as given ("" for a lone file or stdin)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@record(frozen=False)
class FileReport:
    """The findings for one file in one role."""

    path: str
    kind: Kind
    role: Role | None
    facts: Facts
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "as": ROLE_LABEL[self.role] if self.role else None,
            "facts": self.facts.summary(),
            "findings": [f.to_dict() for f in self.findings],
        }


@record(frozen=False)
class PostReport:
    """One post's findings (the post itself, then its media's)."""

    post: Post
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.post.id,
            "media_type": self.post.media_type,
            "media": [m.label for m in self.post.media],
            "findings": [f.to_dict() for f in self.findings],
        }


@record(frozen=False)
class Report:
    """The result of `check`: one FileReport per (file, role) and one PostReport per post."""

    files: list[FileReport] = field(default_factory=list)
    posts: list[PostReport] = field(default_factory=list)
    ignored: int = 0  # findings of rules the configuration turned off (reported nowhere)
    # The profiles files and posts were checked against (igpreflight.profiles.Profile),
    # when any is not instagram alone (SPEC 12); () for today's instagram-only checks.
    profiles: tuple[Any, ...] = ()

    def _all(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings] + [
            f for p in self.posts for f in p.findings
        ]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self._all() if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self._all() if f.severity is Severity.WARNING]

    @property
    def fixable(self) -> list[Finding]:
        """Errors and warnings that `igpreflight fix` resolves."""
        return [f for f in self._all() if f.fixable and f.severity is not Severity.INFO]

    def to_dict(self) -> dict[str, Any]:
        return envelope(
            summary={
                "files": len({r.path for r in self.files}),
                "posts": len(self.posts),
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "fixable": len(self.fixable),
                "ignored": self.ignored,
            },
            files=[r.to_dict() for r in self.files],
            posts=[p.to_dict() for p in self.posts],
        )

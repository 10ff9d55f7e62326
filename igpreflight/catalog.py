"""One source of truth for what every rule code and every Graph error means.

`igpreflight rules` and `explain`, the report's help text and the publisher's
retry decisions all read this module, so a subcode cannot mean one thing to the
checker and another to the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from igpreflight.model import Finding, Severity

E, W, NOTE = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class RuleInfo:
    code: str
    severity: Severity
    summary: str  # one line: what the rule checks
    graph_code: int | None = None
    graph_subcode: int | None = None
    fixable: bool = False
    fix_hint: str = ""  # what `igpreflight fix` does about it, or what the user must do


def _r(code, sev, summary, gcode=None, sub=None, fixable=False, hint=""):
    return RuleInfo(code, sev, summary, gcode, sub, fixable, hint)


_RULES: list[RuleInfo] = [
    # Images
    _r(
        "IMG001",
        E,
        "image file is at most 8,000,000 bytes",
        36000,
        2207004,
        True,
        "re-encoded at the highest JPEG quality that fits",
    ),
    _r("IMG002", E, "image format is JPEG (or PNG)", 36001, 2207005, True, "converted to JPEG"),
    _r(
        "IMG003",
        E,
        "displayed aspect ratio is between 4:5 and 1.91:1",
        36003,
        2207009,
        True,
        "centre-cropped (--aspect crop) or padded (--aspect pad)",
    ),
    _r(
        "IMG004",
        W,
        "width is at most 1440 px and the long edge at most 1920 px",
        None,
        None,
        True,
        "downscaled with Lanczos",
    ),
    _r(
        "IMG005",
        W,
        "width is at least 320 px (Instagram upscales smaller images)",
        None,
        None,
        False,
        "use a larger original",
    ),
    _r("IMG006", W, "colour is 8-bit sRGB", None, None, True, "converted to sRGB with ImageCms"),
    _r(
        "IMG007",
        W,
        "EXIF orientation is 1 (rotation baked into the pixels)",
        None,
        None,
        True,
        "orientation baked in, tag removed",
    ),
    _r(
        "IMG008",
        E,
        "image has a single frame (not animated)",
        None,
        2207005,
        True,
        "first frame kept",
    ),
    _r(
        "IMG009",
        W,
        "image has no alpha channel",
        None,
        None,
        True,
        "flattened onto --background (white)",
    ),
    _r(
        "IMG010",
        W,
        "file extension matches the content",
        None,
        2207052,
        True,
        "written with the right extension",
    ),
    _r(
        "IMG011",
        NOTE,
        "story image is 9:16 (other ratios are letterboxed)",
        None,
        None,
        False,
        "crop to 9:16 for a full-screen story",
    ),
    _r(
        "IMG012",
        W,
        "PNG is accepted in practice but only JPEG is documented",
        None,
        None,
        True,
        "converted to JPEG (unless --keep-png)",
    ),
    # Videos
    _r(
        "VID001", E, "container is MP4 or MOV", 352, 2207026, True, "remuxed (or transcoded) to MP4"
    ),
    _r("VID002", E, "video codec is H.264 or HEVC", 352, 2207026, True, "transcoded to H.264 High"),
    _r("VID003", E, "audio codec is AAC", 352, 2207026, True, "audio transcoded to AAC-LC"),
    _r(
        "VID004",
        W,
        "moov atom is at the front (faststart)",
        None,
        None,
        True,
        "remuxed with faststart",
    ),
    _r(
        "VID005",
        E,
        "frame rate is between 23 and 60 fps",
        352,
        2207026,
        True,
        "converted to a constant rate inside 23..60",
    ),
    _r("VID006", E, "displayed width is at most 1920 px", 352, 2207026, True, "downscaled"),
    _r(
        "VID007",
        E,
        "displayed aspect ratio is inside the range for the role",
        352,
        2207026,
        True,
        "cropped or padded into range",
    ),
    _r(
        "VID008",
        E,
        "duration is inside the range for the role",
        352,
        2207026,
        False,
        "use --trim or --extend",
    ),
    _r(
        "VID009",
        E,
        "file size is inside the limit for the role",
        352,
        2207026,
        True,
        "re-encoded at a lower bitrate",
    ),
    _r(
        "VID010",
        E,
        "video bitrate is at most 25 Mbps",
        352,
        2207026,
        True,
        "re-encoded with a capped bitrate",
    ),
    _r(
        "VID011",
        E,
        "audio sample rate is at most 48 kHz",
        352,
        2207026,
        True,
        "resampled to 48 kHz",
    ),
    _r("VID012", E, "audio has 1 or 2 channels", 352, 2207026, True, "downmixed to stereo"),
    _r(
        "VID013",
        E,
        "video is progressive, not interlaced",
        352,
        2207026,
        True,
        "deinterlaced (bwdif)",
    ),
    _r("VID014", E, "pixels are 4:2:0 chroma, 8 bits", 352, 2207026, True, "converted to yuv420p"),
    _r(
        "VID015",
        W,
        "frame rate is constant",
        None,
        None,
        True,
        "converted to a constant frame rate",
    ),
    _r(
        "VID016",
        W,
        "no edit list shifts or cuts the timeline",
        None,
        None,
        True,
        "re-timed without edit lists",
    ),
    _r(
        "VID017",
        NOTE,
        "rotation metadata is present; the displayed size is what counts",
        None,
        None,
        True,
        "rotation baked into the pixels",
    ),
    _r(
        "VID018",
        W,
        "HEVC is accepted, but H.264 is the safest codec",
        None,
        None,
        True,
        "transcoded to H.264 (unless --keep-hevc)",
    ),
    _r(
        "VID019",
        NOTE,
        "9:16 is the recommended ratio for Reels and Stories",
        None,
        None,
        False,
        "crop or pad to 9:16 for full screen",
    ),
    _r(
        "VID020",
        NOTE,
        "audio bitrate is about 128 kbps",
        None,
        None,
        True,
        "audio re-encoded at 128 kbps",
    ),
    # Posts
    _r(
        "POST001",
        E,
        "caption is at most 2200 characters",
        36004,
        2207010,
        False,
        "shorten the caption",
    ),
    _r("POST002", E, "caption has at most 30 hashtags", None, 2207010, False, "remove hashtags"),
    _r("POST003", E, "caption has at most 20 @mentions", 100, 2207040, False, "remove mentions"),
    _r(
        "POST004",
        W,
        "caption has at most 5 hashtags (announced cap; over 15 is a spam risk)",
        4,
        2207051,
        False,
        "use 5 hashtags or fewer",
    ),
    _r("POST005", E, "carousel has 2 to 10 items", 100, 2207028, False, "use 2 to 10 items"),
    _r(
        "POST006",
        E,
        "media_type is IMAGE, REELS, STORIES or CAROUSEL and matches the file",
        100,
        2207023,
        False,
        "set media_type to match the media",
    ),
    _r(
        "POST007",
        E,
        "thumb_offset is inside the video (0 <= ms < duration)",
        1,
        2207057,
        False,
        "choose an offset inside the video",
    ),
    _r(
        "POST008",
        E,
        "product tags on images have x/y in 0.0..1.0; videos have none",
        None,
        2207035,
        False,
        "fix the tag coordinates",
    ),
    _r(
        "POST009",
        E,
        "product tag ids are unique",
        None,
        2207036,
        False,
        "remove duplicate product ids",
    ),
    _r(
        "POST010",
        E,
        "user and product tag x/y are inside 0.0..1.0",
        None,
        2207037,
        False,
        "fix the tag coordinates",
    ),
    _r("POST011", E, "at most 5 product tags", None, 2207040, False, "remove product tags"),
    _r(
        "POST012",
        W,
        "a caption on a story or carousel child is ignored",
        None,
        None,
        False,
        "remove it (stories show no caption; a carousel's goes on the carousel itself)",
    ),
    _r(
        "POST013",
        E,
        "carousel items are images or videos (no Reels, Stories or nested carousels)",
        100,
        2207023,
        False,
        "use IMAGE or VIDEO items",
    ),
    _r(
        "POST014",
        W,
        "carousel items share the first item's aspect ratio (others are cropped)",
        None,
        None,
        False,
        "give every item the same ratio",
    ),
    _r(
        "POST015",
        W,
        "captions are not duplicated within a batch (spam risk)",
        None,
        2207051,
        False,
        "vary the captions",
    ),
    _r(
        "POST016",
        E,
        "user tags: x/y required on images, not allowed on carousel videos, at most 20",
        None,
        2207040,
        False,
        "fix the user tags",
    ),
    _r(
        "POST017",
        E,
        "alt_text is at most 1000 characters and only on images",
        None,
        None,
        False,
        "shorten the alt text",
    ),
    _r(
        "POST018",
        W,
        "thumb_offset is ignored when a cover is given",
        None,
        None,
        False,
        "give one of the two",
    ),
    _r("POST019", E, "at most 3 collaborators", None, None, False, "remove collaborators"),
    # URLs and quota (checked at upload and publish time)
    _r(
        "URL001",
        E,
        "media URL answers 200 to a plain GET, without login redirects",
        9004,
        2207052,
        False,
        "make the object public",
    ),
    _r(
        "URL002",
        E,
        "media URL's Content-Type matches the media",
        None,
        2207052,
        False,
        "set the Content-Type on upload",
    ),
    _r(
        "URL003",
        E,
        "media URL serves exactly the local file's bytes",
        None,
        2207052,
        False,
        "re-upload the file",
    ),
    _r(
        "URL004",
        W,
        "media URL serves the whole file well inside Instagram's fetch time-out",
        -2,
        2207003,
        False,
        "serve through a CDN",
    ),
    _r(
        "URL005",
        W,
        "media URL stays valid for the container's life (24 h)",
        None,
        2207020,
        False,
        "presign for at least 24 h",
    ),
    _r(
        "URL006",
        E,
        "media URL's host is public",
        None,
        2207052,
        False,
        "use a public host (or --allow-private for local tests)",
    ),
    _r(
        "QUOTA001",
        E,
        "the batch fits in the account's remaining publishing quota",
        9,
        2207042,
        False,
        "publish the rest after the 24 h window",
    ),
    # Unreadable input
    _r("FILE001", E, "file can be read and parsed as media", None, None, False, "replace the file"),
]

RULES: dict[str, RuleInfo] = {r.code: r for r in _RULES}


def finding(code: str, message: str, *, fixable: bool | None = None) -> Finding:
    """Build a Finding whose severity and Graph codes come from the catalog."""
    info = RULES[code]
    return Finding(
        rule=code,
        severity=info.severity,
        message=message,
        code=info.graph_code,
        subcode=info.graph_subcode,
        fixable=info.fixable if fixable is None else fixable,
    )


class ErrorClass(str, Enum):
    """What the publisher does about a Graph error (SPEC section 6)."""

    RETRY_SAME = "retry-same"
    RECREATE_CONTAINER = "recreate-container"
    WAIT_QUOTA = "wait-quota"
    FIX_MEDIA = "fix-media"
    RECONNECT_AUTH = "reconnect-auth"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class GraphErrorInfo:
    code: int | None
    subcode: int | None
    error_class: ErrorClass
    meaning: str
    advice: str
    rule: str | None = None  # the preflight rule that catches it before upload


RS, RC, WQ, FM, RA, PE = (
    ErrorClass.RETRY_SAME,
    ErrorClass.RECREATE_CONTAINER,
    ErrorClass.WAIT_QUOTA,
    ErrorClass.FIX_MEDIA,
    ErrorClass.RECONNECT_AUTH,
    ErrorClass.PERMANENT,
)


def _g(code, sub, cls, meaning, advice, rule=None):
    return GraphErrorInfo(code, sub, cls, meaning, advice, rule)


# Subcode-specific entries win over code-only ones (a 4/2207051 is spam, a bare 4 a rate limit).
_GRAPH: list[GraphErrorInfo] = [
    _g(1, None, RS, "unknown error (often transient)", "wait and retry the same call"),
    _g(2, None, RS, "service temporarily unavailable", "wait and retry the same call"),
    _g(
        9007,
        2207027,
        RS,
        "media is not ready for publishing",
        "wait for status FINISHED, then publish the same container",
    ),
    _g(
        24,
        2207008,
        RS,
        "media builder expired or not ready (temporary)",
        "retry once or twice within 2 minutes, then recreate the container",
    ),
    _g(
        -2,
        2207003,
        RS,
        "timeout while fetching the media",
        "retry; serve the file faster (CDN) if it repeats",
        "URL004",
    ),
    _g(-1, 2207001, RS, "server error while creating the container", "retry the same call"),
    _g(None, None, RS, "HTTP 5xx or a network error", "retry the same call with backoff"),
    _g(
        -2,
        2207020,
        RC,
        "the media container expired (older than 24 hours)",
        "create a new container",
        "URL005",
    ),
    _g(-1, 2207032, RC, "creating the media failed", "create a new container"),
    _g(-1, 2207053, RC, "unknown upload error", "create a new container"),
    _g(
        24,
        2207006,
        RC,
        "media not found (the container was lost)",
        "create a new container; reconnect the account if it repeats",
    ),
    _g(
        4,
        None,
        WQ,
        "application request limit reached",
        "wait for the usage headers to drop, then retry",
    ),
    _g(
        17, None, WQ, "user request limit reached", "wait for the usage headers to drop, then retry"
    ),
    _g(32, None, WQ, "page request limit reached", "wait, then retry"),
    _g(613, None, WQ, "calls to this API exceeded the rate limit", "wait, then retry"),
    _g(
        80002,
        None,
        WQ,
        "Instagram business use-case rate limit reached",
        "wait for X-Business-Use-Case-Usage to allow calls",
    ),
    _g(341, None, WQ, "application limit reached", "wait, then retry"),
    _g(
        9,
        2207042,
        WQ,
        "content publishing limit reached (50 posts per 24 hours)",
        "resume after the 24 hour window",
        "QUOTA001",
    ),
    _g(
        352,
        2207026,
        FM,
        "unsupported video format or specification",
        "run igpreflight fix on the video",
        "VID001",
    ),
    _g(
        36000,
        2207004,
        FM,
        "image is too large (over 8 MB)",
        "run igpreflight fix on the image",
        "IMG001",
    ),
    _g(
        36001,
        2207005,
        FM,
        "unsupported image format",
        "convert to JPEG with igpreflight fix",
        "IMG002",
    ),
    _g(
        36003,
        2207009,
        FM,
        "aspect ratio not supported",
        "crop or pad with igpreflight fix",
        "IMG003",
    ),
    _g(
        36004,
        2207010,
        FM,
        "caption too long or too many hashtags",
        "shorten the caption",
        "POST001",
    ),
    _g(
        1,
        2207057,
        FM,
        "thumb_offset is outside the video",
        "choose an offset inside the video",
        "POST007",
    ),
    _g(100, 2207028, FM, "carousel needs 2 to 10 items", "change the number of items", "POST005"),
    _g(
        None,
        2207035,
        FM,
        "product tag positions are not supported on videos",
        "remove x/y from video product tags",
        "POST008",
    ),
    _g(None, 2207036, FM, "duplicate product tags", "remove duplicate product ids", "POST009"),
    _g(None, 2207040, FM, "too many tags (users, products or mentions)", "remove tags", "POST011"),
    _g(100, 2207040, FM, "too many @mentions or user tags", "remove tags", "POST003"),
    _g(
        9004,
        2207052,
        FM,
        "Instagram could not fetch the media from its URL",
        "igpreflight checks the URL again; it retries twice if the URL now passes",
        "URL001",
    ),
    _g(
        190,
        None,
        RA,
        "access token invalid or expired",
        "reconnect the account and set a new IG_ACCESS_TOKEN",
    ),
    _g(190, 458, RA, "the app is not installed for this user", "reconnect the account"),
    _g(190, 459, RA, "the user is checkpointed", "log in on instagram.com, then reconnect"),
    _g(190, 460, RA, "the password changed", "reconnect the account"),
    _g(
        190,
        463,
        RA,
        "the access token expired",
        "reconnect the account and set a new IG_ACCESS_TOKEN",
    ),
    _g(190, 464, RA, "the user is not confirmed", "confirm the account, then reconnect"),
    _g(190, 467, RA, "the access token is invalid", "reconnect the account"),
    _g(190, 492, RA, "invalid session", "reconnect the account"),
    _g(10, None, RA, "permission denied", "grant instagram_content_publish and reconnect"),
    _g(200, None, RA, "permission error", "grant the missing permission and reconnect"),
    _g(
        4,
        2207051,
        PE,
        "action blocked as spam (restriction)",
        "stop; vary captions and post less often",
    ),
    _g(
        25,
        2207050,
        PE,
        "the account is restricted or inactive",
        "stop; resolve the restriction in the Instagram app",
    ),
    _g(100, 2207023, PE, "unknown or wrong media_type", "set a valid media_type", "POST006"),
    _g(100, 2207037, PE, "tag coordinates out of range", "fix the tag x/y", "POST010"),
    _g(
        368,
        None,
        PE,
        "temporarily blocked for policy violations",
        "stop; check the account's status",
    ),
]

_BY_PAIR: dict[tuple[int | None, int | None], GraphErrorInfo] = {
    (g.code, g.subcode): g for g in _GRAPH
}
_BY_SUBCODE: dict[int, GraphErrorInfo] = {}
for _info in _GRAPH:
    if _info.subcode is not None:
        _BY_SUBCODE.setdefault(_info.subcode, _info)

GRAPH_ERRORS: tuple[GraphErrorInfo, ...] = tuple(_GRAPH)


def lookup_graph_error(code: int | None, subcode: int | None = None) -> GraphErrorInfo | None:
    """Find what a Graph error means; a known subcode decides before its code."""
    if subcode is not None:
        if (code, subcode) in _BY_PAIR:
            return _BY_PAIR[(code, subcode)]
        if subcode in _BY_SUBCODE:
            return _BY_SUBCODE[subcode]
    if code is not None and 200 <= code <= 299:
        return _BY_PAIR[(200, None)]
    return _BY_PAIR.get((code, None))


def classify(
    code: int | None,
    subcode: int | None = None,
    *,
    is_transient: bool = False,
    http_status: int | None = None,
) -> ErrorClass:
    """The publisher's decision for a Graph error (SPEC section 6)."""
    info = lookup_graph_error(code, subcode)
    if info is not None and (subcode is not None or code is not None):
        return info.error_class
    if is_transient or (http_status is not None and http_status >= 500):
        return ErrorClass.RETRY_SAME
    if code is None and http_status is None:  # no answer at all: a network error
        return ErrorClass.RETRY_SAME
    if code is None and http_status == 429:  # Too Many Requests without a Graph body
        return ErrorClass.WAIT_QUOTA
    # A 4xx without a known Graph error (a proxy's 404, a wrong --graph-url or version)
    # will not heal by retrying.
    return ErrorClass.PERMANENT

"""Every limit of SPEC section 1, per media role, with where each value comes from.

The dataclasses are the schema of a profile (SPEC section 12) and their defaults,
with the role tables below, are the `instagram` profile: the only place a number
like 8,000,000 or 1.91 may appear for Instagram. The other built-in profiles are
data in `igpreflight.profiles.builtin`, on the same schema. Rules and fixers read
the limits of the active profile (`igpreflight.profiles`), never these module
constants; rule summaries (what `igpreflight rules` lists) name Instagram's. To
follow a change at Meta, edit a value here (and its source), bump
LIMITS_VERSION, and every check and fix follows.
"""

from __future__ import annotations

from igpreflight.model import Role
from igpreflight.records import record

LIMITS_VERSION = "2026-11"

META_PUBLISHING = "Meta, Instagram Platform: Content Publishing guide"
META_MEDIA_REF = "Meta, Instagram Platform: IG User Media reference (POST /{ig-user-id}/media)"
META_ERRORS = "Meta, Instagram Platform: error codes reference"
CONSERVATIVE = "undocumented for this role; igpreflight applies the stricter documented value"
PRACTICE = "accepted in practice by the API, not documented by Meta"


@record
class ImageLimits:
    """What Instagram accepts for an image in one role (the IMG rules read these)."""

    role: Role
    accepted_formats: tuple[str, ...] = ("JPEG",)
    tolerated_formats: tuple[str, ...] = ("PNG",)  # IMG012 warning, not IMG002
    max_bytes: int = 8_000_000
    min_aspect: float | None = 0.8  # width / height, inclusive; None: no aspect rule
    max_aspect: float | None = 1.91
    min_width: int = 320
    max_width: int = 1440
    max_long_edge: int = 1920
    max_bits: int = 8
    max_frames: int = 1
    recommended_aspect: float | None = None  # IMG011 (stories): 9:16
    recommended_aspect_tolerance: float = 0.01  # IMG011: relative; 1080x1918 still counts as 9:16
    max_alt_text: int = 1000
    # House rules: the only aspect ratios allowed (IMG003), each within aspect_tolerance
    # (relative); empty: any ratio inside min_aspect..max_aspect.
    aspects: tuple[float, ...] = ()
    aspect_tolerance: float = 0.01
    platform: str = "Instagram"  # who rescales, converts or refuses, in messages


@record
class ImageFixTargets:
    """What `fix` writes for an image (SPEC section 2): fixer policy, not Meta limits.

    The size, width and aspect targets are the role's ImageLimits; these are the
    encoder's knobs and the memory budget of a decode.
    """

    max_quality: int = 92  # SPEC 2: the highest JPEG quality tried
    min_quality: int = 30  # below this the image is not worth publishing; report instead
    max_encodes: int = 8  # 92 first, then bisection over min..91 (6 more at most)
    # JPEG draft mode (DCT scaling 1/2, 1/4, 1/8) is used when shrinking by at least 2x.
    draft_min_factor: float = 2.0
    # Formats without draft mode are decoded whole: 200 MP (a phone's largest HEIC)
    # is 600 MB as RGB. Larger decodes are refused as unfixable, not attempted.
    max_decode_pixels: int = 250_000_000
    # A centre crop keeping less of the picture than this is refused (a 1x10000 strip
    # cropped to 4:5 is one pixel): --aspect pad keeps it whole. A 10:1 panorama
    # cropped to 1.91:1 keeps 19%.
    min_crop_share: float = 0.01
    # The memory budget of one image decode and its pixel work (`fix --max-memory`).
    # Peak bytes per decoded pixel, measured as peak RSS over pixels fixing 24 MP
    # and 144 MP files (Pillow 11): WebP decodes through an RGBA buffer and copies
    # it twice. JPEG draft mode divides the pixels; other formats decode whole.
    max_memory: int = 1 << 30  # bytes
    decode_bytes_per_pixel: tuple[tuple[str, int], ...] = (
        ("WEBP", 16),
        ("TIFF", 9),
        ("HEIF", 8),
        ("AVIF", 8),
        ("PNG", 6),
        ("JPEG", 6),
        ("MPO", 6),
        ("GIF", 6),
        ("BMP", 6),
    )
    other_bytes_per_pixel: int = 9


IMAGE_FIX = ImageFixTargets()


@record
class VideoLimits:
    """What Instagram accepts for a video in one role (the VID rules read these)."""

    role: Role
    containers: tuple[str, ...] = ("MPEG-4", "QuickTime")
    video_codecs: tuple[str, ...] = ("AVC", "HEVC")
    warned_video_codecs: tuple[str, ...] = ("HEVC",)  # VID018
    audio_codecs: tuple[str, ...] = ("AAC",)
    min_fps: float = 23.0
    max_fps: float = 60.0
    max_width: int = 1920
    min_aspect: float = 0.01
    max_aspect: float = 10.0
    recommended_aspect: float | None = 9 / 16  # VID019
    recommended_aspect_tolerance: float = 0.01  # VID019: relative
    min_duration: float = 3.0
    max_duration: float = 15 * 60.0
    max_bytes: int = 300_000_000
    max_video_bitrate: int = 25_000_000
    max_audio_sample_rate: int = 48_000
    min_audio_channels: int = 1
    max_audio_channels: int = 2
    chroma: str = "4:2:0"
    max_bit_depth: int = 8
    recommended_audio_bitrate: int = 128_000  # VID020
    # VID020 notes an audio bitrate outside this band as "far from" the recommendation:
    # a halving or doubling of 128 kbps is a deliberate choice, not a slip.
    min_audio_bitrate: int = 64_000
    max_audio_bitrate: int = 256_000
    keyframe_interval: float = 2.0  # seconds; enforced by the fixer (closed GOP)
    # House rules: the only aspect ratios allowed (VID007), as for images.
    aspects: tuple[float, ...] = ()
    aspect_tolerance: float = 0.01
    # The smallest displayed frame (VID021): the short and the long edge, in pixels.
    # None: no minimum (Instagram documents none; Facebook Reels asks for 540x960).
    min_short_edge: int | None = None
    min_long_edge: int | None = None
    min_audio_sample_rate: int | None = None  # VID011: None, any rate up to the maximum
    # VID022: streams of each kind past these are not all seen or heard (Instagram plays
    # one audio track; Meta does not say which) and `fix` drops them when it rewrites.
    max_video_tracks: int = 1
    max_audio_tracks: int = 1
    platform: str = "Instagram"


@record
class PostLimits:
    """What Instagram accepts for a post's caption, tags and items (the POST rules)."""

    max_caption: int = 2200  # Unicode code points
    max_hashtags: int = 30
    hashtag_cap_announced: int = 5  # POST004: Instagram announced a 5-hashtag cap
    hashtag_spam_risk: int = 15
    max_mentions: int = 20
    min_carousel_items: int = 2
    max_carousel_items: int = 10
    carousel_aspect_tolerance: float = 0.01  # POST014: relative difference to the first item
    max_product_tags: int = 5
    max_user_tags: int = 20
    max_collaborators: int = 3
    # POST023: unique links in a caption; None: no limit (Instagram links none of them).
    max_links: int | None = None
    default_quota_per_24h: int = 50
    quota_window_seconds: int = 24 * 3600  # content_publishing_limit's moving window
    container_lifetime_seconds: int = 24 * 3600  # an unpublished container EXPIRES after this
    min_presign_seconds: int = 24 * 3600  # URL005
    max_fetch_seconds: float = 30.0  # URL004
    # POST001: emoji count as their UTF-8 bytes (Threads), not as one character.
    emoji_as_utf8_bytes: bool = False
    # POST004's reason, with {platform} and {cap}: what the cap of hashtags means there.
    hashtag_cap_reason: str = "{platform} announced a cap of {cap}"
    # House rules (POST022): hashtags every caption carries, and ones it never does.
    required_hashtags: tuple[str, ...] = ()
    forbidden_hashtags: tuple[str, ...] = ()
    platform: str = "Instagram"


# Recommended (and only documented) story aspect ratio.
STORY_ASPECT = 9 / 16

IMAGE_LIMITS: dict[Role, ImageLimits] = {
    Role.FEED_IMAGE: ImageLimits(Role.FEED_IMAGE),
    Role.CAROUSEL_IMAGE: ImageLimits(Role.CAROUSEL_IMAGE),
    Role.STORY_IMAGE: ImageLimits(
        Role.STORY_IMAGE, min_aspect=None, max_aspect=None, recommended_aspect=STORY_ASPECT
    ),
    # A cover is checked like an image except for the aspect rule; 9:16 is recommended.
    Role.COVER: ImageLimits(Role.COVER, min_aspect=None, max_aspect=None),
}

VIDEO_LIMITS: dict[Role, VideoLimits] = {
    Role.REELS: VideoLimits(Role.REELS),
    Role.STORY_VIDEO: VideoLimits(
        Role.STORY_VIDEO, min_aspect=0.1, max_aspect=10.0, max_duration=60.0, max_bytes=100_000_000
    ),
    Role.CAROUSEL_VIDEO: VideoLimits(
        Role.CAROUSEL_VIDEO,
        min_aspect=0.8,
        max_aspect=1.91,
        recommended_aspect=None,
        max_duration=60.0,
        max_bytes=100_000_000,
    ),
}

POST_LIMITS = PostLimits()


@record
class Source:
    """Where one value of a profile comes from: what the page says, its address and
    when it was read. `status`: "official" (the platform's own documentation),
    "unverified" (only a third-party page states it) or "policy" (the platform says
    nothing; igpreflight's own, conservative choice, explained in `text`)."""

    text: str
    url: str = ""
    read: str = ""  # when the page was read: YYYY-MM or YYYY-MM-DD
    status: str = "official"


SOURCE_STATUSES = ("official", "unverified", "policy")

# Fields that share one source, by section: a source keyed by the group covers them
# all ("video.fps" for min_fps and max_fps). A key is "section[.role].field-or-group".
FIELD_GROUPS: dict[str, dict[str, str]] = {
    "image": {
        "min_aspect": "aspect",
        "max_aspect": "aspect",
        "min_width": "width",
        "max_width": "width",
        "recommended_aspect": "recommended_aspect",
        "recommended_aspect_tolerance": "recommended_aspect",
    },
    "video": {
        "min_fps": "fps",
        "max_fps": "fps",
        "min_aspect": "aspect",
        "max_aspect": "aspect",
        "recommended_aspect": "aspect",
        "recommended_aspect_tolerance": "aspect",
        "min_duration": "duration",
        "max_duration": "duration",
        "video_codecs": "video_codecs",
        "warned_video_codecs": "video_codecs",
        "min_audio_sample_rate": "audio",
        "max_audio_sample_rate": "audio",
        "min_audio_channels": "audio",
        "max_audio_channels": "audio",
        "recommended_audio_bitrate": "audio",
        "min_audio_bitrate": "audio",
        "max_audio_bitrate": "audio",
        "chroma": "pixels",
        "max_bit_depth": "pixels",
        "keyframe_interval": "pixels",
        "min_short_edge": "resolution",
        "min_long_edge": "resolution",
        "max_video_tracks": "tracks",
        "max_audio_tracks": "tracks",
    },
    "post": {
        "max_caption": "caption",
        "emoji_as_utf8_bytes": "caption",
        "max_hashtags": "caption",
        "max_mentions": "caption",
        "hashtag_cap_announced": "hashtag_advice",
        "hashtag_spam_risk": "hashtag_advice",
        "hashtag_cap_reason": "hashtag_advice",
        "min_carousel_items": "carousel",
        "max_carousel_items": "carousel",
        "carousel_aspect_tolerance": "carousel",
        "max_product_tags": "tags",
        "max_user_tags": "tags",
        "required_hashtags": "hashtags",
        "forbidden_hashtags": "hashtags",
    },
}

META_MEDIA_URL = "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media"
META_PUBLISHING_URL = "https://developers.facebook.com/docs/instagram-platform/content-publishing"
READ = LIMITS_VERSION  # when this table was last checked against Meta's pages


def _meta(text: str, url: str = META_MEDIA_URL) -> Source:
    return Source(text, url, READ)


_CONSERVATIVE = Source(CONSERVATIVE, META_MEDIA_URL, READ, "policy")

# Where each value of the instagram profile comes from (see FIELD_GROUPS for keys).
SOURCES: dict[str, Source] = {
    "image.accepted_formats": _meta(f"{META_MEDIA_REF}: image_url must be a JPEG"),
    "image.tolerated_formats": Source(PRACTICE, META_MEDIA_URL, READ, "policy"),
    "image.max_bytes": _meta(
        f"{META_MEDIA_REF}: 8 MB; the error text says 8 MiB, so 8,000,000 bytes is checked"
    ),
    "image.aspect": _meta(f"{META_MEDIA_REF}: aspect ratio 4:5 to 1.91:1"),
    "image.story.aspect": _meta(f"{META_MEDIA_REF}: stories take any ratio, 9:16 recommended"),
    "image.cover.aspect": _meta(f"{META_MEDIA_REF}: Reels cover photo, 9:16 recommended"),
    "image.recommended_aspect": _meta(f"{META_MEDIA_REF}: 9:16 recommended for stories"),
    "image.width": _meta(f"{META_MEDIA_REF}: width 320 to 1440 (rescaled outside)"),
    "image.max_long_edge": Source(
        "slow fetches of large images risk 2207003 (time-out)", META_MEDIA_URL, READ, "policy"
    ),
    "image.max_bits": _meta(f"{META_MEDIA_REF}: sRGB color space"),
    "image.max_frames": _meta(f"{META_MEDIA_REF}: image_url must be a JPEG (one picture)"),
    "image.max_alt_text": _meta(f"{META_MEDIA_REF}: alt_text, images only"),
    "video.containers": _meta(f"{META_MEDIA_REF}: Reels specifications, container MOV or MP4"),
    "video.video_codecs": _meta(f"{META_MEDIA_REF}: video codec HEVC or H264"),
    "video.audio_codecs": _meta(f"{META_MEDIA_REF}: audio codec AAC"),
    "video.fps": _meta(f"{META_MEDIA_REF}: frame rate 23-60 FPS"),
    "video.max_width": _meta(f"{META_MEDIA_REF}: maximum 1920 columns"),
    "video.resolution": _meta(f"{META_MEDIA_REF}: no minimum resolution documented"),
    "video.reels.aspect": _meta(f"{META_MEDIA_REF}: Reels aspect 0.01:1 to 10:1, 9:16 recommended"),
    "video.story.aspect": _meta(f"{META_MEDIA_REF}: Stories aspect 0.1:1 to 10:1"),
    "video.carousel-item.aspect": _CONSERVATIVE,
    "video.reels.duration": _meta(f"{META_MEDIA_REF}: Reels 3 s to 15 min"),
    "video.story.duration": _meta(f"{META_MEDIA_REF}: Stories 3 s to 60 s"),
    "video.carousel-item.duration": _CONSERVATIVE,
    "video.reels.max_bytes": _meta(f"{META_MEDIA_REF}: 300 MB (older documentation: 1 GB)"),
    "video.story.max_bytes": _meta(f"{META_MEDIA_REF}: 100 MB"),
    "video.carousel-item.max_bytes": _CONSERVATIVE,
    "video.max_video_bitrate": _meta(f"{META_MEDIA_REF}: video bitrate VBR, 25 Mbps maximum"),
    "video.audio": _meta(
        f"{META_MEDIA_REF}: 48 kHz maximum sample rate, 1 or 2 channels, 128 kbps"
    ),
    "video.pixels": _meta(f"{META_MEDIA_REF}: progressive scan, closed GOP, chroma 4:2:0"),
    "video.tracks": Source(
        "not documented; Instagram plays one audio track (the first), so more than one "
        "video or audio track is warned about",
        META_MEDIA_URL,
        READ,
        "policy",
    ),
    "post.caption": _meta(f"{META_MEDIA_REF}: caption 2200 characters, 30 hashtags, 20 @ tags"),
    "post.hashtag_advice": Source(
        "Instagram announced a cap of 5 hashtags (API enforcement unverified); "
        "more than 15 is a spam risk",
        META_MEDIA_URL,
        READ,
        "policy",
    ),
    "post.carousel": _meta(
        f"{META_PUBLISHING}: carousels hold 2 to 10 images, videos or a mix", META_PUBLISHING_URL
    ),
    "post.tags": _meta(f"{META_MEDIA_REF}: product_tags at most 5; user_tags at most 20"),
    "post.max_collaborators": _meta(f"{META_MEDIA_REF}: collaborators, up to 3 usernames"),
    "post.hashtags": Source("none: house rules add them", status="policy"),
    "post.max_links": Source(
        "none documented: Instagram shows caption links as plain text", status="policy"
    ),
    # Publishing, not media: the same for every profile.
    "publish.quota": _meta(
        "Meta, content_publishing_limit reference: 50 API-published posts per 24 hours"
    ),
    "publish.quota_window_seconds": _meta(
        "Meta, content_publishing_limit reference: a moving 24 hour window"
    ),
    "publish.container_lifetime_seconds": _meta(
        f"{META_PUBLISHING}: containers expire after 24 hours (2207020)", META_PUBLISHING_URL
    ),
}


def image_limits(role: Role) -> ImageLimits:
    return IMAGE_LIMITS[role]


def video_limits(role: Role) -> VideoLimits:
    return VIDEO_LIMITS[role]

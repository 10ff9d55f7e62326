"""Every limit of SPEC section 1, per media role, with where each value comes from.

This is the only place a number like 8,000,000 or 1.91 may appear. Rules (their
messages and the summaries `igpreflight rules` lists) and fixers read these tables; to follow a change at Meta, edit a value here (and its
source), bump LIMITS_VERSION, and every check and fix follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from igpreflight.model import Role

LIMITS_VERSION = "2026-11"

META_PUBLISHING = "Meta, Instagram Platform: Content Publishing guide"
META_MEDIA_REF = "Meta, Instagram Platform: IG User Media reference (POST /{ig-user-id}/media)"
META_ERRORS = "Meta, Instagram Platform: error codes reference"
CONSERVATIVE = "undocumented for this role; igpreflight applies the stricter documented value"
PRACTICE = "accepted in practice by the API, not documented by Meta"


@dataclass(frozen=True)
class ImageLimits:
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class VideoLimits:
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


@dataclass(frozen=True)
class PostLimits:
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
    default_quota_per_24h: int = 50
    quota_window_seconds: int = 24 * 3600  # content_publishing_limit's moving window
    container_lifetime_seconds: int = 24 * 3600  # an unpublished container EXPIRES after this
    min_presign_seconds: int = 24 * 3600  # URL005
    max_fetch_seconds: float = 30.0  # URL004


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

# Where each value comes from, by field name (shared by every role unless the
# role-specific key "role.field" is present). Shown by `igpreflight rules --format json`.
SOURCES: dict[str, str] = {
    "accepted_formats": f"{META_MEDIA_REF}: image_url must be a JPEG",
    "tolerated_formats": PRACTICE,
    "image.max_bytes": f"{META_MEDIA_REF}: 8 MB; the error text says 8 MiB, so 8,000,000 bytes is checked",
    "image.min_aspect": f"{META_MEDIA_REF}: aspect ratio 4:5 to 1.91:1",
    "image.max_aspect": f"{META_MEDIA_REF}: aspect ratio 4:5 to 1.91:1",
    "min_width": f"{META_MEDIA_REF}: width 320 to 1440 (rescaled outside)",
    "max_width": f"{META_MEDIA_REF}: width 320 to 1440 (rescaled outside)",
    "max_long_edge": "slow fetches of large images risk 2207003 (time-out)",
    "max_bits": f"{META_MEDIA_REF}: sRGB color space",
    "max_alt_text": f"{META_MEDIA_REF}: alt_text, images only",
    "containers": f"{META_MEDIA_REF}: Reels specifications, container MOV or MP4",
    "video_codecs": f"{META_MEDIA_REF}: video codec HEVC or H264",
    "audio_codecs": f"{META_MEDIA_REF}: audio codec AAC",
    "fps": f"{META_MEDIA_REF}: frame rate 23-60 FPS",
    "video.max_width": f"{META_MEDIA_REF}: maximum 1920 columns",
    "reels.aspect": f"{META_MEDIA_REF}: Reels aspect 0.01:1 to 10:1, 9:16 recommended",
    "story_video.aspect": f"{META_MEDIA_REF}: Stories aspect 0.1:1 to 10:1",
    "carousel_video.aspect": CONSERVATIVE,
    "reels.duration": f"{META_MEDIA_REF}: Reels 3 s to 15 min",
    "story_video.duration": f"{META_MEDIA_REF}: Stories 3 s to 60 s",
    "carousel_video.duration": CONSERVATIVE,
    "reels.max_bytes": f"{META_MEDIA_REF}: 300 MB (older documentation: 1 GB)",
    "story_video.max_bytes": f"{META_MEDIA_REF}: 100 MB",
    "carousel_video.max_bytes": CONSERVATIVE,
    "max_video_bitrate": f"{META_MEDIA_REF}: video bitrate VBR, 25 Mbps maximum",
    "audio": f"{META_MEDIA_REF}: 48 kHz maximum sample rate, 1 or 2 channels, 128 kbps",
    "scan": f"{META_MEDIA_REF}: progressive scan, closed GOP, chroma 4:2:0",
    "caption": f"{META_MEDIA_REF}: caption 2200 characters, 30 hashtags, 20 @ tags",
    "carousel": f"{META_PUBLISHING}: carousels hold 2 to 10 images, videos or a mix",
    "tags": f"{META_MEDIA_REF}: product_tags at most 5; user_tags x/y in 0.0..1.0",
    "collaborators": f"{META_MEDIA_REF}: collaborators, up to 3 usernames",
    "quota": "Meta, content_publishing_limit reference: 50 API-published posts per 24 hours",
    "quota_window_seconds": "Meta, content_publishing_limit reference: a moving 24 hour window",
    "container_lifetime_seconds": f"{META_PUBLISHING}: containers expire after 24 hours (2207020)",
}


def image_limits(role: Role) -> ImageLimits:
    return IMAGE_LIMITS[role]


def video_limits(role: Role) -> VideoLimits:
    return VIDEO_LIMITS[role]


@dataclass(frozen=True)
class ProbeLimits:
    """What the probe accepts as a real image or a plain edit list (not Meta limits).

    A decompression bomb declares a size its bytes cannot hold (or one no camera
    makes). Pillow's own 179 MP cut-off would refuse legitimate files the image
    fixer can shrink with JPEG draft mode (sharp's 280 MP giant-image.jpg, a 200 MP
    phone HEIC), so the probe applies this policy instead.
    """

    # No camera or phone makes more than 200 MP; stitched panoramas reach a few
    # hundred. Above 500 MP an RGB decode alone needs more than 1.5 GB.
    max_pixels: int = 500_000_000
    # The most pixels one byte of a real file can describe, per format: a header
    # declaring more is a bomb (or a broken file). Each value is about 4x past the
    # best the codec can do on a uniform image, so no real file comes close:
    # JPEG: every 8x8 block costs at least a 1-bit DC code (512 px/byte);
    # PNG/TIFF: deflate tops out at 1032:1 on rows of 1-bit pixels (~8,256 px/byte);
    # GIF: a 12-bit LZW code covers at most 4,096 pixels (~2,730 px/byte);
    # WebP: libwebp's lossless coder reaches ~24,000 px/byte on a black image;
    # HEIF/AVIF: HEVC/AV1 skip blocks almost for free, so only the cap applies.
    max_pixels_per_byte: tuple[tuple[str, int], ...] = (
        ("JPEG", 2_048),
        ("MPO", 2_048),
        ("PNG", 33_000),
        ("TIFF", 33_000),
        ("GIF", 11_000),
        ("BMP", 33_000),
        ("WEBP", 100_000),
    )
    # ffmpeg writes a one-entry edit list on nearly every MP4 to hide AAC priming
    # (1024-2112 samples: 21-96 ms at 22-48 kHz) and B-frame reordering delay (2-5
    # frames: up to ~0.21 s at 24 fps), sometimes after a short empty edit that
    # aligns audio with video. Skips, cuts and gaps longer than this are a real
    # change of the timeline (VID016).
    edit_list_tolerance: float = 0.25  # seconds
    # A container with a millisecond timebase (Matroska, WebM, FLV) stores 30 fps
    # as frames of 33 and 34 ms; remuxed to MP4, MediaInfo calls that VFR. Frame
    # durations that differ by no more than one such tick are constant-rate.
    vfr_jitter: float = 0.0011  # seconds
    # MediaInfo reports the nominal rate of some phone slow-motion files (30 fps)
    # while their frames are far fewer (7 in 0.53 s: 13 fps). When the frame count
    # misses nominal rate x duration by more than this many frames, or by more than
    # frame_count_share of them, the real average rate is used and the stream is VFR.
    frame_count_slack: float = 2.0  # frames
    frame_count_share: float = 0.10
    # Plausibility of a movie's declared numbers (crafted tables make ffmpeg encode
    # hours of frames from a clip of seconds): an MP4 track's mdhd duration may
    # differ from what its samples last (stts) by this many seconds or this share;
    # no real stream averages under min_bitrate bit/s over its declared duration
    # (a still picture in H.264 at 1 fps costs a few hundred), and no frame or
    # sample takes less than a byte.
    duration_slack: float = 1.0  # seconds
    duration_share: float = 0.10
    min_bitrate: int = 100  # bit/s over the whole file
    # Bounds on one MediaInfo parse (it runs in a child: `preflight.mediainfo_child`).
    # A real 700 MB MPEG-TS parses in ~1.3 s with ~60 MB; crafted metadata floods
    # took 51-232 s and up to 350 MB. The check target for a crafted file is 15 s.
    parse_seconds: float = 10.0
    parse_memory_mb: int = 1024


PROBE_LIMITS = ProbeLimits()

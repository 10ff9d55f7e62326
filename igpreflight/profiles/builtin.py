"""The built-in profiles: instagram (the default), threads and facebook-reels.

instagram is `igpreflight.limits` as it has always been. The other two are TOML-able
data on the same schema, built by the same code that reads a house profile, each
value with its source: the platform's official page where it says so, "unverified"
where only a third-party page does, "policy" where igpreflight chooses (Instagram's
value, conservatively, for what the platform does not document).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, SOURCES, VIDEO_LIMITS, Source
from igpreflight.profiles.model import IMAGE_ROLES, VIDEO_ROLES, Profile, travels_by_name
from igpreflight.profiles.schema import from_dict

READ = "2026-12-05"  # when the Threads and Facebook pages below were read

INSTAGRAM = Profile(
    name="instagram",
    platform="Instagram",
    images=tuple(IMAGE_LIMITS[r] for r in IMAGE_ROLES),
    videos=tuple(VIDEO_LIMITS[r] for r in VIDEO_ROLES),
    post=POST_LIMITS,
    description="Instagram Graph API, Content Publishing (the default)",
    sources=tuple(sorted((k, v) for k, v in SOURCES.items() if not k.startswith("publish."))),
)

# ---------------------------------------------------------------- threads

THREADS_POSTS = "https://developers.facebook.com/docs/threads/posts"
THREADS_PAGE = "Meta, Threads API: Threads Posts (updated 2026-04-14)"


def _threads(text: str, status: str = "official") -> Source:
    return Source(f"{THREADS_PAGE}: {text}", THREADS_POSTS, READ, status)


def _instagram_kept(what: str, platform: str) -> Source:
    return Source(f"not documented for {platform}; Instagram's {what} applied", status="policy")


THREADS_DATA: dict[str, Any] = {
    "platform": "Threads",
    "description": "Threads API (Meta): image, video and carousel posts",
    "image": {
        "accepted_formats": ["JPEG", "PNG"],
        "tolerated_formats": [],
        "max_bytes": 8_000_000,
        "min_aspect": "1:10",
        "max_aspect": "10:1",
        "min_width": 320,
        "max_width": 1440,
        "max_long_edge": 1920,
        "max_bits": 8,
        "max_frames": 1,
        "recommended_aspect": "none",
        "max_alt_text": 1000,
    },
    "video": {
        "containers": ["MPEG-4", "QuickTime"],
        "video_codecs": ["AVC", "HEVC"],
        "warned_video_codecs": ["HEVC"],
        "audio_codecs": ["AAC"],
        "min_fps": 23,
        "max_fps": 60,
        "max_width": 1920,
        "min_aspect": "0.01:1",
        "max_aspect": "10:1",
        "recommended_aspect": "9:16",
        "min_duration": 0,
        "max_duration": 300,
        "max_bytes": 1_000_000_000,
        "max_video_bitrate": 100_000_000,
        "max_audio_sample_rate": 48_000,
        "min_audio_channels": 1,
        "max_audio_channels": 2,
        "recommended_audio_bitrate": 128_000,
    },
    "post": {
        "max_caption": 500,
        "emoji_as_utf8_bytes": True,
        "hashtag_cap_announced": 1,
        "hashtag_cap_reason": "{platform} makes only the first one the post's topic tag",
        "min_carousel_items": 2,
        "max_carousel_items": 20,
        "max_links": 5,
    },
}

THREADS_LINKS = (
    "https://developers.facebook.com/documentation/threads/create-posts/text-attachments"
)

THREADS_SOURCES: dict[str, Source] = {
    "image.accepted_formats": _threads(
        "JPEG and PNG image types are the officially supported formats"
    ),
    "image.tolerated_formats": _threads("PNG is documented, so it is accepted, not tolerated"),
    "image.max_bytes": _threads("File Size: 8 MB maximum (8,000,000 bytes checked)"),
    "image.aspect": _threads("Aspect Ratio Limit: 10:1 (either way: 1:10 to 10:1)"),
    "image.width": _threads("Minimum Width 320, Maximum Width 1440 (scaled up or down)"),
    "image.max_long_edge": Source(
        "slow fetches of large images risk a time-out (igpreflight's limit, as for Instagram)",
        status="policy",
    ),
    "image.max_bits": _threads("Color Space: sRGB; other color spaces are converted"),
    "image.max_frames": _threads("JPEG and PNG only: one picture (animations are not images)"),
    "image.recommended_aspect": Source(
        "Threads has no stories: no ratio is recommended", status="policy"
    ),
    "image.max_alt_text": _instagram_kept("1000 characters", "Threads"),
    "video.containers": _threads("Container: MOV or MP4 (MPEG-4 Part 14)"),
    "video.video_codecs": _threads("Video Codec: HEVC or H264"),
    "video.audio_codecs": _threads("Audio Codec: AAC"),
    "video.fps": _threads("Frame Rate: 23-60 FPS"),
    "video.max_width": _threads("Maximum Columns (horizontal pixels): 1920"),
    "video.resolution": _threads("no minimum resolution documented"),
    "video.aspect": _threads("aspect ratio between 0.01:1 and 10:1, 9:16 recommended"),
    "video.duration": _threads("Duration: 300 seconds maximum, minimum longer than 0 seconds"),
    "video.max_bytes": _threads("File Size: 1 GB maximum (1,000,000,000 bytes checked)"),
    "video.max_video_bitrate": _threads(
        "Video Bitrate: VBR, 100 Mbps maximum (Ayrshare's copy of the page says 25 Mbps; "
        "Meta's own page wins)"
    ),
    "video.audio": _threads(
        "AAC, 48 kHz sample rate maximum, 1 or 2 channels; Audio Bitrate: 128 kbps"
    ),
    "video.pixels": _threads("progressive scan, closed GOP, 4:2:0 chroma subsampling"),
    "video.tracks": _instagram_kept("one video and one audio track", "Threads"),
    "post.caption": _threads(
        "Text posts are limited to 500 characters; emojis count as their UTF-8 bytes"
    ),
    "post.max_hashtags": _instagram_kept("30 hashtags", "Threads"),
    "post.max_mentions": _instagram_kept("20 mentions", "Threads"),
    "post.hashtag_advice": _threads(
        "Topic Tags: only one tag is allowed per post, the first valid in-text tag"
    ),
    "post.carousel": _threads(
        "Carousels are limited to 20 images, videos, or a mix, and need at least two "
        "children (the page said 10 before)"
    ),
    "post.tags": _instagram_kept("tag limits (Threads posts take none)", "Threads"),
    "post.max_collaborators": _instagram_kept("3 collaborators", "Threads"),
    "post.hashtags": Source("none: house rules add them", status="policy"),
    "post.max_links": Source(
        "Meta, Threads API: Text Attachments (updated 2026-07-02): since 2025-12-22 a post "
        "with more than 5 links fails at media creation (THREADS_API__LINK_LIMIT_EXCEEDED); "
        "every unique URL in the text counts",
        THREADS_LINKS,
        "2026-12-06",
    ),
}

# ---------------------------------------------------------------- facebook reels

REELS_URL = "https://developers.facebook.com/docs/video-api/guides/reels-publishing/"
REELS_PAGE = "Meta, Video API: Reels Publishing API (updated 2026-07-30)"
STORIES_URL = "https://developers.facebook.com/docs/page-stories-api"


def _reels(text: str) -> Source:
    return Source(f"{REELS_PAGE}: {text}", REELS_URL, READ)


FACEBOOK_REELS_DATA: dict[str, Any] = {
    "platform": "Facebook Reels",
    "description": "Facebook Reels on Pages (Meta's Reels Publishing API): videos only",
    "image": {"accepted_formats": [], "tolerated_formats": []},
    "video": {
        "containers": ["MPEG-4"],
        "video_codecs": ["AVC", "HEVC", "VP9", "AV1"],
        "warned_video_codecs": ["HEVC", "VP9", "AV1"],
        "audio_codecs": ["AAC"],
        "min_fps": 24,
        "max_fps": 60,
        "max_width": 1920,
        "min_short_edge": 540,
        "min_long_edge": 960,
        "min_aspect": "9:16",
        "max_aspect": "16:9",
        "recommended_aspect": "9:16",
        "min_duration": 3,
        "max_duration": 90,
        "max_bytes": 300_000_000,
        "max_video_bitrate": 25_000_000,
        "min_audio_sample_rate": 48_000,
        "max_audio_sample_rate": 48_000,
        "min_audio_channels": 2,
        "max_audio_channels": 2,
        "recommended_audio_bitrate": 128_000,
        "min_audio_bitrate": 128_000,
        "story": {"max_duration": 60},
    },
}

FACEBOOK_REELS_SOURCES: dict[str, Source] = {
    "image.accepted_formats": _reels("a reel is a video file: no image is published as a reel"),
    "image.tolerated_formats": _reels("a reel is a video file"),
    "video.containers": _reels("File Type: .mp4 (recommended), the only container named"),
    "video.video_codecs": _reels("Compression: H.264, H.265 (VP9, AV1 are also supported)"),
    "video.audio_codecs": _reels("Audio Settings: Codec AAC Low Complexity"),
    "video.fps": _reels("Frame Rate: 24 to 60 frames per second (error 1363129)"),
    "video.resolution": _reels(
        "Resolution: 1080 x 1920 pixels recommended, minimum 540 x 960 (error 1363127)"
    ),
    "video.max_width": _instagram_kept("1920 columns", "Facebook Reels"),
    "video.aspect": _reels(
        "Aspect Ratio 9 x 16; error 1363040: aspect ratios need to be between 16x9 and 9x16"
    ),
    "video.duration": _reels("Duration: 3 to 90 seconds (error 1363128)"),
    "video.story.duration": Source(
        "Meta, Facebook Stories API: a reel published as a story on a Facebook Page can "
        "not exceed 60 seconds",
        STORIES_URL,
        READ,
    ),
    "video.max_bytes": _instagram_kept("300 MB", "API-published Facebook Reels"),
    "video.max_video_bitrate": Source(
        "Postiz, Perfect Facebook Reel Size (2026-04-17): video bitrate up to 25 Mbps",
        "https://postiz.com/blog/facebook-reel-size",
        READ,
        "unverified",
    ),
    "video.audio": _reels("Audio Settings: bitrate 128kbs+, Channels Stereo, Sample rate 48kHz"),
    "video.pixels": _reels(
        "Video Settings: chroma subsampling 4:2:0, closed GOP (2-5 seconds), fixed frame "
        "rate, progressive scan"
    ),
    "video.tracks": _instagram_kept("one video and one audio track", "Facebook Reels"),
    "post.caption": _instagram_kept("caption limits", "Facebook Reels"),
    "post.hashtag_advice": _instagram_kept("hashtag advice", "Facebook Reels"),
    "post.carousel": _instagram_kept("carousel size (Reels have no carousels)", "Facebook Reels"),
    "post.tags": _instagram_kept("tag limits", "Facebook Reels"),
    "post.max_collaborators": _instagram_kept("3 collaborators", "Facebook Reels"),
    "post.hashtags": Source("none: house rules add them", status="policy"),
    "post.max_links": Source("none documented for Facebook Reels", status="policy"),
}


def _built(name: str, data: dict[str, Any], sources: dict[str, Source]) -> Profile:
    built = from_dict(data, name=name, where=f"built-in profile {name}", extra_sources=sources)
    return replace(built, origin="built-in")


THREADS = _built("threads", THREADS_DATA, THREADS_SOURCES)
FACEBOOK_REELS = _built("facebook-reels", FACEBOOK_REELS_DATA, FACEBOOK_REELS_SOURCES)

BUILTIN: dict[str, Profile] = {p.name: p for p in (INSTAGRAM, THREADS, FACEBOOK_REELS)}
DEFAULT = INSTAGRAM


def builtin_profile(name: str) -> Profile:
    """The built-in profile `name`: how one comes back out of a pickle."""
    return BUILTIN[name]


for _profile in BUILTIN.values():
    travels_by_name(_profile, builtin_profile)

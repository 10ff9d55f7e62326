"""One example per rule for its documentation page: the input that breaks it.

The example is data (the facts a probe would read, a manifest, a URL's fetch), never
output: `rule_pages.py` runs the real rules, renderers and fix planners on it at
build time, so a page shows what `igpreflight check` and `fix --dry-run` print today,
and the build fails when an example no longer breaks its rule. A new rule needs one
entry here (the build names the rule until it has one).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from igpreflight.model import ImageFacts, Unreadable, VideoFacts
from igpreflight.net.fetch import Fetch
from igpreflight.preflight.rules.quota import QuotaFacts
from igpreflight.preflight.urlfacts import UrlFacts

_CHECKOUT = str(Path(__file__).resolve().parents[2])
if _CHECKOUT not in sys.path:  # `mkdocs` (the script) does not put the checkout there
    sys.path.insert(0, _CHECKOUT)
from tests.factories import GOOD_IMAGE, GOOD_VIDEO  # noqa: E402

# The compliant starting point the tests use (a feed JPEG and a Reel), so "compliant"
# means the same here as in tests/factories.py.
IMAGE, VIDEO = GOOD_IMAGE, GOOD_VIDEO


@dataclass(frozen=True)
class FileExample:
    """A file `check` probes: shown as `igpreflight check NAME` (and `fix --dry-run`)."""

    given: str  # what the file is, in words
    facts: ImageFacts | VideoFacts | Unreadable
    as_: str = "auto"  # the --as role
    fix_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"extend": True}
    profile: str = ""  # a profile to check against (--profile), or a house profile's TOML


@dataclass(frozen=True)
class PostExample:
    """A manifest `check --manifest posts.toml` reads; its media are compliant unless
    `facts` says otherwise (by the media's name)."""

    given: str
    manifest: str  # TOML
    facts: dict[str, ImageFacts | VideoFacts] = field(default_factory=dict)
    shown: str | None = None  # the manifest as the page shows it, when it is too long to read
    profile: str = ""  # a profile to check against (--profile), or a house profile's TOML


@dataclass(frozen=True)
class UrlExample:
    """What one fetch of a media URL met, as `igpreflight check-url URL` shows it."""

    given: str
    facts: UrlFacts


@dataclass(frozen=True)
class QuotaExample:
    """An account's publishing quota, as `publish` reads it before each post."""

    given: str
    facts: QuotaFacts


Example = FileExample | PostExample | UrlExample | QuotaExample


def image(name: str, **changes: Any) -> ImageFacts:
    return replace(IMAGE, path=name, extension=name.rpartition(".")[2], **changes)


def video(name: str, **changes: Any) -> VideoFacts:
    return replace(VIDEO, path=name, extension=name.rpartition(".")[2], **changes)


_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
_URL = "https://cdn.example.com/posts/photo.jpg"


def _served(**changes: Any) -> Fetch:
    """A 200 with the whole of a 500,000-byte JPEG, in 0.4 s, unless changed."""
    body = changes.pop("body_bytes", 500_000)
    headers = httpx.Headers(
        {"content-type": changes.pop("content_type", "image/jpeg"), "content-length": str(body)}
    )
    got = {
        "status": 200,
        "reason": "OK",
        "final_url": _URL,
        "headers": headers,
        "body_bytes": body,
        "head": _JPEG_HEAD,
        "sha256": "0" * 64,
        "complete": True,
        "seconds": 0.4,
    }
    return Fetch(**{**got, **changes})


def url(**changes: Any) -> UrlFacts:
    """A public URL that serves the local file, unless changed (`fetch=None`: not fetched)."""
    facts = {
        "url": _URL,
        "addresses": ("203.0.113.10",),
        "fetch": _served(),
        "local_size": 500_000,
        "local_sha256": "0" * 64,
        "expected_type": "image/jpeg",
    }
    return UrlFacts(**{**facts, **changes})


def _post(body: str, post_id: str = "spring") -> str:
    """One [[post]] table; its id (unless `body` gives one) names it in the report."""
    head = "" if body.lstrip().startswith("id =") else f'id = "{post_id}"\n'
    return "[[post]]\n" + head + body.strip() + "\n"


EXAMPLES: dict[str, Example] = {
    # ---------------------------------------------------------------- images
    "IMG001": FileExample("a 9 MB JPEG", image("big.jpg", bytes=9_000_000)),
    "IMG002": FileExample("a WebP photo", image("photo.webp", format="WEBP")),
    "IMG003": FileExample(
        "a 540x1080 JPEG (1:2) posted to the feed", image("too-tall.jpg", width=540, height=1080)
    ),
    "IMG004": FileExample("a 2000x1600 JPEG", image("wide.jpg", width=2000, height=1600)),
    "IMG005": FileExample("a 300x300 JPEG", image("icon.jpg", width=300, height=300)),
    "IMG006": FileExample(
        "a JPEG with a Display P3 profile",
        image("p3.jpg", icc_name="Display P3", icc_is_srgb=False),
    ),
    "IMG007": FileExample(
        "a phone photo stored 1350x1080 with EXIF orientation 6",
        image("phone.jpg", width=1350, height=1080, orientation=6),
    ),
    "IMG008": FileExample(
        "an animated GIF of 12 frames", image("loop.gif", format="GIF", mode="P", frames=12)
    ),
    "IMG009": FileExample(
        "a PNG with transparency",
        image("logo.png", format="PNG", mode="RGBA", has_alpha=True),
    ),
    "IMG010": FileExample("a PNG named .jpg", image("png-named.jpg", format="PNG")),
    "IMG011": FileExample("a 1080x1350 JPEG checked as a story", image("story.jpg"), as_="story"),
    "IMG012": FileExample("a PNG screenshot", image("screen.png", format="PNG")),
    "IMG013": FileExample(
        "a JPEG whose EXIF block declares more entries than it holds",
        image(
            "camera.jpg",
            exif_error="the EXIF IFD0 directory declares 32,767 entries (393,204 bytes) "
            "in a 266-byte block",
        ),
    ),
    "IMG014": FileExample(
        "a JPEG written with `cjpeg -arithmetic` (arithmetic coding, SOF9)",
        image("arithmetic.jpg", jpeg_coding="arithmetic"),
    ),
    # ---------------------------------------------------------------- videos
    "VID001": FileExample(
        "a Matroska file", video("clip.mkv", container="Matroska", video_codec="AVC")
    ),
    "VID002": FileExample("a VP9 video in MP4", video("clip.mp4", video_codec="VP9")),
    "VID003": FileExample("an MP4 with Opus audio", video("clip.mp4", audio_codec="Opus")),
    "VID004": FileExample(
        "an MP4 whose moov atom is at the end", video("export.mp4", is_streamable=False)
    ),
    "VID005": FileExample("a 120 fps slow-motion clip", video("slowmo.mp4", fps=120.0)),
    "VID006": FileExample(
        "a 2160x3840 (4K) vertical clip", video("4k.mp4", width=2160, height=3840)
    ),
    "VID007": FileExample(
        "a 9:16 clip used as a carousel item", video("vertical.mp4"), as_="carousel-item"
    ),
    "VID008": FileExample(
        "a 1 s clip posted as a Reel",
        video("short.mp4", duration=1.0),
        fix_options={"extend": True},
    ),
    "VID009": FileExample("a 400 MB Reel", video("long.mp4", bytes=400_000_000, duration=120.0)),
    "VID010": FileExample(
        "a clip at 30 Mbps", video("camera.mp4", video_bitrate=30_000_000, bytes=40_000_000)
    ),
    "VID011": FileExample(
        "a clip with 96 kHz audio", video("studio.mp4", audio_sample_rate=96_000)
    ),
    "VID012": FileExample("a clip with 5.1 audio", video("film.mp4", audio_channels=6)),
    "VID013": FileExample(
        "an interlaced camcorder clip", video("camcorder.mp4", scan_type="Interlaced")
    ),
    "VID014": FileExample("a 4:2:2 10-bit clip", video("log.mov", chroma="4:2:2", bit_depth=10)),
    "VID015": FileExample(
        "a screen recording with a variable frame rate",
        video("screen.mp4", frame_rate_mode="VFR"),
    ),
    "VID016": FileExample(
        "an MP4 whose edit list cuts its start", video("edited.mp4", has_edit_list=True)
    ),
    "VID017": FileExample(
        "a phone clip stored 1920x1080 with a 90° rotation",
        video("phone.mp4", width=1920, height=1080, rotation=90),
    ),
    "VID018": FileExample("an HEVC clip from a phone", video("phone.mov", video_codec="HEVC")),
    "VID021": FileExample(
        "a 486x864 clip for Facebook Reels (its minimum is 540x960)",
        video("small.mp4", width=486, height=864),
        profile="facebook-reels",
    ),
    "VID019": FileExample("a square 1080x1080 Reel", video("square.mp4", width=1080, height=1080)),
    "VID022": FileExample(
        "a camera MOV with a second microphone on a second audio track",
        video("interview.mov", container="QuickTime", video_tracks=1, audio_tracks=2),
    ),
    # fix resolves VID020 when it encodes the audio anyway (here for VID003).
    "VID020": FileExample(
        "a clip with 32 kbps Opus audio",
        video("talk.mp4", audio_codec="Opus", audio_bitrate=32_000),
    ),
    # ---------------------------------------------------------------- posts
    "POST001": PostExample(
        "a caption of 2,300 characters",
        _post('media = ["photo.jpg"]\ncaption = "' + "Spring is here. " * 143 + 'Yes, it is!!"'),
        shown=_post(
            'media = ["photo.jpg"]\ncaption = "Spring is here. Spring is here. ... Yes, it is!!"'
        )
        + "# the caption is 2,300 characters long\n",
    ),
    "POST002": PostExample(
        "a caption with 31 hashtags",
        _post('media = ["photo.jpg"]\ncaption = "' + " ".join(f"#tag{i}" for i in range(31)) + '"'),
    ),
    "POST003": PostExample(
        "a caption with 21 mentions",
        _post(
            'media = ["photo.jpg"]\ncaption = "' + " ".join(f"@user{i}" for i in range(21)) + '"'
        ),
    ),
    "POST004": PostExample(
        "a caption with 8 hashtags",
        _post('media = ["photo.jpg"]\ncaption = "' + " ".join(f"#tag{i}" for i in range(8)) + '"'),
    ),
    "POST005": PostExample(
        "a carousel of one item", _post('media_type = "CAROUSEL"\nmedia = ["photo.jpg"]')
    ),
    "POST006": PostExample(
        "a video posted as IMAGE", _post('media_type = "IMAGE"\nmedia = ["clip.mp4"]')
    ),
    "POST007": PostExample(
        "a thumb_offset past the end of a 10 s Reel",
        _post('media_type = "REELS"\nmedia = ["clip.mp4"]\nthumb_offset = 12000'),
    ),
    "POST008": PostExample(
        "a product tag without a position on an image",
        _post('media = [{ path = "photo.jpg", product_tags = [{ product_id = "123" }] }]'),
    ),
    "POST009": PostExample(
        "the same product tagged twice",
        _post(
            'media = [{ path = "photo.jpg", product_tags = [{ product_id = "123", x = 0.2, y = 0.2 }, '
            '{ product_id = "123", x = 0.8, y = 0.8 }] }]'
        ),
    ),
    "POST010": PostExample(
        "a user tag placed outside the picture",
        _post(
            'media = [{ path = "photo.jpg", user_tags = [{ username = "ana", x = 1.2, y = 0.5 }] }]'
        ),
    ),
    "POST011": PostExample(
        "six product tags on one image",
        _post(
            'media = [{ path = "photo.jpg", product_tags = ['
            + ", ".join(f'{{ product_id = "{i}", x = 0.5, y = 0.5 }}' for i in range(6))
            + "] }]"
        ),
    ),
    "POST012": PostExample(
        "a caption on a story",
        _post('media_type = "STORIES"\nmedia = ["photo.jpg"]\ncaption = "Good morning"'),
    ),
    "POST013": PostExample(
        "a Reel inside a carousel",
        _post(
            'media_type = "CAROUSEL"\n'
            'media = ["photo.jpg", { path = "clip.mp4", media_type = "REELS" }]'
        ),
    ),
    "POST014": PostExample(
        "a carousel of a 4:5 photo and a square one",
        _post('media_type = "CAROUSEL"\nmedia = ["portrait.jpg", "square.jpg"]'),
        facts={"square.jpg": image("square.jpg", width=1080, height=1080)},
    ),
    "POST015": PostExample(
        "two posts of one batch with the same caption",
        _post('id = "monday"\nmedia = ["a.jpg"]\ncaption = "New drop!"')
        + _post('id = "tuesday"\nmedia = ["b.jpg"]\ncaption = "New drop!"'),
    ),
    "POST016": PostExample(
        "a user tag without a position on an image",
        _post('media = [{ path = "photo.jpg", user_tags = [{ username = "ana" }] }]'),
    ),
    "POST017": PostExample(
        "alt_text on a Reel",
        _post('media_type = "REELS"\nmedia = ["clip.mp4"]\nalt_text = "A sunset"'),
    ),
    "POST018": PostExample(
        "a Reel with both a cover and a thumb_offset",
        _post(
            'media_type = "REELS"\nmedia = ["clip.mp4"]\ncover = "cover.jpg"\nthumb_offset = 1500'
        ),
    ),
    "POST019": PostExample(
        "four collaborators",
        _post('media = ["photo.jpg"]\ncollaborators = ["ana", "ben", "cai", "dee"]'),
    ),
    "POST022": PostExample(
        "a caption without the brand's hashtag, under a house profile that requires it",
        _post('media = ["photo.jpg"]\ncaption = "Spring is here #spring"'),
        profile='[profiles.brand]\nextends = "instagram"\npost.required_hashtags = ["#acme"]\n',
    ),
    "POST023": PostExample(
        "a Threads post whose caption links six product pages",
        _post(
            'media = ["photo.jpg"]\ncaption = "New in: '
            + " ".join(f"https://shop.example/p/{i}" for i in range(6))
            + '"'
        ),
        profile="threads",
    ),
    "POST020": PostExample(
        "share_to_feed on an image post",
        _post('media = ["photo.jpg"]\nshare_to_feed = true'),
    ),
    "POST021": PostExample(
        "a caption holding a NUL character (pasted from a binary export)",
        _post('media = ["photo.jpg"]\ncaption = "Launch day\\u0000 #new"'),
    ),
    # ---------------------------------------------------------------- URLs
    "URL001": UrlExample(
        "a private bucket's URL that redirects to a login page",
        url(
            fetch=_served(
                redirects=[{"status": 302, "location": "https://cdn.example.com/login?next=/posts"}]
            )
        ),
    ),
    "URL002": UrlExample(
        "a JPEG served as application/octet-stream",
        url(fetch=_served(content_type="application/octet-stream")),
    ),
    "URL003": UrlExample(
        "a URL serving an older upload of the file",
        url(fetch=_served(body_bytes=480_000, sha256="1" * 64)),
    ),
    "URL004": UrlExample(
        "a 90 MB video served at 0.9 MB/s",
        url(
            fetch=_served(content_type="video/mp4", body_bytes=90_000_000, seconds=100.0, head=b""),
            local_size=90_000_000,
            expected_type="video/mp4",
            url="https://media.example.com/reel.mp4",
        ),
    ),
    "URL005": UrlExample(
        "a URL presigned for one hour",
        url(presign_remaining=3600.0, url=_URL + "?X-Amz-Expires=3600&X-Amz-Signature=..."),
    ),
    "URL006": UrlExample(
        "a URL on a private address",
        url(
            fetch=None,
            url="http://10.0.0.5/photo.jpg",
            host_problem="10.0.0.5 is a private address",
            addresses=("10.0.0.5",),
        ),
    ),
    # ---------------------------------------------------------------- quota, input
    "QUOTA001": QuotaExample(
        "an account that published 50 posts in the last 24 hours",
        QuotaFacts(total=50, remaining=0),
    ),
    "FILE001": FileExample(
        "a JPEG cut off in the middle of its data",
        Unreadable(
            "truncated.jpg", "truncated JPEG: no end-of-image marker (image data ends early)"
        ),
    ),
    "FILE002": FileExample(
        "an object the credentials may list but not GET (no s3:GetObject)",
        Unreadable(
            "s3://shoot/a.jpg",
            "access denied reading object 'a.jpg' of bucket 'shoot'",
            refused=True,
        ),
    ),
    "FILE003": FileExample(
        "an object the storage kept failing to serve (HTTP 500 after every retry)",
        Unreadable(
            "s3://shoot/a.jpg",
            "the storage failed to serve object 'a.jpg' of bucket 'shoot': 500: Internal Server Error",
            unavailable=True,
        ),
    ),
}

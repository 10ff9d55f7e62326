"""The committed sample set (fixtures/media) is what fixtures/generate.py makes,
each file is the kind its name says, and the whole set stays small."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from PIL import ImageCms

from fixtures.generate import POSTS_TOML, SAMPLES, make_icc_profile, write_samples
from igpreflight.model import ImageFacts, Unreadable, VideoFacts
from igpreflight.preflight.image_colour import icc_facts
from igpreflight.preflight.manifest import load_manifest
from igpreflight.preflight.probe import probe

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "fixtures" / "media"

# name -> (facts type, the attribute that names its kind, the expected value)
EXPECTED: dict[str, tuple[type, str, object]] = {
    "feed-ok.jpg": (ImageFacts, "format", "JPEG"),
    "carousel-1.jpg": (ImageFacts, "format", "JPEG"),
    "carousel-2.jpg": (ImageFacts, "format", "JPEG"),
    "too-tall.jpg": (ImageFacts, "format", "JPEG"),
    "rotated-exif6.jpg": (ImageFacts, "orientation", 6),
    "alpha.png": (ImageFacts, "has_alpha", True),
    "photo.webp": (ImageFacts, "format", "WEBP"),
    "cmyk.jpg": (ImageFacts, "colorspace", "CMYK"),
    "display-p3.jpg": (ImageFacts, "icc_name", "Display P3"),
    "animated.gif": (ImageFacts, "format", "GIF"),
    "png-named.jpg": (ImageFacts, "format", "PNG"),
    "empty.jpg": (Unreadable, "reason", "zero bytes"),
    "not-an-image.png": (Unreadable, "reason", "not a media file"),
    "truncated.jpg": (
        Unreadable,
        "reason",
        "truncated JPEG: no end-of-image marker (image data ends early)",
    ),
    "reel-ok.mp4": (VideoFacts, "video_codec", "AVC"),
    "reel-moov-at-end.mp4": (VideoFacts, "is_streamable", False),
    "clip.webm": (VideoFacts, "container", "WebM"),
    "fast-120fps.mp4": (VideoFacts, "fps", 120.0),
    "too-short-2s.mp4": (VideoFacts, "video_codec", "AVC"),
    "with space.jpg": (ImageFacts, "format", "JPEG"),
    "café-ünïcode.jpg": (ImageFacts, "format", "JPEG"),
}

# Facts that must agree between the committed file and a fresh generation
# (encoders may differ in bytes, not in these).
STABLE = {
    ImageFacts: (
        "format",
        "width",
        "height",
        "mode",
        "orientation",
        "has_alpha",
        "icc_name",
        "colorspace",
    ),
    VideoFacts: (
        "container",
        "video_codec",
        "width",
        "height",
        "fps",
        "audio_codec",
        "is_streamable",
        "has_edit_list",
    ),
    Unreadable: ("reason",),
}


def test_every_sample_is_listed_and_present():
    assert set(EXPECTED) == set(SAMPLES)
    on_disk = {p.name for p in MEDIA.iterdir() if p.is_file()}
    assert on_disk == set(SAMPLES) | {"posts.toml"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_is_what_its_name_says(name):
    kind, attr, value = EXPECTED[name]
    facts = probe(MEDIA / name)
    assert isinstance(facts, kind), facts
    assert getattr(facts, attr) == value


def test_the_compliant_reel_is_the_documented_one():
    f = probe(MEDIA / "reel-ok.mp4")
    assert isinstance(f, VideoFacts)
    assert (f.width, f.height, f.audio_codec, f.is_streamable) == (720, 1280, "AAC", True)
    assert f.duration == pytest.approx(3.5, abs=0.1)
    short = probe(MEDIA / "too-short-2s.mp4")
    assert isinstance(short, VideoFacts) and short.duration < 3.0


def test_rotated_sample_displays_nine_by_sixteen():
    f = probe(MEDIA / "rotated-exif6.jpg")
    assert isinstance(f, ImageFacts)
    assert (f.width, f.height) == (1280, 720)
    assert (f.display_width, f.display_height) == (720, 1280)


def test_sample_set_is_under_two_megabytes():
    total = sum(p.stat().st_size for p in MEDIA.iterdir() if p.is_file())
    assert total < 2_000_000


def test_generator_makes_the_committed_set(tmp_path):
    write_samples(tmp_path)
    for name in SAMPLES:
        committed, fresh = probe(MEDIA / name), probe(tmp_path / name)
        assert type(committed) is type(fresh), name
        for attr in STABLE[type(fresh)]:
            assert getattr(committed, attr) == getattr(fresh, attr), (name, attr)
    assert (tmp_path / "posts.toml").read_text(encoding="utf-8") == (
        MEDIA / "posts.toml"
    ).read_text(encoding="utf-8")


def test_cli_writes_named_samples(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fixtures.generate", str(tmp_path), "feed-ok.jpg", "empty.jpg"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jpg", "feed-ok.jpg"]
    assert "feed-ok.jpg" in proc.stdout


def test_posts_manifest():
    data = tomllib.loads((MEDIA / "posts.toml").read_text(encoding="utf-8"))
    assert (MEDIA / "posts.toml").read_text(encoding="utf-8") == POSTS_TOML
    posts = {p["id"]: p for p in data["post"]}
    assert posts["carousel-launch"]["media_type"] == "CAROUSEL"
    assert len(posts["carousel-launch"]["media"]) == 2
    assert posts["reel-with-thumb"]["thumb_offset"] == 1500
    assert posts["hashtag-soup"]["caption"].count("#") > 30
    for post in load_manifest(MEDIA / "posts.toml"):
        for item in post.media:
            assert Path(item.resolved).is_file(), item.path


@pytest.mark.parametrize(
    ("space", "srgb"),
    [("display-p3", False), ("adobe-rgb", False), ("srgb-compact", True), ("srgb", True)],
)
def test_generated_icc_profiles_are_valid(space, srgb):
    data = make_icc_profile(space)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
    name = ImageCms.getProfileDescription(profile)
    assert name
    # The profile is usable for a real conversion.
    transform = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    assert transform is not None
    assert icc_facts(data) == (name.strip(), srgb)

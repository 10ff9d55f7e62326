"""Property tests (SPEC 12): for any input the fixer accepts and any set of profiles
whose intersection is not empty, the fixed file passes `check` under every one of
them, and fixing it again changes nothing.

The profiles are drawn from the built-in ones and a few house profiles (allowed
ratios, narrower widths, shorter Reels, lower bitrates). Media are small: flat
images with a drawn block, ultrafast clips of a few hundred pixels (and a few at
Facebook Reels' 540x960 minimum), so each example costs well under a second or two.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from fixtures.generate import make_video
from igpreflight.config import DEFAULT_RULES
from igpreflight.model import Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.profiles import (
    BUILTIN,
    FACEBOOK_REELS,
    INSTAGRAM,
    THREADS,
    house_profile,
    intersect,
)
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus


def _house(name: str, table: dict) -> object:
    return house_profile(name, table, where="test", known=BUILTIN)


FEED45 = _house(
    "feed45", {"extends": "instagram", "image": {"aspects": ["4:5"], "max_width": 1080}}
)
SQUARE = _house(
    "square", {"extends": "threads", "image": {"aspects": ["1:1"]}, "video": {"aspects": ["1:1"]}}
)
SHORT = _house(
    "short",
    {
        "extends": "instagram",
        "video": {"max_video_bitrate": 4_000_000, "reels": {"aspects": ["9:16", "4:5"]}},
    },
)
SMALL = _house("small", {"extends": "threads", "image": {"max_width": 800, "max_bytes": 400_000}})
POOL = [INSTAGRAM, THREADS, FACEBOOK_REELS, FEED45, SQUARE, SHORT, SMALL]
NAMES = {p.name: p for p in POOL}
IMAGE_ROLES = {
    "auto": Role.FEED_IMAGE,
    "story": Role.STORY_IMAGE,
    "carousel-item": Role.CAROUSEL_IMAGE,
}
VIDEO_ROLES = {"auto": Role.REELS, "story": Role.STORY_VIDEO, "carousel-item": Role.CAROUSEL_VIDEO}

# Encodes are slow, and cases whose profiles share no target are filtered out.
SLOW_AND_FILTERED = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]
profile_sets = st.lists(
    st.sampled_from([p.name for p in POOL]), min_size=1, max_size=3, unique=True
)


@pytest.fixture(autouse=True)
def fast_x264(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGPREFLIGHT_X264_PRESET", "ultrafast")


def options_for(names: list[str], as_: str, aspect: str) -> FixOptions:
    rules = DEFAULT_RULES.with_profiles([NAMES[n] for n in names])
    return FixOptions(as_=as_, aspect=aspect, rules=rules)


def errors_under_each(path: Path, role: Role, names: list[str]) -> list[str]:
    facts = probe(path)
    return [
        f"{name}: {f.rule} {f.message}"
        for name in names
        for f in check_facts(facts, role, (NAMES[name],))
        if f.severity is Severity.ERROR
    ]


def fix_twice(src: Path, root: Path, options: FixOptions, role: Role, names: list[str]) -> None:
    """Fix `src`; unless the profiles' plan refuses it, the output passes every profile
    and a second fix copies it byte for byte."""
    (first,) = fix_paths([src], root / "once", options)
    assert first.status is not FixStatus.FAILED, first.reason  # a plan that does not work
    assume(first.ok)  # unfixable: not an input the fixer accepts (said why, in one line)
    out = Path(first.output)
    assert errors_under_each(out, role, names) == []
    (second,) = fix_paths([out], root / "twice", options)
    assert second.status is FixStatus.COPIED, [str(s) for s in second.plan.steps]
    assert Path(second.output).read_bytes() == out.read_bytes()


# ---------------------------------------------------------------- images


@st.composite
def images(draw: st.DrawFn) -> tuple[str, tuple[int, int], int | None, int]:
    fmt = draw(st.sampled_from(["JPEG", "PNG", "WEBP"]))
    w, h = draw(st.integers(16, 2400)), draw(st.integers(16, 2400))
    assume(1 / 14 <= w / h <= 14)
    orientation = draw(st.sampled_from([None, 1, 6, 8]))
    return fmt, (w, h), orientation, draw(st.integers(0, 40))


def write_image(
    path: Path, fmt: str, size: tuple[int, int], orientation: int | None, seed: int
) -> Path:
    w, h = size
    im = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 170))
    ImageDraw.Draw(im).rectangle([w // 4, h // 4, w // 2, h // 2], fill=(250, 40, 40))
    if fmt == "PNG" and seed % 2:
        im = im.convert("RGBA")
    kw: dict[str, object] = {"quality": 80} if fmt != "PNG" else {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    im.save(path, fmt, **kw)
    return path


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=SLOW_AND_FILTERED,
)
@given(
    case=images(),
    names=profile_sets,
    as_=st.sampled_from(list(IMAGE_ROLES)),
    aspect=st.sampled_from(["crop", "pad"]),
)
@example(
    case=("PNG", (1200, 100), None, 3), names=["instagram", "threads"], as_="auto", aspect="crop"
)
@example(case=("JPEG", (1000, 1000), 6, 2), names=["feed45", "instagram"], as_="auto", aspect="pad")
@example(
    case=("WEBP", (2400, 300), None, 1),
    names=["small", "square"],
    as_="carousel-item",
    aspect="crop",
)
def test_a_fixed_image_passes_every_profile(case, names, as_, aspect) -> None:
    role = IMAGE_ROLES[as_]
    assume(intersect([NAMES[n] for n in names]).conflict(role) is None)
    fmt, size, orientation, seed = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = write_image(root / f"in.{fmt.lower()}", fmt, size, orientation, seed)
        fix_twice(src, root, options_for(names, as_, aspect), role, names)


# ---------------------------------------------------------------- videos


@st.composite
def clips(draw: st.DrawFn) -> dict:
    if draw(st.booleans()):
        w, h = draw(st.sampled_from([(540, 960), (960, 540), (600, 1000), (720, 1280)]))
    else:
        w, h = draw(st.integers(24, 200)) * 2, draw(st.integers(24, 200)) * 2
    return {
        "width": w,
        "height": h,
        "fps": draw(st.sampled_from([15, 23, 24, 25, 30, 50, 60, 90])),
        "duration": draw(st.floats(3.1, 3.6)),
        "channels": draw(st.sampled_from([1, 2])),
        "audio_rate": draw(st.sampled_from([44_100, 48_000])),
        "container": draw(st.sampled_from(["mp4", "mov"])),
    }


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=SLOW_AND_FILTERED,
)
@given(
    clip=clips(),
    names=profile_sets,
    as_=st.sampled_from(list(VIDEO_ROLES)),
    aspect=st.sampled_from(["crop", "pad"]),
)
@example(
    clip={
        "width": 540,
        "height": 960,
        "fps": 30,
        "duration": 3.2,
        "channels": 1,
        "audio_rate": 44_100,
        "container": "mov",
    },
    names=["instagram", "facebook-reels", "short"],
    as_="auto",
    aspect="crop",
)
@example(
    clip={
        "width": 720,
        "height": 1280,
        "fps": 23,
        "duration": 3.2,
        "channels": 2,
        "audio_rate": 48_000,
        "container": "mp4",
    },
    names=["square", "threads"],
    as_="auto",
    aspect="pad",
)
def test_a_fixed_video_passes_every_profile(clip, names, as_, aspect) -> None:
    role = VIDEO_ROLES[as_]
    assume(intersect([NAMES[n] for n in names]).conflict(role) is None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        container = clip.pop("container")
        name = f"in-{clip['width']}x{clip['height']}.{container}"
        src = make_video(root / name, **clip, container=container)
        fix_twice(src, root, options_for(names, as_, aspect), role, names)

"""Each built-in profile on real media made to sit just inside and just outside every
limit it sets (SPEC 12): a file at the limit passes, one step past it fails with the
limit's rule code, and the finding names the profile.

Media are tiny (Pillow images, ultrafast ffmpeg clips of a few pixels). Limits of
hundreds of megabytes are reached with a sparse `free` box after the clip: a real,
valid MP4 whose size on disk is a few kilobytes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight import check
from igpreflight.model import Finding


def pad_to(path: Path, size: int) -> Path:
    """Append zero bytes to a JPEG (after its end marker: decoders ignore them)."""
    with open(path, "r+b") as fp:
        fp.truncate(size)
    return path


def inflate_mp4(path: Path, size: int) -> Path:
    """Grow an MP4 to `size` bytes with one `free` box at its end, kept sparse."""
    rest = size - path.stat().st_size
    with open(path, "r+b") as fp:
        fp.seek(0, 2)
        fp.write(struct.pack(">I4s", rest, b"free"))
        fp.truncate(size)
    return path


def findings(path: Path, profile: str, as_: str = "auto") -> list[Finding]:
    (report,) = check(path, as_=as_, profile=profile).files
    return report.findings


def rules(path: Path, profile: str, as_: str = "auto") -> dict[str, str | None]:
    """{rule code: the profile(s) its finding names}."""
    return {f.rule: f.profile for f in findings(path, profile, as_)}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles")


def image(media: Path, name: str, size: tuple[int, int], **kw) -> Path:
    return make_image(media / name, size=size, **kw)


def clip(media: Path, name: str, **kw) -> Path:
    kw.setdefault("width", 64)
    kw.setdefault("height", 64)
    kw.setdefault("duration", 3.5)
    return make_video(media / name, **kw)


# ---------------------------------------------------------------- threads: images


def test_threads_image_file_size(media: Path) -> None:
    inside = pad_to(image(media, "t8.jpg", (1080, 1350)), 8_000_000)
    outside = pad_to(image(media, "t8plus.jpg", (1080, 1350)), 8_000_001)
    assert "IMG001" not in rules(inside, "threads")
    assert rules(outside, "threads")["IMG001"] == "threads"


@pytest.mark.parametrize(
    ("size", "fails"),
    [((1000, 100), False), ((1001, 100), True), ((100, 1000), False), ((100, 1001), True)],
)
def test_threads_image_aspect_ratio_is_10_to_1_either_way(media, size, fails) -> None:
    path = image(media, f"ta{size[0]}x{size[1]}.jpg", size)
    found = rules(path, "threads")
    assert ("IMG003" in found) is fails
    assert rules(path, "instagram").get("IMG003", "x") is None  # instagram: 4:5..1.91:1
    if fails:
        message = next(f for f in findings(path, "threads") if f.rule == "IMG003").message
        assert "10:1" in message or "1:10" in message


@pytest.mark.parametrize(
    ("size", "rule", "fails"),
    [
        ((320, 400), "IMG005", False),
        ((319, 400), "IMG005", True),
        ((1440, 1440), "IMG004", False),
        ((1441, 1441), "IMG004", True),
        ((1080, 1920), "IMG004", False),
        ((1080, 1921), "IMG004", True),
    ],
)
def test_threads_image_width_and_long_edge(media, size, rule, fails) -> None:
    path = image(media, f"tw{size[0]}x{size[1]}.jpg", size)
    assert (rule in rules(path, "threads")) is fails


def test_threads_documents_png_so_it_is_no_warning(media: Path) -> None:
    png = image(media, "t.png", (1080, 1350))
    assert "IMG012" not in rules(png, "threads")
    assert "IMG012" in rules(png, "instagram")
    webp = image(media, "t.webp", (1080, 1350))
    assert rules(webp, "threads")["IMG002"] == "threads"
    animated = image(media, "ta.png", (64, 80), frames=2)
    assert rules(animated, "threads")["IMG008"] == "threads"


# ---------------------------------------------------------------- threads: videos


@pytest.mark.parametrize(("fps", "fails"), [(23, False), (22, True), (60, False), (61, True)])
def test_threads_frame_rate(media, fps, fails) -> None:
    path = clip(media, f"tf{fps}.mp4", fps=fps, duration=1.0, acodec=None)
    assert ("VID005" in rules(path, "threads")) is fails


@pytest.mark.parametrize(("width", "fails"), [(1920, False), (1922, True)])
def test_threads_video_width(media, width, fails) -> None:
    path = clip(media, f"tw{width}.mp4", width=width, height=200, duration=1.0, acodec=None)
    assert ("VID006" in rules(path, "threads")) is fails


@pytest.mark.parametrize(
    ("size", "fails"),
    [((200, 20), False), ((202, 20), True), ((2, 200), False), ((2, 202), True)],
)
def test_threads_video_aspect_is_0_01_to_10(media, size, fails) -> None:
    w, h = size
    path = clip(media, f"tv{w}x{h}.mp4", width=w, height=h, duration=1.0, acodec=None)
    assert ("VID007" in rules(path, "threads")) is fails


@pytest.mark.parametrize(("seconds", "fails"), [(300, False), (301, True)])
def test_threads_video_duration_is_up_to_300_s(media, seconds, fails) -> None:
    path = clip(
        media, f"td{seconds}.mp4", width=16, height=16, fps=24, duration=seconds, acodec=None
    )
    assert ("VID008" in rules(path, "threads")) is fails
    assert "VID008" in rules(path, "instagram,threads") or seconds <= 900


def test_threads_takes_clips_shorter_than_instagrams_3_s(media: Path) -> None:
    short = clip(media, "tshort.mp4", duration=1.0)
    assert "VID008" not in rules(short, "threads")
    assert rules(short, "instagram,threads")["VID008"] == "instagram"


@pytest.mark.parametrize(("size", "fails"), [(1_000_000_000, False), (1_000_000_001, True)])
def test_threads_video_file_size_is_1_gb(media, size, fails) -> None:
    path = inflate_mp4(clip(media, f"tb{size}.mp4", duration=1.0, acodec=None), size)
    assert ("VID009" in rules(path, "threads")) is fails
    assert "VID009" in rules(path, "instagram")  # instagram: 300 MB


def test_threads_video_bitrate_is_100_mbps_where_instagrams_is_25(media: Path) -> None:
    noisy = ["-vf", "noise=alls=100:allf=t", "-qp", "0"]
    # Lossless noise: about 46 Mbps at 400x224, 120 Mbps at 640x360 (30 fps).
    high = clip(
        media, "tr46.mp4", width=400, height=224, duration=0.5, acodec=None, extra_args=noisy
    )
    found = rules(high, "instagram,threads,facebook-reels")
    assert found["VID010"] == "instagram,facebook-reels"  # over 25 Mbps, under 100
    higher = clip(
        media, "tr120.mp4", width=640, height=360, duration=0.5, acodec=None, extra_args=noisy
    )
    assert rules(higher, "threads")["VID010"] == "threads"


@pytest.mark.parametrize(
    ("rate", "channels", "rule", "fails"),
    [(48_000, 2, "VID011", False), (96_000, 2, "VID011", True), (48_000, 6, "VID012", True)],
)
def test_threads_audio(media, rate, channels, rule, fails) -> None:
    path = clip(media, f"ta{rate}-{channels}.mp4", duration=1.0, audio_rate=rate, channels=channels)
    assert (rule in rules(path, "threads")) is fails


# ---------------------------------------------------------------- facebook reels


def test_facebook_reels_takes_no_image(media: Path) -> None:
    path = image(media, "fb.jpg", (1080, 1920))
    found = findings(path, "facebook-reels")
    assert [(f.rule, f.profile, f.fixable) for f in found] == [("IMG002", "facebook-reels", False)]
    assert "publishes no images" in found[0].message


@pytest.mark.parametrize(
    ("size", "rule", "fails"),
    [
        ((540, 960), "VID021", False),
        ((960, 540), "VID021", False),
        ((538, 956), "VID021", True),
        ((956, 538), "VID021", True),
        ((538, 960), "VID007", True),  # narrower than 9:16
        ((964, 540), "VID007", True),  # wider than 16:9
    ],
)
def test_facebook_reels_size_and_aspect(media, size, rule, fails) -> None:
    w, h = size
    path = clip(media, f"fs{w}x{h}.mp4", width=w, height=h, duration=3.5, acodec=None)
    found = rules(path, "facebook-reels")
    assert (rule in found) is fails
    assert rule not in rules(path, "instagram")  # instagram has neither limit


@pytest.mark.parametrize(
    ("seconds", "as_", "fails"),
    [
        (3, "reels", False),
        (2.8, "reels", True),
        (90, "reels", False),
        (91, "reels", True),
        (60, "story", False),
        (61, "story", True),
    ],
)
def test_facebook_reels_duration(media, seconds, as_, fails) -> None:
    path = clip(
        media, f"fd{seconds}.mp4", width=18, height=32, fps=24, duration=seconds, acodec=None
    )
    assert ("VID008" in rules(path, "facebook-reels", as_)) is fails


@pytest.mark.parametrize(("fps", "fails"), [(24, False), (23, True)])
def test_facebook_reels_frame_rate_starts_at_24(media, fps, fails) -> None:
    path = clip(media, f"ff{fps}.mp4", width=540, height=960, fps=fps, acodec=None)
    assert ("VID005" in rules(path, "facebook-reels")) is fails
    assert "VID005" not in rules(path, "instagram")


def test_facebook_reels_container_codec_and_audio(media: Path) -> None:
    mov = clip(media, "fm.mov", width=540, height=960)
    assert rules(mov, "facebook-reels")["VID001"] == "facebook-reels"
    assert "VID001" not in rules(mov, "instagram")
    vp9 = clip(media, "fv.mp4", width=540, height=960, vcodec="libvpx-vp9", acodec=None)
    assert "VID002" not in rules(vp9, "facebook-reels") and "VID018" in rules(vp9, "facebook-reels")
    assert rules(vp9, "instagram,facebook-reels")["VID002"] == "instagram"
    mono = clip(media, "fmono.mp4", width=540, height=960, channels=1, audio_rate=44_100)
    found = rules(mono, "facebook-reels")
    assert found["VID012"] == "facebook-reels" and found["VID011"] == "facebook-reels"
    assert not {"VID011", "VID012"} & set(rules(mono, "instagram"))
    stereo = clip(media, "fstereo.mp4", width=540, height=960)
    assert not {"VID011", "VID012", "VID001", "VID021"} & set(rules(stereo, "facebook-reels"))


@pytest.mark.parametrize(("size", "fails"), [(300_000_000, False), (300_000_001, True)])
def test_facebook_reels_file_size(media, size, fails) -> None:
    path = inflate_mp4(clip(media, f"fb{size}.mp4", width=540, height=960, acodec=None), size)
    assert ("VID009" in rules(path, "facebook-reels")) is fails


# ---------------------------------------------------------------- instagram, unchanged


def test_instagram_by_name_is_todays_check(media: Path) -> None:
    """--profile instagram is the default: the same findings, with no profile named."""
    path = image(media, "wide.png", (300, 100))
    default, named = check(path).files[0].findings, findings(path, "instagram")
    assert default == named and all(f.profile is None for f in named)
    assert {f.rule for f in named} >= {"IMG003", "IMG012", "IMG005"}


def test_findings_several_profiles_report_alike_are_one(media: Path) -> None:
    path = image(media, "turned.jpg", (250, 200), orientation=6)
    found = findings(path, "instagram,threads")
    (turned,) = [f for f in found if f.rule == "IMG007"]
    assert turned.profile == "instagram,threads"  # the same words: one finding
    small = [f for f in found if f.rule == "IMG005"]
    assert {f.profile for f in small} == {"instagram", "threads"}  # "Instagram/Threads upscales"


# ---------------------------------------------------------------- posts


def _manifest(tmp: Path, caption: str, items: int = 1, media_type: str = "IMAGE") -> Path:
    names = []
    for i in range(items):
        name = f"p{i}.jpg"
        if not (tmp / name).exists():
            Image.new("RGB", (1080, 1350), "teal").save(tmp / name, quality=70)
        names.append(f'"{name}"')
    body = caption.replace("\\", "\\\\").replace('"', '\\"')
    (tmp / "posts.toml").write_text(
        f'[[post]]\nid = "p"\nmedia_type = "{media_type}"\nmedia = [{", ".join(names)}]\n'
        f'caption = "{body}"\n',
        encoding="utf-8",
    )
    return tmp / "posts.toml"


def post_rules(manifest: Path, profile: str) -> dict[str, str | None]:
    (post,) = check(manifest=manifest, profile=profile).posts
    return {f.rule: f.profile for f in post.findings}


@pytest.mark.parametrize(
    ("caption", "fails"),
    [("x" * 500, False), ("x" * 501, True), ("x" * 496 + "😀", False), ("x" * 497 + "😀", True)],
)
def test_threads_caption_is_500_with_emoji_as_utf8_bytes(tmp_path, caption, fails) -> None:
    found = post_rules(_manifest(tmp_path, caption), "threads")
    assert ("POST001" in found) is fails
    assert "POST001" not in post_rules(_manifest(tmp_path, caption), "instagram")


@pytest.mark.parametrize(("items", "fails"), [(20, False), (21, True)])
def test_threads_carousel_holds_20(tmp_path, items, fails) -> None:
    manifest = _manifest(tmp_path, "", items, "CAROUSEL")
    assert ("POST005" in post_rules(manifest, "threads")) is fails
    assert "POST005" in post_rules(manifest, "instagram")  # 2 to 10


def test_threads_makes_only_the_first_hashtag_a_topic(tmp_path: Path) -> None:
    assert "POST004" not in post_rules(_manifest(tmp_path, "one #topic"), "threads")
    found = post_rules(_manifest(tmp_path, "two #topic #more"), "threads")
    assert found["POST004"] == "threads"
    (post,) = check(manifest=_manifest(tmp_path, "two #topic #more"), profile="threads").posts
    assert "topic tag" in next(f.message for f in post.findings if f.rule == "POST004")

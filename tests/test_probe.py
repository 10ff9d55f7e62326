"""The probe: header-only facts of real files, and Unreadable (never an exception)
for broken ones. Media are generated per test or taken from the shared corpus."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import ImageFacts, Kind, Unreadable, VideoFacts
from igpreflight.preflight.probe import bomb_reason, probe, sniff
from igpreflight.preflight.probe_video import normalise_rotation
from igpreflight.probe_limits import PROBE_LIMITS, ProbeLimits
from tests.corpus import CORPUS
from tests.corpus import corpus_files as all_corpus_files

REPO = Path(__file__).resolve().parents[1]


def image_facts(path) -> ImageFacts:
    facts = probe(path)
    assert isinstance(facts, ImageFacts), facts
    return facts


def video_facts(path) -> VideoFacts:
    facts = probe(path)
    assert isinstance(facts, VideoFacts), facts
    return facts


# ---------------------------------------------------------------- images


def test_plain_jpeg_facts(media_factory):
    path = media_factory.image("plain.jpg", size=(96, 120))
    f = image_facts(path)
    assert (f.format, f.width, f.height, f.mode, f.bits) == ("JPEG", 96, 120, "RGB", 8)
    assert (f.orientation, f.frames, f.has_alpha, f.progressive) == (1, 1, False, False)
    assert (f.icc_name, f.icc_is_srgb, f.colorspace) == (None, None, "RGB")
    assert f.extension == "jpg" and f.kind is Kind.IMAGE
    assert f.bytes == path.stat().st_size
    assert f.path == str(path)


def test_progressive_jpeg(media_factory):
    assert image_facts(media_factory.image("p.jpg", progressive=True)).progressive is True


def test_exif_orientation_6_swaps_the_displayed_size(media_factory):
    f = image_facts(media_factory.image("o6.jpg", size=(160, 90), orientation=6))
    assert (f.width, f.height, f.orientation) == (160, 90, 6)
    assert (f.display_width, f.display_height) == (90, 160)


@pytest.mark.parametrize("ext", ["webp", "png"])
def test_exif_orientation_in_other_formats(media_factory, ext):
    f = image_facts(media_factory.image(f"o.{ext}", size=(64, 32), orientation=8))
    assert f.orientation == 8 and (f.display_width, f.display_height) == (32, 64)


def test_png_exif_chunk_after_the_image_data(media_factory):
    # eXIf may follow IDAT; Pillow only sees it after a decode, the chunk walk before.
    png = media_factory.image("late.png", size=(64, 32)).read_bytes()
    exif = Image.Exif()
    exif[0x0112] = 6
    body = exif.tobytes()[6:]  # without the "Exif\0\0" JPEG prefix
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + body))
    iend = png.rindex(b"IEND") - 4
    f = image_facts(media_factory.write("late-exif.png", png[:iend] + chunk + png[iend:]))
    assert f.orientation == 6 and (f.display_width, f.display_height) == (32, 64)


def test_tiff_orientation_is_applied_by_pillow(media_factory):
    # Pillow gives a TIFF's size already oriented and rotates while loading.
    f = image_facts(media_factory.image("o.tiff", size=(64, 32), orientation=8))
    assert (f.width, f.height, f.orientation) == (32, 64, 1)


def test_avif_orientation_is_left_to_apply(media_factory):
    # Pillow delivers AVIF pixels unrotated and turns irot/imir into an EXIF orientation.
    f = image_facts(media_factory.image("o.avif", size=(160, 90), orientation=6))
    assert (f.format, f.width, f.height, f.orientation) == ("AVIF", 160, 90, 6)
    assert (f.display_width, f.display_height) == (90, 160)


def test_heif_orientation_is_already_applied(media_factory):
    # libheif applies irot/imir while decoding: the size is the displayed size.
    f = image_facts(media_factory.image("o.heic", size=(160, 90), orientation=6))
    assert (f.format, f.width, f.height, f.orientation) == ("HEIF", 90, 160, 1)


@pytest.mark.parametrize(
    ("mode", "alpha"), [("RGBA", True), ("LA", True), ("RGB", False), ("L", False)]
)
def test_png_alpha(media_factory, mode, alpha):
    f = image_facts(media_factory.image(f"a-{mode}.png", mode=mode))
    assert f.has_alpha is alpha and f.format == "PNG"


def test_palette_png_with_transparency_key(media_factory):
    path = media_factory.path("key.png")
    Image.new("P", (32, 32), 0).save(path, transparency=0)
    f = image_facts(path)
    assert (f.mode, f.has_alpha, f.bits) == ("P", True, 8)


@pytest.mark.parametrize(("mode", "pillow_mode"), [("RGB", "RGB"), ("RGBA", "RGBA"), ("L", "I;16")])
def test_sixteen_bit_png(media_factory, mode, pillow_mode):
    f = image_facts(media_factory.image(f"16-{mode}.png", mode=mode, bits=16))
    assert f.bits == 16 and f.mode == pillow_mode


def test_sixteen_bit_tiff(media_factory):
    f = image_facts(media_factory.image("16.tif", mode="L", bits=16))
    assert (f.format, f.bits, f.colorspace) == ("TIFF", 16, "GRAY")


@pytest.mark.parametrize(("mode", "space"), [("CMYK", "CMYK"), ("L", "GRAY"), ("RGB", "RGB")])
def test_jpeg_colorspace(media_factory, mode, space):
    f = image_facts(media_factory.image(f"c-{mode}.jpg", mode=mode))
    assert f.colorspace == space and f.mode == mode


@pytest.mark.parametrize(
    ("icc", "name", "is_srgb"),
    [
        ("srgb", "sRGB built-in", True),
        ("srgb-compact", "c2", True),  # named "c2", recognised by its colorants
        ("display-p3", "Display P3", False),
        ("adobe-rgb", "Adobe RGB (1998)", False),
    ],
)
def test_icc_profile(media_factory, icc, name, is_srgb):
    f = image_facts(media_factory.image("icc.jpg", icc=icc))
    assert (f.icc_name, f.icc_is_srgb) == (name, is_srgb)


@pytest.mark.parametrize(("ext", "frames"), [("gif", 3), ("webp", 4), ("png", 3)])
def test_animations_have_frames(media_factory, ext, frames):
    f = image_facts(media_factory.image(f"anim.{ext}", frames=frames))
    if ext == "gif":
        assert f.frames >= 2  # GIF: 2 means "more than one" (frames are not walked)
    else:
        assert f.frames == frames


@pytest.mark.parametrize("ext", ["gif", "webp", "png", "avif"])
def test_stills_have_one_frame(media_factory, ext):
    assert image_facts(media_factory.image(f"still.{ext}")).frames == 1


@pytest.mark.parametrize(
    ("ext", "fmt"),
    # TGA and the netpbm family carry no magic we sniff: their names send them to Pillow
    [("jp2", "JPEG2000"), ("qoi", "QOI"), ("tga", "TGA"), ("ppm", "PPM"), ("pgm", "PPM")],
)
def test_other_pillow_formats(media_factory, ext, fmt):
    path = media_factory.path(f"x.{ext}")
    Image.new("RGB", (48, 32), (200, 10, 10)).save(path)
    f = image_facts(path)
    assert (f.format, f.width, f.height) == (fmt, 48, 32)


def test_a_name_without_the_content_is_still_unreadable(media_factory):
    path = media_factory.path("notes.ppm")
    path.write_text("not a picture\n")
    assert isinstance(probe(path), Unreadable)


def test_content_decides_the_format_not_the_extension(media_factory):
    f = image_facts(media_factory.image("really-a-png.JPG", fmt="PNG"))
    assert (f.format, f.extension) == ("PNG", "jpg")
    v = video_facts(media_factory.video("clip.jpg", container="mp4"))
    assert (v.container, v.extension) == ("MPEG-4", "jpg")


def test_probe_never_decodes_pixels(media_factory, monkeypatch):
    """Count every pixel load and decoder Pillow could use: there must be none."""
    paths = [
        media_factory.image("big.jpg", size=(600, 400), orientation=6),
        media_factory.image("p.png", mode="RGBA", icc="display-p3"),
        media_factory.image("a.gif", frames=3),
        media_factory.image("w.webp", frames=2),
        media_factory.image("t.tiff"),
        media_factory.image("x.avif"),
        media_factory.image("h.heic"),
    ]
    calls: list[str] = []
    Image.init()
    classes: set[type] = set()
    todo: list[type] = [Image.Image]
    while todo:  # every image class Pillow and pillow-heif define
        cls = todo.pop()
        if cls not in classes:
            classes.add(cls)
            todo.extend(cls.__subclasses__())

    def counting(orig, name):
        def load(self, *a, **k):
            calls.append(name)
            return orig(self, *a, **k)

        return load

    for cls in classes:
        if "load" in vars(cls):
            monkeypatch.setattr(cls, "load", counting(vars(cls)["load"], cls.__name__))
    original_decoder = Image._getdecoder

    def counting_decoder(*a, **k):
        calls.append("decoder")
        return original_decoder(*a, **k)

    monkeypatch.setattr(Image, "_getdecoder", counting_decoder)
    for path in paths:
        image_facts(path)
    assert calls == []
    # The instrumentation is live: an explicit load is counted.
    with Image.open(paths[0]) as im:
        im.load()
    assert calls


def test_huge_images_probe_within_a_small_memory_budget(corpus_dir):
    """280 MP JPEG, 200 MP HEIC and 144 MP WebP: decoding any would need 280-600 MB."""
    files = [
        corpus_dir / "sharp" / "giant-image.jpg",
        corpus_dir / "pillow_heif" / "200MP.heic",
        corpus_dir / "androidx-media" / "black_large.webp",
    ]
    code = (
        "import json, resource, sys\n"
        "from igpreflight.preflight.probe import probe\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "out = [type(probe(p)).__name__ for p in sys.argv[1:]]\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'kinds': out, 'grew_kb': after - before}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["kinds"] == ["ImageFacts"] * 3
    assert result["grew_kb"] < 100_000  # far below one decoded frame of any of them


# ---------------------------------------------------------------- bombs


def test_bomb_policy_values():
    assert bomb_reason(65535, 66601, 44, "GIF")
    assert bomb_reason(65536, 65536, 521_990, "PNG")  # over the cap
    assert bomb_reason(11330, 446, 26, "WEBP")  # 26 bytes cannot hold 5 MP
    assert bomb_reason(20000, 14000, 1_093_910, "JPEG") is None
    assert bomb_reason(16000, 9000, 256_318, "WEBP") is None
    assert bomb_reason(12240, 16320, 2_407_522, "HEIF") is None
    assert bomb_reason(6000, 4000, 2_000_000, "JPEG") is None


def test_bomb_policy_reads_its_limits():
    strict = ProbeLimits(max_pixels=1000)
    assert bomb_reason(40, 40, 10_000, "JPEG", strict)
    assert bomb_reason(40, 40, 10_000, "JPEG", PROBE_LIMITS) is None
    generous = ProbeLimits(max_pixels_per_byte=(("JPEG", 10**9),))
    assert bomb_reason(10000, 10000, 10, "JPEG", generous) is None


# ---------------------------------------------------------------- videos


def test_h264_aac_mp4_facts(media_factory):
    f = video_facts(
        media_factory.video("a.mp4", width=320, height=240, fps=30, duration=2.0, channels=2)
    )
    assert (f.container, f.video_codec, f.width, f.height) == ("MPEG-4", "AVC", 320, 240)
    assert f.fps == pytest.approx(30.0)
    assert f.duration == pytest.approx(2.0, abs=0.1)
    assert (f.is_streamable, f.has_edit_list, f.rotation, f.sar) == (True, False, 0, 1.0)
    assert (f.scan_type, f.frame_rate_mode, f.chroma, f.bit_depth) == (
        "Progressive",
        "CFR",
        "4:2:0",
        8,
    )
    assert (f.audio_codec, f.audio_profile, f.audio_sample_rate, f.audio_channels) == (
        "AAC",
        "LC",
        48000,
        2,
    )
    assert f.video_bitrate and f.video_bitrate > 0
    assert f.audio_bitrate and f.audio_bitrate > 0
    assert f.has_video and f.has_audio and f.kind is Kind.VIDEO
    assert f.video_profile and f.video_profile.startswith("Constrained Baseline")


def test_moov_at_end_is_not_streamable(media_factory):
    assert video_facts(media_factory.video("late.mp4", faststart=False)).is_streamable is False


@pytest.mark.parametrize(("rotation", "swapped"), [(90, True), (180, False), (270, True)])
def test_rotation_and_displayed_size(media_factory, rotation, swapped):
    f = video_facts(media_factory.video("r.mp4", width=160, height=96, rotation=rotation))
    assert (f.width, f.height, f.rotation) == (160, 96, rotation)
    assert (f.display_width, f.display_height) == ((96, 160) if swapped else (160, 96))


def test_interlaced_h264(media_factory):
    f = video_facts(media_factory.video("i.mp4", width=320, height=240, interlaced=True))
    assert f.scan_type in ("Interlaced", "MBAFF")


@pytest.mark.parametrize(
    ("pix_fmt", "chroma", "depth"),
    [("yuv422p", "4:2:2", 8), ("yuv444p", "4:4:4", 8), ("yuv420p10le", "4:2:0", 10)],
)
def test_chroma_and_bit_depth(media_factory, pix_fmt, chroma, depth):
    f = video_facts(media_factory.video("c.mp4", pix_fmt=pix_fmt, acodec=None))
    assert (f.chroma, f.bit_depth, f.has_audio) == (chroma, depth, False)


def test_audio_rate_and_channels(media_factory):
    f = video_facts(media_factory.video("m.mp4", audio_rate=44100, channels=1))
    assert (f.audio_sample_rate, f.audio_channels) == (44100, 1)


def test_high_frame_rate(media_factory):
    assert video_facts(media_factory.video("f.mp4", fps=120, acodec=None)).fps == pytest.approx(120)


def test_variable_frame_rate(media_factory):
    # 30 fps for a second, then every third frame: durations of 33 and 100 ms.
    vfr = ["-vf", r"select=lt(n\,30)+not(mod(n\,3))", "-fps_mode", "vfr"]
    f = video_facts(media_factory.video("v.mp4", duration=3.0, acodec=None, extra_args=vfr))
    assert f.frame_rate_mode == "VFR"


def test_millisecond_timestamps_remuxed_to_mp4_are_constant_rate(media_factory):
    # Matroska stores 30 fps as 33/34 ms frames; MediaInfo calls the MP4 remux VFR.
    mkv = media_factory.video("ms.mkv", duration=2.0)
    mp4 = media_factory.path("ms.mp4")
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(mkv), "-c", "copy", str(mp4)],
        check=True,
        timeout=60,
    )
    assert video_facts(mp4).frame_rate_mode == "CFR"


def test_mov_is_quicktime(media_factory):
    assert video_facts(media_factory.video("q.mov")).container == "QuickTime"


def test_webm_vp9_opus(media_factory):
    f = video_facts(media_factory.video("w.webm", vcodec="libvpx-vp9", acodec="libopus"))
    assert (f.container, f.video_codec, f.audio_codec, f.is_streamable) == (
        "WebM",
        "VP9",
        "Opus",
        None,  # only ISO-BMFF files have a moov to be in front
    )


def test_hevc(media_factory):
    f = video_facts(media_factory.video("h.mp4", vcodec="libx265", acodec=None))
    assert f.video_codec == "HEVC"


def test_audio_only_files_are_videofacts_without_video(media_factory):
    m4a = video_facts(media_factory.video("a.m4a", vcodec=None, container="mp4"))
    assert (m4a.has_video, m4a.has_audio, m4a.audio_codec, m4a.width) == (False, True, "AAC", None)
    flac = video_facts(media_factory.video("a.flac", vcodec=None, acodec="flac"))
    assert (flac.container, flac.has_video, flac.audio_codec) == ("FLAC", False, "FLAC")


def test_ffmpeg_bframe_edit_list_is_harmless(media_factory):
    # B-frames make ffmpeg write a one-entry elst that skips the reordering delay.
    path = media_factory.video("b.mp4", width=160, height=96, duration=2.0, extra_args=["-bf", "2"])
    from igpreflight.preflight.isobmff import movie_layout

    with open(path, "rb") as fh:
        video_track = next(t for t in movie_layout(fh).tracks if t.handler == "vide")
    assert video_track.edits and video_track.edits[0].media_time > 0  # the list is there
    assert video_facts(path).has_edit_list is False


def test_a_cut_made_by_stream_copy_is_an_edit_list(media_factory):
    src = media_factory.video(
        "long.mp4", width=160, height=96, duration=4.0, extra_args=["-g", "120"]
    )
    cut = media_factory.path("cut.mp4")
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-ss",
            "1.5",
            "-i",
            str(src),
            "-c",
            "copy",
            str(cut),
        ],
        check=True,
        timeout=60,
    )
    assert video_facts(cut).has_edit_list is True


def test_truncated_mp4s(media_factory):
    front = media_factory.video("front.mp4", duration=2.0)
    back = media_factory.video("back.mp4", duration=2.0, faststart=False)
    cut_front = probe(media_factory.truncated(front, "front-cut.mp4", 0.5))
    cut_back = probe(media_factory.truncated(back, "back-cut.mp4", 0.5))
    assert isinstance(cut_front, Unreadable) and "truncated" in cut_front.reason
    assert isinstance(cut_back, Unreadable) and "moov" in cut_back.reason
    # Ten bytes short: the last sample is incomplete although every chunk starts in the file.
    short = probe(media_factory.write("short.mp4", front.read_bytes()[:-10]))
    assert isinstance(short, Unreadable) and "truncated" in short.reason
    # Untouched files end exactly where their last sample does.
    assert isinstance(probe(front), VideoFacts) and isinstance(probe(back), VideoFacts)


@pytest.mark.parametrize(
    ("name", "codecs", "word"),
    [
        ("c.webm", {"vcodec": "libvpx-vp9", "acodec": "libopus"}, "Matroska"),
        ("c.mkv", {}, "Matroska"),
        ("c.avi", {"vcodec": "mpeg4", "acodec": "libmp3lame"}, "AVI"),
    ],
)
def test_truncated_matroska_and_avi(media_factory, name, codecs, word):
    whole = media_factory.video(name, **codecs)
    assert isinstance(probe(whole), VideoFacts)
    cut = probe(media_factory.truncated(whole, "cut-" + name, 0.7))
    assert isinstance(cut, Unreadable) and cut.reason.startswith(f"truncated {word}")


def test_gif_with_data_after_the_image_is_fine_but_cut_gif_is_not(media_factory):
    gif = media_factory.image("a.gif", frames=2).read_bytes()
    padded = probe(media_factory.write("padded.gif", gif + b"\0" * 100))
    cut = probe(media_factory.write("cut.gif", gif[:-2]))
    assert isinstance(padded, ImageFacts)
    assert isinstance(cut, Unreadable) and "truncated GIF" in cut.reason


def test_jpeg_with_appended_data_is_not_truncated(media_factory):
    jpeg = media_factory.image("a.jpg").read_bytes()
    appended = probe(media_factory.write("appended.jpg", jpeg + bytes(range(256)) * 400))
    assert isinstance(appended, ImageFacts)  # 100 KB after EOI: the full scan finds it


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90.000", 90),
        ("-90", 270),
        ("270.000", 270),
        ("180", 180),
        ("-180.000", 180),
        (None, 0),
        ("0.000", 0),
        ("359.9", 0),
    ],
)
def test_normalise_rotation(value, expected):
    assert normalise_rotation(value) == expected


# ---------------------------------------------------------------- unreadable


def test_zero_bytes(media_factory):
    f = probe(media_factory.write("empty.jpg", b""))
    assert isinstance(f, Unreadable) and f.reason == "zero bytes" and f.kind is Kind.UNKNOWN


def test_text_and_random_bytes(media_factory):
    text = probe(media_factory.write("notes.png", b"hello, this is text\n" * 20))
    noise = probe(media_factory.write("noise.mp4", random.Random(7).randbytes(4096)))
    for f in (text, noise):
        assert isinstance(f, Unreadable) and f.reason == "not a media file"
        assert "\n" not in f.reason


def test_other_kinds_of_file_are_named(media_factory):
    path = media_factory.path("photos.zip")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.txt", "hello" * 100)
    f = probe(path)
    assert isinstance(f, Unreadable) and f.reason == "a ZIP file, not an image or a video"


@pytest.mark.parametrize("ext", ["jpg", "png", "gif", "webp", "heic"])
def test_truncated_images(media_factory, ext):
    full = media_factory.image(f"full.{ext}", size=(200, 160), frames=3 if ext == "gif" else 1)
    f = probe(media_factory.truncated(full, f"cut.{ext}", 0.5))
    assert isinstance(f, Unreadable), f
    assert "truncated" in f.reason and "\n" not in f.reason
    assert f.bytes == media_factory.path(f"cut.{ext}").stat().st_size


def test_corrupt_jpeg_header(media_factory):
    good = media_factory.image("good.jpg").read_bytes()
    # A segment length that runs past the end, then garbage where a marker should be.
    overlong = probe(media_factory.write("long.jpg", b"\xff\xd8\xff\xe0\xff\xf0" + good[6:]))
    garbage = probe(media_factory.write("bad.jpg", good[:20] + b"\x00" * 40 + good[60:]))
    for f in (overlong, garbage):
        assert isinstance(f, Unreadable) and "JPEG" in f.reason


def test_missing_file_and_folder(media_factory):
    assert isinstance(probe(media_factory.path("nope.jpg")), Unreadable)
    assert isinstance(probe(media_factory.root), Unreadable)


def test_sniff():
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n") == "png"
    assert sniff(b"\x00\x00\x00\x18ftypheic") == "heif"
    assert sniff(b"\x00\x00\x00\x18ftypisom") == "iso"
    assert sniff(b"") == ""


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["with space.jpg", "café ünïcode ✓.jpg", "-leading-dash.jpg"])
def test_awkward_image_names(media_factory, monkeypatch, name):
    media_factory.image(name)
    monkeypatch.chdir(media_factory.root)
    f = image_facts(name)  # relative, so a leading dash reaches the probe as given
    assert f.path == name and f.format == "JPEG"


@pytest.mark.parametrize("name", ["with space.mp4", "vidéo ✓.mp4", "-dash.mp4"])
def test_awkward_video_names(media_factory, monkeypatch, name):
    media_factory.video(name)
    monkeypatch.chdir(media_factory.root)
    f = video_facts(name)
    assert f.path == name and f.video_codec == "AVC"


# ---------------------------------------------------------------- the corpus

BROKEN = {
    "Pillow/truncated_jpeg.jpg": "truncated",
    "Pillow/truncated_image.png": "truncated",
    "Pillow/broken.png": "corrupt",
    "Pillow/decompression_bomb.gif": "bomb",
    "sharp/65536-uint32-limit.png": "bomb",
    "sharp/truncated.jpg": "truncated",
    "sharp/corrupt-header.jpg": "JPEG",
    "pillow_heif/truncated.heic": "truncated",
    "pillow_heif/corrupted.heic": "corrupt",
    "small/png-truncated.png": "truncated",
    "small/webp.webp": "cannot hold",
}

LEGIT_GIANTS = {
    "sharp/giant-image.jpg": (20000, 14000),
    "pillow_heif/200MP.heic": (12240, 16320),
    "androidx-media/black_large.webp": (16000, 9000),
}


def corpus_files() -> list[str]:
    return [str(p.relative_to(CORPUS)) for p in all_corpus_files()]


@pytest.mark.parametrize("rel", corpus_files() or ["(no corpus)"])
def test_every_corpus_file_probes_without_raising(corpus_dir, rel):
    facts = probe(corpus_dir / rel)
    assert isinstance(facts, (ImageFacts, VideoFacts, Unreadable))
    if rel in BROKEN:
        assert isinstance(facts, Unreadable), facts
        assert BROKEN[rel] in facts.reason
    else:
        assert not isinstance(facts, Unreadable), facts.reason
    if isinstance(facts, Unreadable):
        assert facts.reason and "\n" not in facts.reason and len(facts.reason) < 200


@pytest.mark.parametrize(("rel", "size"), sorted(LEGIT_GIANTS.items()))
def test_huge_but_legitimate_images(corpus_dir, rel, size):
    f = image_facts(corpus_dir / rel)
    assert (f.width, f.height) == size


CORPUS_FACTS = {
    # file: expected facts (a subset), as MANIFEST.md describes them
    "exif-orientation-examples/Landscape_6.jpg": {"orientation": 6, "width": 1200, "height": 1800},
    "libavif/paris_exif_orientation_5.jpg": {"orientation": 5},
    "Pillow/hopper_orientation_6.webp": {"orientation": 6},
    "Pillow/exif_imagemagick_orientation.png": {"orientation": 3},
    "Pillow/rot1mir0.avif": {"orientation": 5},
    "av1-avif/Ronda_rotate90.avif": {"display_width": 1080, "display_height": 1920},
    "Pillow/pil_sample_cmyk.jpg": {"mode": "CMYK", "icc_name": None},
    "sharp/Channel_digital_image_CMYK_color.jpg": {"mode": "CMYK", "icc_is_srgb": False},
    "Pillow/xmp_test.jpg": {"icc_name": "Adobe RGB (1998)", "icc_is_srgb": False},
    "sharp/p3.png": {"icc_name": "Display P3", "icc_is_srgb": False},
    "sharp/prophoto.png": {"icc_is_srgb": False},
    "androidx-media/london.jpg": {"progressive": True, "icc_is_srgb": True},
    "libavif/apple_gainmap_new.jpg": {"format": "JPEG", "frames": 1, "icc_is_srgb": False},
    "sharp/gain-map.jpg": {"format": "JPEG", "frames": 1},
    "Pillow/frozenpond.mpo": {"format": "MPO", "frames": 2},
    "Pillow/chi.gif": {"has_alpha": True},
    "Pillow/iss634.webp": {"frames": 42},
    "Pillow/delay.png": {"frames": 5},
    "Pillow/star.avifs": {"frames": 5},
    "Pillow/tiff_16bit_RGB.tiff": {"bits": 16},
    "libpng/ibasn6a16.png": {"bits": 16, "has_alpha": True},
    "Pillow/i_trns.png": {"bits": 16, "has_alpha": True},
    "libpng/ftbwn3p08.png": {"mode": "P", "has_alpha": True},
    "pillow_heif/RGBA_10__128x128.heif": {"bits": 10, "has_alpha": True},
    "av1-avif/fox.profile0.10bpc.yuv420.avif": {"bits": 10},
    "pillow_heif/arrow.heic": {"width": 3024, "height": 4032, "icc_name": "Display P3"},
    "androidx-media/pixel-motion-photo-shortened.jpg": {"orientation": 6},
    "Pillow/hopper.bmp": {"format": "BMP"},
    "Pillow/hopper_gray.jpg": {"colorspace": "GRAY"},
    # videos
    "androidx-media/sample_edit_list.mp4": {
        "has_edit_list": True,
        "rotation": 90,
        "frame_rate_mode": "VFR",
        "bit_depth": 10,
    },
    "androidx-media/sample.mp4": {"has_edit_list": False, "is_streamable": True},
    "androidx-media/sample_portrait.mp4": {"is_streamable": False},
    "androidx-media/portrait_4k60.mp4": {
        "rotation": 90,
        "display_width": 2160,
        "frame_rate_mode": "VFR",
    },
    "androidx-media/sample_android_slow_motion.mp4": {"video_codec": "AVC"},
    "androidx-media/bbb_800x640_768kbps_30fps_vp9.mp4": {
        "video_codec": "VP9",
        "display_width": 1138,
    },
    "androidx-media/bbb_960x540_60fps_vp8.webm": {"audio_codec": "Vorbis", "audio_channels": 6},
    "androidx-media/sample.mkv": {"container": "Matroska", "audio_codec": "AC-3"},
    "androidx-media/sample_h262_mpeg_audio.ts": {"video_codec": "MPEG Video"},
    "androidx-media/sample_opus.mp4": {
        "has_video": False,
        "audio_codec": "Opus",
        "audio_channels": 2,  # from the MP4 sample entry: MediaInfo has no count
        "has_edit_list": True,  # skips 0.46 s of a 1.46 s track
    },
    "androidx-media/sowt-with-video.mov": {
        "container": "QuickTime",
        "fps": 50.0,
        "audio_codec": "PCM",
    },
    "androidx-media/8k24fps_300ms.mp4": {"video_codec": "HEVC", "width": 7680},
    "androidx-media/long_1080p_lowbitrate.mp4": {"duration": 362.767},
    "pymediainfo/sample.mp4": {"fps": 23.976},
    "interlace-detection-test-patterns/bt601-525_480_interlaced_bff.ts": {
        "scan_type": "Interlaced"
    },
    "flac-test-files/28 - high resolution audio, default settings.flac": {
        "has_video": False,
        "audio_sample_rate": 96000,
    },
    "small/Mpeg4.mp4": {"has_video": False, "has_audio": False},
    "test-media/video_rotation_90.mp4": {"rotation": 90},
}


@pytest.mark.parametrize(("rel", "expected"), sorted(CORPUS_FACTS.items()))
def test_corpus_facts(corpus_dir, rel, expected):
    facts = probe(corpus_dir / rel)
    assert not isinstance(facts, Unreadable), facts.reason
    got = {key: getattr(facts, key) for key in expected}
    assert got == expected


# ---------------------------------------------------------------- hostile bytes


@pytest.mark.parametrize("seed", range(4))
def test_mutated_files_never_raise(media_factory, sample_media, seed):
    """Flipped, zeroed and cut bytes in every sample: facts or a one-line reason."""
    rng = random.Random(seed)
    sources = sorted(
        p for p in sample_media.iterdir() if p.suffix != ".toml" and p.stat().st_size > 0
    )
    for i in range(40):
        src = rng.choice(sources)
        data = bytearray(src.read_bytes())
        op = rng.choice(["flip", "cut", "zero", "head"])
        if op == "flip":
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(min(len(data), 4096))] = rng.randrange(256)
        elif op == "cut":
            data = data[: rng.randrange(1, len(data))]
        elif op == "zero":
            at = rng.randrange(len(data))
            data[at : at + 64] = bytes(len(data[at : at + 64]))
        else:
            data = data[: rng.randint(1, 200)]
        facts = probe(media_factory.write(f"m{i}{src.suffix}", bytes(data)))
        assert isinstance(facts, (ImageFacts, VideoFacts, Unreadable))
        if isinstance(facts, Unreadable):
            assert facts.reason and "\n" not in facts.reason


def test_a_remembered_probe_answers_an_unchanged_file_and_reprobes_a_changed_one(tmp_path):
    """The service probes a stored upload once (`probe.remembering`): the same facts
    while the file is unchanged, fresh ones once it changes; nothing is remembered
    outside it."""
    from fixtures.generate import make_image
    from igpreflight.preflight.probe import ProbeMemo, remembering

    photo = make_image(tmp_path / "p.jpg", size=(1080, 1350))
    memo = ProbeMemo()
    with remembering(memo):
        first = probe(photo)
        assert probe(photo) is first and len(memo) == 1
        assert probe(str(photo) + "").path == first.path
        make_image(tmp_path / "p.jpg", size=(1080, 1080))  # rewritten: size and inode change
        second = probe(photo)
        assert second is not first and (second.width, second.height) == (1080, 1080)
    assert probe(photo) is not probe(photo)

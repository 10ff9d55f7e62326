"""One test per image fix step, on generated files: each asserts the property the
step exists for, on the real output (re-opened with Pillow, re-probed, re-checked)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from fixtures.generate import make_icc_profile, make_image
from igpreflight.limits import IMAGE_FIX, IMAGE_LIMITS, ImageFixTargets
from igpreflight.model import Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.fmt import exact
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.image import FixError, encode_jpeg
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus
from tests.corpus import CORPUS, needs_corpus

REPO = Path(__file__).resolve().parents[1]
FEED = IMAGE_LIMITS[Role.FEED_IMAGE]


def fix_one(src: Path, out: Path, **opts) -> FileFixResult:
    (result,) = fix_paths([src], out, FixOptions(**opts))
    return result


def output_of(result: FileFixResult) -> Path:
    assert result.ok, result.reason
    assert result.output is not None
    return Path(result.output)


def errors_of(path: Path, role: Role = Role.FEED_IMAGE) -> list[str]:
    return [f.rule for f in check_facts(probe(path), role) if f.severity is Severity.ERROR]


def rule_codes(path: Path, role: Role = Role.FEED_IMAGE) -> set[str]:
    return {f.rule for f in check_facts(probe(path), role)}


def centre_pixel(path: Path) -> tuple[int, ...]:
    with Image.open(path) as im:
        rgb = im.convert("RGB")
        return rgb.getpixel((rgb.width // 2, rgb.height // 2))


def close(a, b, delta: int) -> bool:
    return all(abs(x - y) <= delta for x, y in zip(a, b, strict=True))


def save(im: Image.Image, path: Path, fmt: str, **kw) -> Path:
    im.save(path, fmt, **kw)
    return path


# ---------------------------------------------------------------- aspect


@pytest.mark.parametrize("size", [(2000, 500), (300, 1500)])
def test_crop_brings_the_ratio_into_range(tmp_path, size):
    src = make_image(tmp_path / "in.png", size=size)
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        ratio = Fraction(*im.size)
        # The long side of the source is what gets cropped; the other is kept.
        assert exact(FEED.min_aspect) <= ratio <= exact(FEED.max_aspect)
        assert min(im.size) == min(size)
    assert "IMG003" not in rule_codes(out)


def test_crop_is_centred(tmp_path):
    im = Image.new("RGB", (1200, 400), (255, 0, 0))
    im.paste((0, 0, 255), (400, 0, 800, 400))  # a blue centre third
    src = save(im, tmp_path / "wide.png", "PNG")
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as fixed:
        w, h = fixed.size
        # 1200x400 (3:1) keeps a centred 764x400 region: blue in the middle, red edges.
        assert close(fixed.getpixel((w // 2, h // 2)), (0, 0, 255), 8)
        assert close(fixed.getpixel((2, h // 2)), (255, 0, 0), 8)
        assert close(fixed.getpixel((w - 3, h // 2)), (255, 0, 0), 8)


def test_pad_with_a_colour_keeps_the_whole_image(tmp_path):
    src = save(Image.new("RGB", (1000, 200), (0, 128, 0)), tmp_path / "strip.png", "PNG")
    out = output_of(fix_one(src, tmp_path / "out", aspect="pad", pad_color="#ff0000"))
    with Image.open(out) as im:
        w, h = im.size
        assert exact(FEED.min_aspect) <= Fraction(w, h) <= exact(FEED.max_aspect)
        assert w == 1000  # nothing cropped: the width stays, the height grows
        assert close(im.getpixel((w // 2, 2)), (255, 0, 0), 8)  # padding
        assert close(im.getpixel((w // 2, h // 2)), (0, 128, 0), 8)  # the image


def test_pad_with_blur_fills_with_the_image_colours(tmp_path):
    src = save(Image.new("RGB", (300, 1200), (30, 60, 200)), tmp_path / "tall.png", "PNG")
    out = output_of(fix_one(src, tmp_path / "out", aspect="pad", pad_color="blur"))
    with Image.open(out) as im:
        w, h = im.size
        assert Fraction(w, h) >= exact(FEED.min_aspect)
        assert h == 1200
        # The side bars are a blurred copy of the (blue) image, not white or black.
        assert close(im.getpixel((2, h // 2)), (30, 60, 200), 12)


# ---------------------------------------------------------------- mode, alpha, frames


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "1", "CMYK"])
def test_output_is_8_bit_rgb_or_grey(tmp_path, mode):
    fmt, ext = ("JPEG", "jpg") if mode == "CMYK" else ("PNG", "png")
    src = make_image(tmp_path / f"in.{ext}", size=(400, 400), mode=mode, fmt=fmt)
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert im.mode in ("RGB", "L")
    assert errors_of(out) == []


def test_alpha_is_flattened_onto_the_background(tmp_path):
    im = Image.new("RGBA", (400, 400), (255, 0, 0, 0))  # fully transparent red
    im.paste((0, 0, 255, 255), (0, 0, 200, 400))  # opaque blue left half
    src = save(im, tmp_path / "alpha.png", "PNG")
    out = output_of(fix_one(src, tmp_path / "out", background="#00ff00"))
    with Image.open(out) as fixed:
        assert fixed.mode == "RGB"
        assert close(fixed.getpixel((300, 200)), (0, 255, 0), 8)  # transparent -> background
        assert close(fixed.getpixel((100, 200)), (0, 0, 255), 8)  # opaque stays
    assert "IMG009" not in rule_codes(out)


def test_first_frame_of_an_animation(tmp_path):
    frames = [Image.new("RGB", (400, 400), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    src = tmp_path / "anim.gif"
    frames[0].save(src, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = fix_one(src, tmp_path / "out")
    out = output_of(result)
    assert close(centre_pixel(out), (255, 0, 0), 10)
    assert "first-frame" in [s.name for s in result.plan.steps]
    with Image.open(out) as im:
        assert getattr(im, "n_frames", 1) == 1
    assert "IMG008" not in rule_codes(out)


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", [3, 5, 6, 8])
def test_orientation_is_baked_and_the_tag_removed(tmp_path, orientation):
    src = make_image(tmp_path / "in.jpg", size=(600, 500), orientation=orientation)
    with Image.open(src) as original:
        expected = ImageOps.exif_transpose(original).convert("RGB")
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.size == expected.size
        assert im.getexif().get(0x0112) in (None, 1)
        # Same picture the right way up: sample a few points of the test card.
        for fx, fy in ((0.5, 0.05), (0.25, 0.5), (0.5, 0.5), (0.9, 0.9)):
            x, y = int(im.width * fx), int(im.height * fy)
            assert close(im.convert("RGB").getpixel((x, y)), expected.getpixel((x, y)), 40)
    assert "IMG007" not in rule_codes(out)


@pytest.mark.parametrize("mode", ["RGB", "CMYK", "L"])
@pytest.mark.parametrize("orientation", [3, 6])
def test_tiff_orientation_gives_the_right_picture(tmp_path, mode, orientation):
    # Pillow mis-decodes TIFF orientation 5-8 outside RGB; the fixer rotates itself.
    base = Image.new("RGB", (600, 500), (0, 0, 0))
    base.paste((255, 255, 255), (0, 0, 100, 100))  # a white top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = save(base.convert(mode), tmp_path / "in.tif", "TIFF", exif=exif.tobytes())
    tagged = base.copy()
    tagged.getexif()[0x0112] = orientation
    expected = ImageOps.exif_transpose(tagged).convert("L")
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.size == expected.size
        white = im.convert("L").point(lambda v: 255 if v > 128 else 0).getbbox()
        assert white == expected.point(lambda v: 255 if v > 128 else 0).getbbox()


def test_keep_metadata_keeps_exif_but_not_the_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x013B] = "Ana Photographer"  # Artist
    src = save(make_image_rgb((600, 400)), tmp_path / "in.jpg", "JPEG", exif=exif.tobytes())
    kept = output_of(fix_one(src, tmp_path / "kept", keep_metadata=True))
    with Image.open(kept) as im:
        tags = im.getexif()
        assert tags.get(0x013B) == "Ana Photographer"
        assert tags.get(0x0112) in (None, 1)
    stripped = output_of(fix_one(src, tmp_path / "stripped"))
    with Image.open(stripped) as im:
        assert 0x013B not in im.getexif()
        assert "exif" not in im.info or not im.getexif()


def make_image_rgb(size):
    im = Image.new("RGB", size, (90, 140, 200))
    im.paste((250, 250, 20), (0, 0, size[0] // 4, size[1] // 4))
    return im


# ---------------------------------------------------------------- colour


def _encode_in(profile: bytes, srgb_rgb: tuple[int, int, int], mode: str = "RGB") -> Image.Image:
    """A patch whose pixels are `srgb_rgb` expressed in `profile`'s space."""
    patch = Image.new("RGB", (400, 400), srgb_rgb)
    target = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    intent = ImageCms.Intent.PERCEPTUAL if mode == "CMYK" else ImageCms.Intent.RELATIVE_COLORIMETRIC
    return ImageCms.profileToProfile(patch, srgb, target, renderingIntent=intent, outputMode=mode)


@pytest.mark.parametrize("space", ["display-p3", "adobe-rgb"])
def test_wide_gamut_is_converted_to_srgb(tmp_path, space):
    known = (200, 60, 40)
    icc = make_icc_profile(space)
    encoded = _encode_in(icc, known)
    # The encoded values really differ, so an unconverted copy would fail the check below.
    assert not close(encoded.getpixel((0, 0)), known, 6)
    src = save(encoded, tmp_path / "wide.png", "PNG", icc_profile=icc)
    out = output_of(fix_one(src, tmp_path / "out"))
    assert close(centre_pixel(out), known, 4)
    with Image.open(out) as im:
        assert probe(out).icc_is_srgb is True
        assert im.info.get("icc_profile")
    assert "IMG006" not in rule_codes(out)


@pytest.mark.parametrize("gamma", [1.0, 1.8])
def test_srgb_colorants_with_another_tone_curve_are_not_srgb(tmp_path, gamma):
    """A profile with sRGB's colorants and a linear (scRGB, "Linear sRGB") or 1.8
    tone curve is not sRGB: its pixel values mean other colours. The colorants
    alone decided, so check passed ghostscript's scRGB profile and fix tagged the
    untouched pixels sRGB (mid-grey 188 written as 128; found by a media trial)."""
    known = (188, 120, 90)
    icc = make_icc_profile("srgb-compact", gamma=gamma)
    encoded = _encode_in(icc, known)
    assert not close(encoded.getpixel((0, 0)), known, 12)
    src = save(encoded, tmp_path / "linear.png", "PNG", icc_profile=icc)
    assert probe(src).icc_is_srgb is False
    assert "IMG006" in rule_codes(src)
    result = fix_one(src, tmp_path / "out")
    assert any(s.name == "to-srgb" for s in result.plan.steps)
    out = output_of(result)
    assert close(centre_pixel(out), known, 4)
    assert "IMG006" not in rule_codes(out)


@needs_corpus
def test_cmyk_with_profile_is_converted_through_it(tmp_path):
    with Image.open(CORPUS / "sharp" / "Channel_digital_image_CMYK_color.jpg") as donor:
        swop = donor.info["icc_profile"]
    known = (150, 110, 80)  # well inside the press gamut
    encoded = _encode_in(swop, known, mode="CMYK")
    assert not close(
        Image.new("CMYK", (1, 1), encoded.getpixel((0, 0))).convert("RGB").getpixel((0, 0)),
        known,
        6,
    )
    src = save(encoded, tmp_path / "cmyk.jpg", "JPEG", icc_profile=swop, quality=95)
    out = output_of(fix_one(src, tmp_path / "out"))
    assert close(centre_pixel(out), known, 6)
    assert "IMG006" not in rule_codes(out)


def test_cmyk_without_profile_is_converted_as_viewers_show_it(tmp_path):
    src = save(
        Image.new("CMYK", (400, 400), (0, 255, 255, 0)), tmp_path / "c.jpg", "JPEG", quality=95
    )
    out = output_of(fix_one(src, tmp_path / "out"))
    assert close(centre_pixel(out), (255, 0, 0), 8)
    with Image.open(out) as im:
        assert im.mode == "RGB"
    assert "IMG006" not in rule_codes(out)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    src = make_image(tmp_path / "g16.tif", size=(512, 512), mode="I;16", bits=16)
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.mode == "L"
        # The gradient runs 0..65535 top to bottom: the middle is mid grey, not clipped to 255.
        value = im.getpixel((im.width // 2, im.height // 2))
        assert 100 <= value <= 156
        assert im.getextrema()[0] <= 10
    assert errors_of(out) == [] and "IMG006" not in rule_codes(out)


def test_16_bit_rgb_png_becomes_8_bit(tmp_path):
    src = make_image(tmp_path / "rgb16.png", size=(400, 400), mode="RGB", bits=16)
    assert probe(src).bits == 16
    out = output_of(fix_one(src, tmp_path / "out"))
    assert probe(out).bits == 8


# ---------------------------------------------------------------- size


@pytest.mark.parametrize("size", [(3000, 2000), (1600, 2000), (1440, 1800)])
def test_resized_under_the_width_and_long_edge_limits(tmp_path, size):
    src = make_image(tmp_path / "big.jpg", size=size)
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.width <= FEED.max_width and max(im.size) <= FEED.max_long_edge
    assert "IMG004" not in rule_codes(out)


def test_jpeg_shrunk_is_decoded_dct_scaled(tmp_path):
    """4000 px -> 1440 px: libjpeg-turbo decodes at 3/8 (1500 px), the least n/8
    that covers the output, and Lanczos takes it the rest of the way."""
    src = make_image(tmp_path / "big.jpg", size=(4000, 3000), quality=70)
    result = fix_one(src, tmp_path / "out")
    (resize,) = [s for s in result.plan.steps if s.name == "resize"]
    assert resize.param("dct_scale") == "3/8" and "decoded at 3/8" in resize.detail
    with Image.open(output_of(result)) as im:
        assert im.size == (1440, 1080)


def test_oversized_file_is_re_encoded_under_the_byte_limit(tmp_path):
    # A small JPEG padded past 8,000,000 bytes with comment segments.
    base = io.BytesIO()
    make_image_rgb((1080, 1350)).save(base, "JPEG", quality=90)
    data = base.getvalue()
    chunk = b"\xff\xfe" + (65535).to_bytes(2, "big") + b"x" * 65533
    padded = data[:2] + chunk * (FEED.max_bytes // len(chunk) + 2) + data[2:]
    src = tmp_path / "huge.jpg"
    src.write_bytes(padded)
    assert "IMG001" in rule_codes(src)
    result = fix_one(src, tmp_path / "out")
    out = output_of(result)
    assert out.stat().st_size <= FEED.max_bytes
    assert errors_of(out) == []
    assert result.status is FixStatus.CONVERTED


def test_encode_finds_the_highest_quality_that_fits():
    noise = Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3))
    top = encode_jpeg(noise, 10**9)
    assert top[1] == IMAGE_FIX.max_quality
    limit = len(top[0]) * 2 // 3  # q92 does not fit
    data, quality = encode_jpeg(noise, limit)
    assert len(data) <= limit and quality < IMAGE_FIX.max_quality
    higher, _ = encode_jpeg(noise, 10**9, targets=ImageFixTargets(max_quality=quality + 1))
    assert len(higher) > limit  # one step up would not fit: it is the highest
    with pytest.raises(FixError):
        encode_jpeg(noise, 2_000)


def test_jpeg_output_is_baseline_420_with_srgb_profile(tmp_path):
    src = make_image(tmp_path / "in.png", size=(800, 800))
    out = output_of(fix_one(src, tmp_path / "out"))
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert not im.info.get("progressive") and not im.info.get("progression")
        assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
        profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile)


# ---------------------------------------------------------------- copy, idempotence, formats


def test_compliant_jpeg_is_copied_byte_for_byte(tmp_path):
    src = make_image(tmp_path / "ok.jpg", size=(1080, 1350))
    result = fix_one(src, tmp_path / "out")
    assert result.status is FixStatus.COPIED
    assert output_of(result).read_bytes() == src.read_bytes()


def test_fixing_a_fixed_file_changes_nothing(tmp_path):
    src = make_image(tmp_path / "x.webp", size=(2400, 900), mode="RGBA", orientation=6)
    first = output_of(fix_one(src, tmp_path / "once"))
    second = fix_one(first, tmp_path / "twice")
    assert second.status is FixStatus.COPIED
    assert output_of(second).read_bytes() == first.read_bytes()


def test_wrong_extension_is_renamed_not_re_encoded(tmp_path):
    src = make_image(tmp_path / "photo.png", size=(1080, 1350), fmt="JPEG")
    result = fix_one(src, tmp_path / "out")
    out = output_of(result)
    assert out.name == "photo.jpg" and out.read_bytes() == src.read_bytes()
    assert [s.name for s in result.plan.steps] == ["rename"]


@pytest.mark.parametrize("ext", ["webp", "gif", "tif", "bmp", "heic", "avif"])
def test_other_formats_become_jpeg(tmp_path, ext):
    src = make_image(tmp_path / f"in.{ext}", size=(400, 500))
    out = output_of(fix_one(src, tmp_path / "out"))
    assert out.suffix == ".jpg"
    with Image.open(out) as im:
        assert im.format == "JPEG"
    assert errors_of(out) == []


def test_keep_png_keeps_a_png_and_still_flattens_it(tmp_path):
    src = make_image(tmp_path / "a.png", size=(400, 500), mode="RGBA")
    out = output_of(fix_one(src, tmp_path / "out", keep_png=True))
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB"
    assert out.suffix == ".png" and errors_of(out) == []
    again = fix_one(out, tmp_path / "again", keep_png=True)
    assert again.status is FixStatus.COPIED


# ---------------------------------------------------------------- the 280 MP photo


@needs_corpus
def test_giant_jpeg_is_fixed_within_the_memory_budget(tmp_path):
    """sharp's 20000x14000 JPEG: draft 1/8 decode, so the process stays small.
    Measured in a child process (its own peak RSS, VmHWM: ru_maxrss would also
    count the forked copy of this test process), not timed."""
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from igpreflight.transcode.batch import fix_paths\n"
        "from igpreflight.transcode.types import FixOptions\n"
        "[r] = fix_paths([sys.argv[1]], Path(sys.argv[2]), FixOptions())\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        peak = int(line.split()[1])\n"
        "print(r.status.value, r.output, peak)\n"
    )
    src = CORPUS / "sharp" / "giant-image.jpg"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(src), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    status, output, peak_kb = proc.stdout.split()
    assert status == "converted"
    assert int(peak_kb) < 400 * 1024
    with Image.open(output) as im:
        assert im.size == (1440, 1008)
    assert errors_of(Path(output)) == []


@needs_corpus
def test_keep_metadata_keeps_xmp_but_not_a_motion_photo_pointer(tmp_path):
    out = tmp_path / "out"
    plain = output_of(fix_one(CORPUS / "Pillow" / "xmp_test.jpg", out, keep_metadata=True))
    # The Pixel's own XMP (the corpus photo itself is cut short: FILE001, below) on
    # a photo that decodes, with EXIF orientation 6 as the phone wrote it.
    pixel = CORPUS / "androidx-media" / "pixel-motion-photo-shortened.jpg"
    with Image.open(pixel) as im:
        xmp, exif = im.info["xmp"], im.getexif()
    assert b"MotionPhoto" in xmp or b"MicroVideo" in xmp
    motion = tmp_path / "motion.jpg"
    make_image_rgb((1600, 1200)).save(motion, "JPEG", quality=90, xmp=xmp, exif=exif)
    fixed = output_of(fix_one(motion, out, keep_metadata=True))
    with Image.open(plain) as im:
        assert im.info.get("xmp")  # ordinary XMP is kept
    with Image.open(fixed) as im:
        assert not im.info.get("xmp")  # the appended video is gone, so is the pointer
        assert im.getexif().get(0x0112) in (None, 1)


def test_metadata_too_big_for_a_jpeg_marker_is_dropped_not_fatal(tmp_path):
    """A PNG's XMP or a GIF's comment may pass the 65,533 bytes a JPEG marker holds;
    Pillow refused the whole encode ('XMP data is too long', 'Comment is too long'),
    so --keep-metadata made a fixable image `failed`. What fits is kept."""
    from PIL import PngImagePlugin

    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:description>' + "B" * 100_000
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp + "</dc:description></x:xmpmeta>")
    pixels = make_image_rgb((600, 500))
    png = save(pixels, tmp_path / "xmp.png", "PNG", pnginfo=info)
    gif = save(pixels.convert("P"), tmp_path / "big.gif", "GIF", comment=b"C" * 70_000)
    small = save(pixels.convert("P"), tmp_path / "small.gif", "GIF", comment=b"kept")
    for src in (png, gif, small):
        out = output_of(fix_one(src, tmp_path / "out", keep_metadata=True))
        with Image.open(out) as im:
            assert not im.info.get("xmp")
            assert im.info.get("comment") == (b"kept" if src == small else None)
        assert errors_of(out) == []


def test_a_gif_comment_is_not_carried_over_without_keep_metadata(tmp_path):
    """Pillow writes the source image's comment into a JPEG unless it is told not to:
    a GIF's comment came through a fix that promises only the sRGB profile."""
    src = save(make_image_rgb((600, 500)).convert("P"), tmp_path / "a.gif", "GIF", comment=b"x")
    with Image.open(output_of(fix_one(src, tmp_path / "out"))) as im:
        assert "comment" not in im.info


def test_keep_metadata_drops_a_maker_note_too_big_for_jpeg(tmp_path):
    exif = Image.Exif()
    exif[0x013B] = "Ana"
    exif.get_ifd(0x8769)[0x927C] = b"M" * 70_000  # over the 64 KB a JPEG APP1 holds
    src = save(
        Image.new("RGB", (600, 500), (10, 20, 30)), tmp_path / "a.png", "PNG", exif=exif.tobytes()
    )
    out = output_of(fix_one(src, tmp_path / "out", keep_metadata=True))
    with Image.open(out) as im:
        tags = im.getexif()
        assert tags.get(0x013B) == "Ana"
        assert 0x927C not in tags.get_ifd(0x8769)

"""Findings of the second image trial (non-JPEG formats and the interplay with fix),
each built here with Pillow: the file a user had, what check said, what fix made."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageCms

from fixtures.generate import make_icc_profile
from fixtures.icc import make_space_profile
from igpreflight import check, fix
from igpreflight.transcode.image_encode import SRGB_ICC
from igpreflight.transcode.types import FixStatus

# A Display P3 profile cut short: lcms cannot open it, and neither can viewers, which
# then show the pixels as sRGB (some exporters write a truncated iCCP/APP2 profile).
BROKEN_ICC = make_icc_profile("display-p3")[:200]
GAMMA18_SGRAY = make_space_profile("GRAY", "Artifex Software sGray ICC Profile", gamma=1.8)
SGRAY_22 = make_space_profile("GRAY", "sGray", gamma=2.2)  # within the tone tolerance


def _photo(size: tuple[int, int] = (1080, 1350)) -> Image.Image:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 90, 220), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    return im


def _found(path: Path) -> list[tuple[str, str]]:
    (checked,) = check([path]).files
    return [(f.rule, f.message) for f in checked.findings]


def test_a_jpeg_with_an_unreadable_profile_is_relabelled_not_failed(tmp_path):
    """fix failed with "the embedded ICC profile cannot be used" (exit 1) on a file
    that check called merely a warning; viewers ignore the profile, so the label goes."""
    src = tmp_path / "photo.jpg"
    _photo().save(src, quality=85, icc_profile=BROKEN_ICC)
    ((rule, message),) = _found(src)
    assert rule == "IMG006" and "unreadable" in message
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    assert [s.name for s in result.plan.steps] == ["relabel-srgb"]
    out = tmp_path / "out" / "photo.jpg"
    scan = src.read_bytes().index(b"\xff\xda")
    assert out.read_bytes().endswith(src.read_bytes()[scan:])  # pixels not re-encoded
    with Image.open(out) as im:
        assert im.info["icc_profile"] == SRGB_ICC
    assert _found(out) == []
    (again,) = fix([out], tmp_path / "again").files
    assert again.status is FixStatus.COPIED


def test_a_png_with_an_unreadable_profile_converts_with_its_pixels_as_shown(tmp_path):
    src = tmp_path / "shot.png"
    _photo().save(src, icc_profile=BROKEN_ICC)
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    out = tmp_path / "out" / "shot.jpg"
    with Image.open(out) as im:
        assert im.info["icc_profile"] == SRGB_ICC
        r, g, b = im.getpixel((10, 10))
        assert abs(r - 200) < 6 and abs(g - 30) < 6 and abs(b - 30) < 6
    assert _found(out) == []


def test_a_grey_png_whose_sgray_profile_has_a_gamma_18_curve_keeps_its_tone(tmp_path):
    """Ghostscript's sgray.icc ("Artifex Software sGray ICC Profile") has a gamma 1.8
    kTRC: viewers show a mid grey 128 as 146. Taken for sRGB by its name, it was
    dropped in the conversion to JPEG, and the picture came out darker (128)."""
    src = tmp_path / "grey.png"
    Image.new("L", (1080, 1080), 128).save(src, icc_profile=GAMMA18_SGRAY)
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    with Image.open(tmp_path / "out" / "grey.jpg") as im:
        assert im.mode == "L" and abs(im.getpixel((5, 5)) - 146) <= 2
    assert _found(tmp_path / "out" / "grey.jpg") == []


def test_a_grey_png_whose_sgray_profile_is_srgb_like_keeps_its_pixels(tmp_path):
    src = tmp_path / "grey.png"
    Image.new("L", (1080, 1080), 128).save(src, icc_profile=SGRAY_22)
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    with Image.open(tmp_path / "out" / "grey.jpg") as im:
        assert abs(im.getpixel((5, 5)) - 128) <= 1


def test_in_place_an_upper_case_jpg_that_is_a_heic_is_replaced_under_its_name(tmp_path):
    """iPhone exports named IMG_0001.JPG that hold HEIC: in place, fix wrote
    IMG_0001.jpg beside it (the probe's extension is lower case, and the original was
    kept as 'the same name' case-insensitively), so on Linux the HEIC stayed and was
    fixed again on the next run as IMG_0001-2.jpg."""
    pillow_heif = __import__("pillow_heif")
    folder = tmp_path / "camera"
    folder.mkdir()
    pillow_heif.from_pillow(_photo((1080, 1080))).save(folder / "IMG_0001.JPG", quality=70)
    _photo((1080, 1080)).save(folder / "ok.JPG", quality=85)
    ok = (folder / "ok.JPG").read_bytes()
    results = {Path(r.source).name: r for r in fix([folder], in_place=True).files}
    assert results["IMG_0001.JPG"].status is FixStatus.CONVERTED
    assert sorted(p.name for p in folder.iterdir()) == ["IMG_0001.JPG", "ok.JPG"]
    assert (folder / "IMG_0001.JPG").read_bytes()[:3] == b"\xff\xd8\xff"
    assert (folder / "ok.JPG").read_bytes() == ok
    again = fix([folder], in_place=True).files
    assert {r.status for r in again} == {FixStatus.UNCHANGED}


def _nclx_p3(path: Path) -> None:
    """Relabel the file's colr nclx box as Display P3 (primaries 12, sRGB transfer),
    as phones and Chrome's encoder write AVIF and HEIF; the pixels stay as coded."""
    data = bytearray(path.read_bytes())
    at = data.index(b"colrnclx") + 8
    data[at : at + 4] = (12).to_bytes(2, "big") + (13).to_bytes(2, "big")
    path.write_bytes(bytes(data))


def test_a_display_p3_avif_or_heif_labelled_by_cicp_is_converted_not_relabelled(tmp_path):
    """With no ICC profile but a CICP Display P3 label, fix wrote the P3 numbers as
    sRGB ('written as sRGB (no ICC profile to convert from)'): saturated colours came
    out dull. Now an ICC profile is built from the CICP values and converted with."""
    pillow_heif = __import__("pillow_heif")
    colour = (170, 120, 90)  # a skin tone: inside sRGB's gamut once converted
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(make_icc_profile("display-p3")))
    srgb = ImageCms.createProfile("sRGB")
    for name in ("phone.avif", "phone.heic"):
        src = tmp_path / name
        im = Image.new("RGB", (1080, 1080), colour)
        if name.endswith(".heic"):
            pillow_heif.from_pillow(im).save(src, quality=90)
        else:
            im.save(src, quality=90)
        _nclx_p3(src)
        (checked,) = check([src]).files
        (said,) = [f.message for f in checked.findings if f.rule == "IMG006"]
        assert said.startswith("colour label 'CICP P3 / sRGB' is not sRGB"), said
        (result,) = fix([src], tmp_path / "out").files
        assert result.status is FixStatus.CONVERTED, result.reason
        with Image.open(src) as decoded:
            coded = decoded.convert("RGB").crop((500, 500, 501, 501))
        intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
        want = ImageCms.profileToProfile(coded, p3, srgb, renderingIntent=intent).getpixel((0, 0))
        with Image.open(
            tmp_path / "out" / name.replace(".avif", ".jpg").replace(".heic", ".jpg")
        ) as out:
            got = out.getpixel((500, 500))
        assert all(abs(a - b) <= 3 for a, b in zip(got, want, strict=True)), (name, got, want)
        assert coded.getpixel((0, 0)) != want  # the conversion moves this colour

"""A profile whose colour space does not fit the pixels is not their colour space.

Chrome (Skia's SkJpegCodec) and Firefox (nsJPEGDecoder) apply to a colour JPEG
only an RGB profile, to a CMYK one only a CMYK profile, and to a grey one a grey
or an RGB profile; any other they ignore, and show the pixels as sRGB (lcms will
not even build the transform). So an sGray profile on a colour JPEG (some tools
write one after a grey-to-colour conversion) was taken for sRGB by its name and
the file copied with the wrong label; a CMYK profile on one was "converted" by a
re-encode that converted nothing. Now both are IMG006, and `fix` swaps the ICC
segments for sRGB's without touching a byte of the pictures; a grey JPEG's RGB
profile, which viewers do apply, stays as it is."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from fixtures.generate import make_icc_profile
from fixtures.icc import make_space_profile
from igpreflight import check, fix
from igpreflight.preflight.probe import probe
from igpreflight.transcode.image_encode import SRGB_ICC
from igpreflight.transcode.types import FixStatus
from tests.crafted import corrupt_exif

SGRAY = make_space_profile("GRAY", "sGray")
SWOP = make_space_profile("CMYK", "U.S. Web Coated (SWOP) v2")


def _photo(size: tuple[int, int] = (1080, 1080)) -> Image.Image:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 90, 220), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    return im


def _scan(data: bytes) -> bytes:
    """Everything from the first start-of-scan on: the picture's coded bytes."""
    return data[data.index(b"\xff\xda") :]


def _found(path: Path) -> list[tuple[str, str]]:
    (checked,) = check([path]).files
    return [(f.rule, f.message) for f in checked.findings]


@pytest.mark.parametrize(
    ("profile", "space"), [(SGRAY, "GRAY"), (SWOP, "CMYK")], ids=["sgray", "cmyk"]
)
def test_a_profile_that_does_not_fit_colour_pixels_is_swapped_for_srgb(tmp_path, profile, space):
    src = tmp_path / "photo.jpg"
    _photo().save(src, quality=85, icc_profile=profile)
    facts = probe(src)
    assert facts.icc_misfit == space and facts.icc_is_srgb is False
    ((rule, message),) = _found(src)
    assert rule == "IMG006" and f"is a {space} profile on RGB pixels" in message
    assert "visible colour shifts" not in message  # what viewers show is already sRGB
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    assert [(s.name, s.rules) for s in result.plan.steps] == [("relabel-srgb", ("IMG006",))]
    out = tmp_path / "out" / "photo.jpg"
    assert _scan(out.read_bytes()) == _scan(src.read_bytes())  # not re-encoded
    with Image.open(out) as im:
        assert im.info["icc_profile"] == SRGB_ICC
    assert _found(out) == []
    assert check([out], deep=True).errors == []
    (again,) = fix([out], tmp_path / "again").files
    assert again.status is FixStatus.COPIED
    assert (tmp_path / "again" / "photo.jpg").read_bytes() == out.read_bytes()


def test_a_profile_that_fits_stays_a_conversion(tmp_path):
    """A Display P3 profile on colour pixels is their colour space: converted as before."""
    src = tmp_path / "p3.jpg"
    _photo().save(src, quality=85, icc_profile=make_icc_profile("display-p3"))
    assert probe(src).icc_misfit is None
    (result,) = fix([src], tmp_path / "out").files
    assert "to-srgb" in [s.name for s in result.plan.steps]


@pytest.mark.parametrize("profile", ["srgb", "display-p3"])
def test_a_grey_jpeg_keeps_the_rgb_profile_viewers_apply(tmp_path, profile):
    src = tmp_path / "grey.jpg"
    _photo().convert("L").save(src, quality=85, icc_profile=make_icc_profile(profile))
    assert probe(src).icc_misfit is None
    assert _found(src) == []
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.COPIED
    assert (tmp_path / "out" / "grey.jpg").read_bytes() == src.read_bytes()


def test_a_grey_profile_and_a_corrupt_exif_block_go_in_one_rewrite(tmp_path):
    plain = tmp_path / "plain.jpg"
    _photo().save(plain, quality=85, icc_profile=SGRAY)
    src = corrupt_exif(plain, tmp_path / "photo.jpg")
    (result,) = fix([src], tmp_path / "out").files
    assert [s.name for s in result.plan.steps] == ["strip-exif", "relabel-srgb"]
    out = tmp_path / "out" / "photo.jpg"
    assert probe(out).exif_error is None and probe(out).icc_is_srgb is True
    assert _scan(out.read_bytes()) == _scan(src.read_bytes())
    assert _found(out) == []


def test_a_re_encode_keeps_the_pixels_a_misfit_profile_left_alone(tmp_path):
    """Too wide, so decoded anyway: the pixels are kept as viewers showed them
    (the grey profile is not applied), and labelled sRGB."""
    src = tmp_path / "wide.jpg"
    _photo((2400, 2400)).save(src, quality=95, icc_profile=SGRAY)
    (result,) = fix([src], tmp_path / "out").files
    colour = next(s for s in result.plan.steps if s.name == "to-srgb")
    assert "ignored as viewers do" in colour.detail
    out = tmp_path / "out" / "wide.jpg"
    with Image.open(out) as im:
        assert im.info["icc_profile"] == SRGB_ICC
        red = im.convert("RGB").getpixel((im.width - 10, im.height - 10))
    assert all(abs(a - b) <= 6 for a, b in zip(red, (200, 30, 30), strict=True)), red


def _mp_entries(path: Path) -> list[tuple[int, int]]:
    with Image.open(path) as im:
        return [(e["Size"], e["DataOffset"]) for e in im.mpinfo[0xB002]]


def test_the_pictures_after_an_mpf_index_are_found_after_the_swap(tmp_path):
    """An MPF JPEG (a main picture and a second, undefined one: not a multi-view
    MPO): its second picture moves when the profile changes size, and the index
    says where it went."""
    src = tmp_path / "mpf.jpg"
    second = Image.new("RGB", (270, 270), (10, 200, 30))
    _photo().save(src, "MPO", save_all=True, append_images=[second], icc_profile=SGRAY)
    assert probe(src).format == "JPEG"
    (result,) = fix([src], tmp_path / "out").files
    assert [s.name for s in result.plan.steps] == ["relabel-srgb"]
    out = tmp_path / "out" / "mpf.jpg"
    (first, _), (size, offset) = _mp_entries(out)
    base = out.read_bytes().index(b"MPF\x00") + 4
    assert first + size == out.stat().st_size and base + offset == first
    with Image.open(out) as im:
        im.seek(1)
        assert im.size == (270, 270) and im.convert("RGB").getpixel((5, 5)) == (10, 200, 30)
    assert _scan(out.read_bytes()) == _scan(src.read_bytes())


def test_big_profiles_are_split_over_numbered_segments():
    from igpreflight.transcode.jpeg_segments import icc_segments

    icc = bytes(range(256)) * 600  # 153,600 bytes: three segments
    data = icc_segments(icc)
    parts, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        assert body[:12] == b"ICC_PROFILE\x00" and body[13] == 3
        parts.append((body[12], body[14:]))
        pos += 2 + length
    assert [n for n, _ in parts] == [1, 2, 3]
    assert b"".join(p for _, p in parts) == icc
    with Image.open(io.BytesIO(b"\xff\xd8" + data + _tiny_jpeg()[2:])) as im:
        assert im.info["icc_profile"] == icc


def _tiny_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "JPEG")
    return buf.getvalue()

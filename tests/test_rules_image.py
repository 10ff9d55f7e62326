"""Image rules IMG001-IMG013 on facts built directly (rules never read files), each
with a case that triggers it and a boundary case that does not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from factories import GOOD_IMAGE
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from igpreflight.catalog import RULES
from igpreflight.limits import IMAGE_LIMITS
from igpreflight.model import ImageFacts, Role, Severity, Unreadable
from igpreflight.preflight.checks import check_facts, check_image, sort_findings
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules import REGISTRY
from tests.corpus import CORPUS, needs_corpus

GOOD = GOOD_IMAGE


def img(**kw) -> ImageFacts:
    return replace(GOOD, **kw)


def codes(facts: ImageFacts, role: Role = Role.FEED_IMAGE) -> list[str]:
    return [f.rule for f in check_image(facts, role)]


def only(facts: ImageFacts, code: str, role: Role = Role.FEED_IMAGE):
    found = [f for f in check_image(facts, role) if f.rule == code]
    assert len(found) == 1, found
    return found[0]


def test_compliant_image_has_no_findings():
    assert check_image(GOOD, Role.FEED_IMAGE) == []
    assert check_image(GOOD, Role.CAROUSEL_IMAGE) == []
    assert check_image(replace(GOOD, height=1920), Role.STORY_IMAGE) == []


# IMG001 file size
def test_img001_over_limit():
    f = only(img(bytes=8_000_001), "IMG001")
    assert f.severity is Severity.ERROR and f.code == 36000 and f.subcode == 2207004
    assert "8,000,001" in f.message and "8,000,000" in f.message


def test_img001_boundary_passes():
    assert "IMG001" not in codes(img(bytes=8_000_000))


# IMG002 / IMG012 format
@pytest.mark.parametrize("fmt", ["WEBP", "HEIF", "AVIF", "GIF", "TIFF", "BMP", "MPO", "JXL"])
def test_img002_rejects_other_formats(fmt):
    f = only(img(format=fmt, extension=fmt.lower()), "IMG002")
    assert fmt in f.message and f.fixable
    assert "IMG012" not in codes(img(format=fmt))


def test_img002_single_frame_mpo_is_still_mpo():
    assert "IMG002" in codes(img(format="MPO", frames=1))


def test_img002_jpeg_passes_png_is_img012_warning():
    assert "IMG002" not in codes(GOOD)
    found = codes(img(format="PNG", extension="png"))
    assert "IMG002" not in found and "IMG012" in found
    assert only(img(format="PNG", extension="png"), "IMG012").severity is Severity.WARNING


def test_img012_not_for_jpeg():
    assert "IMG012" not in codes(GOOD)


# IMG003 aspect ratio, exact fractions on the displayed size
def test_img003_exact_4_5_passes_and_1080x1360_fails():
    assert "IMG003" not in codes(img(width=1080, height=1350))
    f = only(img(width=1080, height=1360), "IMG003")
    assert "0.794" in f.message and "1080x1360" in f.message and "4:5" in f.message


def test_img003_wide_boundary():
    assert "IMG003" not in codes(img(width=1910, height=1000))
    f = only(img(width=1911, height=1000), "IMG003")
    assert "above 1.91:1" in f.message


def test_img003_near_limit_value_is_not_printed_as_the_limit():
    # 4799/6000 = 0.79983: three decimals would print "0.800 is below 0.8".
    f = only(img(width=4799, height=6000), "IMG003")
    assert "0.800 " not in f.message and "0.7998" in f.message


def test_img003_uses_displayed_size_after_exif_orientation():
    stored_landscape = img(width=1920, height=1080, orientation=1)
    assert "IMG003" not in codes(stored_landscape)
    f = only(replace(stored_landscape, orientation=6), "IMG003")
    assert "1080x1920" in f.message


def test_img003_not_applied_to_stories_or_covers():
    tall = img(width=1080, height=1920)
    assert "IMG003" in codes(tall, Role.FEED_IMAGE)
    assert "IMG003" in codes(tall, Role.CAROUSEL_IMAGE)
    assert "IMG003" not in codes(tall, Role.STORY_IMAGE)
    assert "IMG003" not in codes(tall, Role.COVER)


@settings(max_examples=300, deadline=None)
@given(w=st.integers(1, 20_000), h=st.integers(1, 20_000), orientation=st.integers(1, 8))
def test_img003_matches_integer_arithmetic(w, h, orientation):
    dw, dh = (h, w) if orientation >= 5 else (w, h)
    outside = dw * 5 < dh * 4 or dw * 100 > dh * 191  # 4:5 and 1.91:1, no floats
    found = "IMG003" in codes(img(width=w, height=h, orientation=orientation))
    assert found == outside


# IMG011 story ratio (info)
def test_img011_story_not_9_16():
    f = only(img(width=1080, height=1350), "IMG011", Role.STORY_IMAGE)
    assert f.severity is Severity.INFO and "9:16" in f.message


def test_img011_within_tolerance_passes_and_feed_is_exempt():
    assert "IMG011" not in codes(img(width=1080, height=1920), Role.STORY_IMAGE)
    assert "IMG011" not in codes(img(width=1080, height=1910), Role.STORY_IMAGE)  # 0.5%
    assert "IMG011" in codes(img(width=1080, height=1880), Role.STORY_IMAGE)  # 2%
    assert "IMG011" not in codes(img(width=1080, height=1350), Role.FEED_IMAGE)


# IMG004 too large
def test_img004_width_over_1440():
    f = only(img(width=1441, height=1441), "IMG004")
    assert f.severity is Severity.WARNING and "1441" in f.message and "1440" in f.message


def test_img004_long_edge_over_1920():
    f = only(img(width=1080, height=1921, format="JPEG"), "IMG004", Role.STORY_IMAGE)
    assert "long edge 1921" in f.message and "1920" in f.message


def test_img004_boundaries_pass():
    assert "IMG004" not in codes(img(width=1440, height=1440))
    assert "IMG004" not in codes(img(width=1080, height=1920), Role.STORY_IMAGE)


# IMG005 too small
def test_img005_width_below_320():
    f = only(img(width=319, height=319), "IMG005")
    assert f.severity is Severity.WARNING and "319" in f.message and "320" in f.message
    assert "IMG005" not in codes(img(width=320, height=320))


def test_img005_uses_displayed_width():
    # Stored 400x300 turned by orientation 8 is displayed 300 wide.
    assert "IMG005" in codes(img(width=400, height=300, orientation=8), Role.STORY_IMAGE)
    assert "IMG005" not in codes(img(width=400, height=300), Role.FEED_IMAGE)


# IMG006 colour
@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"mode": "CMYK", "colorspace": "CMYK"}, "CMYK"),
        ({"colorspace": "YCCK", "mode": "CMYK"}, "colour is CMYK;"),  # fix's word for it
        ({"icc_name": "Adobe RGB (1998)", "icc_is_srgb": False}, "Adobe RGB (1998)"),
        ({"icc_name": "Display P3", "icc_is_srgb": False}, "Display P3"),
        ({"bits": 16, "mode": "I;16"}, "16 bits"),
    ],
)
def test_img006_triggers(kw, needle):
    f = only(img(**kw), "IMG006")
    assert needle in f.message and f.severity is Severity.WARNING


@pytest.mark.parametrize(
    "kw",
    [
        {},  # RGB without a profile is assumed sRGB
        {"icc_name": "sRGB IEC61966-2.1", "icc_is_srgb": True},
        {"mode": "L", "colorspace": "GRAY", "bits": 8},
        {"mode": "L", "colorspace": "GRAY", "icc_name": "Dot Gain 20%", "icc_is_srgb": False},
        {"mode": "P"},
    ],
)
def test_img006_passes(kw):
    assert "IMG006" not in codes(img(**kw))


# IMG007 orientation
def test_img007_orientation_not_1():
    f = only(img(orientation=6), "IMG007")
    assert "6" in f.message and "1" in f.message and f.fixable
    assert "IMG007" not in codes(img(orientation=1))


# IMG008 frames
def test_img008_animated():
    f = only(img(format="GIF", frames=5, extension="gif"), "IMG008")
    assert f.severity is Severity.ERROR and "5 frames" in f.message
    assert "IMG008" not in codes(img(frames=1))


# IMG009 alpha
def test_img009_alpha():
    f = only(img(format="PNG", mode="RGBA", has_alpha=True, extension="png"), "IMG009")
    assert f.severity is Severity.WARNING
    assert f.message.startswith("image has an alpha channel (mode RGBA);")
    keyed = only(img(format="PNG", mode="P", has_alpha=True, extension="png"), "IMG009")
    assert keyed.message.startswith("image has a transparent colour (mode P);")
    assert "IMG009" not in codes(img(format="PNG", mode="RGB", extension="png"))


# IMG010 extension
def test_img010_png_named_jpg():
    f = only(img(format="PNG", extension="jpg"), "IMG010")
    assert ".jpg" in f.message and ".png" in f.message


def test_img010_missing_extension():
    f = only(img(extension=""), "IMG010")
    assert "no extension" in f.message


@pytest.mark.parametrize("ext", ["jpg", "jpeg", "JPE", "JPG"])
def test_img010_jpeg_spellings_pass(ext):
    assert "IMG010" not in codes(img(extension=ext))


def test_img010_mpo_named_jpg_is_not_a_mismatch():
    assert "IMG010" not in codes(img(format="MPO", extension="jpg"))


# dispatch, order, registry
def test_img013_corrupt_exif_block():
    f = only(img(exif_error="the EXIF IFD0 directory declares 9 entries"), "IMG013")
    assert f.severity is Severity.ERROR and f.fixable
    assert f.message.startswith("corrupt EXIF block: the EXIF IFD0 directory declares 9")
    assert "IMG013" not in codes(img(exif_error=None))


def test_check_facts_dispatch_and_unreadable():
    assert check_facts(GOOD) == []
    assert [f.rule for f in check_facts(img(width=1080, height=1920))] == ["IMG003"]
    assert [f.rule for f in check_facts(img(width=1080, height=1920), Role.STORY_IMAGE)] == []
    (f,) = check_facts(Unreadable(path="/x", reason="truncated\nJPEG data"))
    assert f.rule == "FILE001" and "truncated JPEG data" in f.message and "\n" not in f.message
    (f,) = check_facts(Unreadable(path="s3://b/k", reason="access denied", refused=True))
    assert f.rule == "FILE002" and f.message == "access denied"  # refused: never FILE001


def test_check_image_rejects_video_role():
    with pytest.raises(ValueError):
        check_image(GOOD, Role.REELS)


def test_findings_sorted_by_severity_then_code():
    bad = img(
        format="PNG", extension="jpg", width=2000, height=1000, has_alpha=True, bytes=9_000_000
    )
    found = check_image(bad, Role.STORY_IMAGE)
    assert found == sort_findings(found)
    sev = [f.severity for f in found]
    assert sev == sorted(sev, key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index)
    assert [f.rule for f in found] == ["IMG001", "IMG004", "IMG009", "IMG010", "IMG012", "IMG011"]


def test_every_image_rule_has_a_catalog_entry_and_vice_versa():
    image_codes = {c for c in RULES if c.startswith("IMG")}
    assert set(REGISTRY.image) == image_codes
    assert "FILE001" in REGISTRY.file


def test_image_limits_cover_every_image_role():
    assert {r for r in Role if r.is_image} == set(IMAGE_LIMITS)


# ---------------------------------------------------------------- end to end on real files


def _probe_codes(path: Path, role: Role = Role.FEED_IMAGE) -> list[str]:
    facts = probe(str(path))
    assert isinstance(facts, ImageFacts), facts
    return [f.rule for f in check_image(facts, role)]


def test_e2e_exif_orientation_6_turns_16_9_into_9_16(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = tmp_path / "turned.jpg"
    Image.new("RGB", (640, 360), "teal").save(turned, exif=exif)
    plain = tmp_path / "plain.jpg"
    Image.new("RGB", (640, 360), "teal").save(plain)
    found = check_image(probe(str(turned)), Role.FEED_IMAGE)
    img003 = [f for f in found if f.rule == "IMG003"]
    assert img003 and "360x640" in img003[0].message and "below 4:5" in img003[0].message
    assert "IMG007" in [f.rule for f in found]
    assert _probe_codes(plain) == []


def test_e2e_png_named_jpg(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(path, format="PNG")
    assert _probe_codes(path) == ["IMG009", "IMG010", "IMG012"]


@needs_corpus
@pytest.mark.parametrize(
    "name, expected, absent",
    [
        ("exif-orientation-examples/Portrait_6.jpg", {"IMG003", "IMG007"}, {"IMG004"}),
        ("exif-orientation-examples/Landscape_6.jpg", {"IMG004", "IMG007"}, {"IMG003"}),
        ("exif-orientation-examples/Portrait_1.jpg", {"IMG003"}, {"IMG004", "IMG007"}),
        ("Pillow/frozenpond.mpo", {"IMG002", "IMG008"}, {"IMG010"}),
        ("Pillow/pil_sample_cmyk.jpg", {"IMG006", "IMG005"}, {"IMG002"}),
        ("Pillow/xmp_test.jpg", {"IMG006", "IMG004"}, {"IMG003"}),
        ("Pillow/chi.gif", {"IMG002", "IMG008", "IMG009"}, {"IMG010"}),
    ],
)
def test_e2e_corpus(name, expected, absent):
    found = set(_probe_codes(CORPUS / name))
    assert expected <= found and not (absent & found), found

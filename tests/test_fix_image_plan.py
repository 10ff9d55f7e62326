"""The image fix plan: pure decisions from facts + findings (no file is opened)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from factories import GOOD_IMAGE
from hypothesis import example, given, settings
from hypothesis import strategies as st

from igpreflight.limits import IMAGE_FIX, IMAGE_LIMITS
from igpreflight.model import ImageFacts, Role
from igpreflight.preflight.checks import check_image
from igpreflight.preflight.rules.fmt import exact
from igpreflight.transcode.plan_image import (
    dct_scale,
    decoded_pixels,
    draft_factor,
    geometry,
    output_extension,
    plan_image,
    scale_needed,
)
from igpreflight.transcode.types import FixOptions, FixStatus

FEED = IMAGE_LIMITS[Role.FEED_IMAGE]
LO, HI = exact(FEED.min_aspect), exact(FEED.max_aspect)


def facts(**kw) -> ImageFacts:
    return replace(GOOD_IMAGE, path="a.jpg", **kw)


def plan(f: ImageFacts, role: Role = Role.FEED_IMAGE, **opts):
    return plan_image(f, check_image(f, role), role, FixOptions(**opts))


def names(p) -> list[str]:
    return [s.name for s in p.steps]


@settings(max_examples=300, deadline=None)
@given(
    w=st.integers(1, 20_000),
    h=st.integers(1, 20_000),
    aspect=st.sampled_from(["crop", "pad"]),
)
@example(w=1910, h=1000, aspect="crop")
@example(w=1441, h=1801, aspect="pad")
@example(w=8000, h=400, aspect="pad")
@example(w=16, h=320, aspect="crop")
def test_geometry_lands_inside_every_limit(w, h, aspect):
    geo = geometry(w, h, FEED, aspect)
    cw, ch = geo.canvas
    assert LO <= Fraction(cw, ch) <= HI
    assert cw <= FEED.max_width and max(cw, ch) <= FEED.max_long_edge
    # Never upscaled, and the content fits on the canvas.
    x0, y0, x1, y1 = geo.box
    assert geo.content[0] <= round(x1 - x0) + 1 and geo.content[1] <= round(y1 - y0) + 1
    assert geo.offset[0] >= 0 and geo.offset[0] + geo.content[0] <= cw
    assert geo.offset[1] >= 0 and geo.offset[1] + geo.content[1] <= ch
    assert 0 <= x0 < x1 <= w + 1e-6 and 0 <= y0 < y1 <= h + 1e-6


@pytest.mark.parametrize("w,h", [(1080, 1350), (1440, 754), (320, 400), (1000, 1000)])
def test_geometry_leaves_a_compliant_size_alone(w, h):
    assert geometry(w, h, FEED, "crop").unchanged
    assert geometry(w, h, FEED, "pad").unchanged


def test_geometry_crop_is_centred_and_pad_keeps_everything():
    crop = geometry(1000, 200, FEED, "crop")
    assert crop.cropped and not crop.padded
    x0, _, x1, _ = crop.box
    assert abs((x0 + x1) / 2 - 500) < 1
    pad = geometry(1000, 200, FEED, "pad")
    assert pad.padded and not pad.cropped and pad.box == (0, 0, 1000, 200)
    assert pad.content[0] == pad.canvas[0]  # a wide image is padded above and below


def test_story_role_has_no_aspect_step():
    p = plan(facts(width=1000, height=300, format="PNG", extension="png"), Role.STORY_IMAGE)
    assert p.status is FixStatus.CONVERTED
    assert "crop" not in names(p) and "pad" not in names(p)


def test_compliant_jpeg_is_copied_or_unchanged_in_place():
    assert plan(facts()).status is FixStatus.COPIED
    assert plan(facts()).steps == ()
    assert plan(facts(), in_place=True).status is FixStatus.UNCHANGED


def test_small_image_is_copied_not_upscaled():
    p = plan(facts(width=200, height=250))  # IMG005 warning: nothing to do about it
    assert p.status is FixStatus.COPIED


def test_wrong_extension_is_a_rename_without_re_encoding():
    p = plan(facts(extension="png"))
    assert p.status is FixStatus.COPIED
    assert names(p) == ["rename"] and p.extension == "jpg"


def test_png_becomes_jpeg_unless_keep_png():
    f = facts(format="PNG", extension="png")
    p = plan(f)
    assert p.status is FixStatus.CONVERTED and p.extension == "jpg"
    assert names(p) == ["encode"] and "IMG012" in p.steps[-1].rules
    kept = plan(f, keep_png=True)
    assert kept.status is FixStatus.COPIED and kept.extension == "png"
    flattened = plan(
        facts(format="PNG", extension="png", mode="RGBA", has_alpha=True), keep_png=True
    )
    assert flattened.status is FixStatus.CONVERTED and flattened.extension == "png"
    assert names(flattened) == ["flatten", "encode"]


def test_steps_follow_the_execution_order_and_name_their_rules():
    f = facts(
        format="WEBP",
        extension="webp",
        width=4000,
        height=1000,
        mode="RGBA",
        has_alpha=True,
        orientation=3,
        frames=3,
        icc_name="Display P3",
        icc_is_srgb=False,
    )
    p = plan(f)
    assert names(p) == [
        "first-frame",
        "orient",
        "crop",
        "resize",
        "to-srgb",
        "flatten",
        "encode",
    ]
    rules = {s.name: s.rules for s in p.steps}
    assert rules["first-frame"] == ("IMG008",) and rules["crop"] == ("IMG003",)
    assert rules["to-srgb"] == ("IMG006",) and rules["flatten"] == ("IMG009",)
    assert "IMG002" in rules["encode"]


def test_cmyk_without_profile_says_how_it_is_converted():
    p = plan(facts(mode="CMYK", colorspace="CMYK"))
    (step,) = [s for s in p.steps if s.name == "to-srgb"]
    assert "no profile" in step.detail


def test_dct_scale_is_the_least_n_eighths_covering_the_output():
    geo = geometry(4000, 3000, FEED)  # -> 1440x1080
    assert dct_scale(facts(width=4000, height=3000), geo) == Fraction(3, 8)  # 1500x1125
    giant = facts(width=20000, height=14000)
    assert dct_scale(giant, geometry(20000, 14000, FEED)) == Fraction(1, 8)
    assert dct_scale(facts(width=1500, height=1125), geometry(1500, 1125, FEED)) == 1
    assert dct_scale(facts(width=4000, height=3000, format="PNG"), geo) == 1
    # A centre crop: the box, not the whole image, must cover the output.
    tall = geometry(3000, 6000, FEED)  # a 3000x3750 box, to 1440x1800
    assert scale_needed(tall) == Fraction(1440, 3000)
    assert dct_scale(facts(width=3000, height=6000), tall) == Fraction(1, 2)


def test_draft_factor_only_for_jpeg_shrunk_2x_or_more():
    big = facts(width=4000, height=3000)
    geo = geometry(4000, 3000, FEED)
    assert draft_factor(big, geo) == 2  # 4000 -> 1440 is 2.8x: 1/2 keeps 2000 px
    assert draft_factor(facts(width=20000, height=14000), geometry(20000, 14000, FEED)) == 8
    assert draft_factor(facts(width=2000, height=1500), geometry(2000, 1500, FEED)) == 1
    assert draft_factor(facts(width=4000, height=3000, format="PNG"), geo) == 1


def test_decode_budget_makes_huge_non_jpeg_unfixable_but_not_huge_jpeg():
    w, h = 20_000, 14_000
    assert decoded_pixels(facts(width=w, height=h), geometry(w, h, FEED)) < 5_000_000
    png = facts(width=w, height=h, format="PNG", extension="png")
    assert w * h > IMAGE_FIX.max_decode_pixels
    p = plan(png)
    assert p.status is FixStatus.UNFIXABLE and "budget" in (p.reason or "")
    assert plan(facts(width=w, height=h)).status is FixStatus.CONVERTED


def test_output_extension_keeps_a_matching_one():
    assert output_extension("JPEG", "JPG") == "JPG"
    assert output_extension("JPEG", "jpeg") == "jpeg"
    assert output_extension("JPEG", "png") == "jpg"
    assert output_extension("PNG", "png") == "png"


def test_a_crop_that_would_keep_almost_nothing_is_refused_and_pad_is_offered():
    """A 1x10000 strip cropped to 4:5 would be one pixel; a 10:1 panorama still crops."""
    strip = plan(facts(width=1, height=10_000))
    assert strip.status is FixStatus.UNFIXABLE
    assert strip.reason == (
        "a centre crop of 1x10000 into 4:5 (0.8)..1.91:1 would keep 0.01% of the picture; "
        "use --aspect pad to keep all of it"
    )
    assert plan(facts(width=1, height=10_000), aspect="pad").status is FixStatus.CONVERTED
    panorama = plan(facts(width=5000, height=500))
    assert panorama.status is FixStatus.CONVERTED and "crop" in names(panorama)

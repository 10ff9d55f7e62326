"""plan_video: facts + findings -> the least-work plan (pure, no ffmpeg).

Facts are written by hand here; the findings come from the real video rules, so
a plan is always judged against what `check` would say about the same facts.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from factories import GOOD_VIDEO
from hypothesis import given, settings
from hypothesis import strategies as st

from igpreflight.limits import VIDEO_LIMITS
from igpreflight.model import Role, VideoFacts
from igpreflight.preflight.checks import check_video
from igpreflight.preflight.rules.fmt import exact
from igpreflight.transcode.plan_video import AUDIO_RULES, REMUX_RULES, VIDEO_RULES, plan_video
from igpreflight.transcode.types import FixOptions, FixStatus, VideoStep
from igpreflight.transcode.video_geometry import plan_geometry, simplest_ratio
from igpreflight.transcode.video_rate import target_fps

GOOD = replace(
    GOOD_VIDEO,
    path="/x/clip.mp4",
    rotation=0,
    sar=1.0,
    video_bitrate=3_000_000,
    has_edit_list=False,
)


def plan(facts: VideoFacts, role: Role = Role.REELS, **options):
    return plan_video(facts, check_video(facts, role), role, FixOptions(**options))


def names(p) -> list[str]:
    return [s.name for s in p.steps]


def step(p, name: str) -> VideoStep:
    (s,) = [s for s in p.steps if s.name == name]
    return s


def test_compliant_file_is_copied_with_its_extension():
    p = plan(GOOD)
    assert p.status is FixStatus.COPIED and p.steps == ()
    assert plan(replace(GOOD, container="QuickTime", extension="mov")).extension == "mov"
    assert plan(GOOD, in_place=True).status is FixStatus.UNCHANGED


def test_moov_at_end_only_is_a_remux_with_every_stream_copied():
    p = plan(replace(GOOD, is_streamable=False))
    assert p.status is FixStatus.REMUXED
    assert names(p) == ["copy-video", "copy-audio", "remux"]
    assert step(p, "remux").rules == ("VID004",)
    assert step(p, "remux").param("faststart") is True


def test_mkv_with_h264_and_aac_is_remuxed_not_encoded():
    p = plan(replace(GOOD, container="Matroska", is_streamable=None, extension="mkv"))
    assert p.status is FixStatus.REMUXED and p.extension == "mp4"
    assert step(p, "remux").rules == ("VID001",)


def test_mkv_with_ac3_encodes_the_audio_and_copies_the_video():
    p = plan(replace(GOOD, container="Matroska", audio_codec="AC-3", audio_channels=6))
    assert p.status is FixStatus.TRANSCODED
    assert "copy-video" in names(p) and "encode-video" not in names(p)
    a = step(p, "encode-audio")
    assert set(a.rules) >= {"VID003", "VID012"}
    assert (a.param("codec"), a.param("rate"), a.param("channels"), a.param("bitrate")) == (
        "aac",
        48_000,
        2,
        128_000,
    )


def test_mono_stays_mono_and_96k_is_resampled():
    a = step(plan(replace(GOOD, audio_channels=1, audio_sample_rate=96_000)), "encode-audio")
    assert a.param("channels") == 1 and a.param("rate") == 48_000 and a.rules == ("VID011",)


def test_vp9_encodes_video_and_copies_compliant_audio():
    p = plan(replace(GOOD, video_codec="VP9", container="WebM", is_streamable=None))
    assert names(p) == ["encode-video", "copy-audio", "remux"]
    e = step(p, "encode-video")
    assert "VID002" in e.rules and "VP9" in e.detail
    assert e.param("codec") == "libx264" and e.param("profile") == "high"
    assert e.param("pix_fmt") == "yuv420p"
    assert e.param("gop") == 60  # a keyframe every 2 s at 30 fps
    assert e.param("maxrate") < VIDEO_LIMITS[Role.REELS].max_video_bitrate


def test_audio_bitrate_note_alone_never_reencodes():
    p = plan(replace(GOOD, audio_bitrate=320_000))
    assert "VID020" in {f.rule for f in check_video(replace(GOOD, audio_bitrate=320_000))}
    assert p.status is FixStatus.COPIED


def test_hevc_becomes_h264_unless_keep_hevc():
    hevc = replace(GOOD, video_codec="HEVC")
    assert step(plan(hevc), "encode-video").rules == ("VID018",)
    kept = plan(hevc, keep_hevc=True)
    assert kept.status is FixStatus.COPIED
    p = plan(replace(hevc, is_streamable=False), keep_hevc=True)
    assert p.status is FixStatus.REMUXED and step(p, "copy-video").param("tag") == "hvc1"


def test_keep_hevc_retags_hev1_only_when_its_hvcc_holds_the_parameter_sets():
    hev1 = replace(GOOD, video_codec="HEVC", video_entry="hev1")
    p = plan(hev1, keep_hevc=True)
    assert p.status is FixStatus.REMUXED and step(p, "copy-video").param("tag") == "hvc1"
    assert step(plan(hev1), "encode-video").rules == ("VID018",)
    # parameter sets only in-band: `-tag:v hvc1` would write an empty hvcC marked complete
    inband = plan(replace(hev1, inband_parameter_sets=True), keep_hevc=True)
    assert inband.status is FixStatus.COPIED


def test_eight_bit_hdr_is_tone_mapped_even_with_keep_hevc():
    for codec in ("AVC", "HEVC"):
        p = plan(replace(GOOD, video_codec=codec, transfer="HLG", bit_depth=8), keep_hevc=True)
        assert p.status is FixStatus.TRANSCODED
        assert step(p, "tone-map").param("transfer") == "arib-std-b67"
        assert "VID014" in step(p, "encode-video").rules


def test_ten_bit_hevc_is_encoded_even_with_keep_hevc():
    p = plan(replace(GOOD, video_codec="HEVC", bit_depth=10), keep_hevc=True)
    assert p.status is FixStatus.TRANSCODED
    assert "VID014" in step(p, "encode-video").rules
    assert step(p, "pixel-format").param("pix_fmt") == "yuv420p"


@pytest.mark.parametrize(
    "fps, vfr, expected",
    [
        (120.0, False, Fraction(60)),
        (119.88, False, Fraction(60000, 1001)),
        (90.0, False, Fraction(45)),
        (240.0, False, Fraction(60)),
        (15.0, False, Fraction(30)),
        (12.5, False, Fraction(25)),
        (10.0, False, Fraction(30)),
        (29.97, False, Fraction(30000, 1001)),
        (13.3, True, Fraction(25)),
        (28.028, True, Fraction(30000, 1001)),
        (60.0, True, Fraction(60)),
        (31.024, True, Fraction(30)),
        (None, True, Fraction(30)),
    ],
)
def test_target_frame_rate(fps, vfr, expected):
    assert target_fps(fps, vfr, VIDEO_LIMITS[Role.REELS]) == expected


def test_fps_step_and_gop_follow_the_target_rate():
    p = plan(replace(GOOD, fps=120.0))
    assert step(p, "fps").param("rate") == "60" and step(p, "fps").rules == ("VID005",)
    assert step(p, "encode-video").param("gop") == 120
    p = plan(replace(GOOD, fps=29.5, frame_rate_mode="VFR"))
    assert step(p, "fps").param("rate") == "30000/1001" and step(p, "fps").rules == ("VID015",)


def test_4k_is_downscaled_to_1920_wide():
    p = plan(replace(GOOD, width=3840, height=2160, video_bitrate=20_000_000))
    s = step(p, "scale")
    assert (s.param("w"), s.param("h")) == (1920, 1080) and s.rules == ("VID006",)


def test_rotated_portrait_4k_is_rotated_then_scaled_to_displayed_width():
    p = plan(replace(GOOD, width=3840, height=2160, rotation=90))
    assert names(p)[:2] == ["rotate", "scale"]
    assert step(p, "rotate").rules == ("VID017",)
    s = step(p, "scale")
    assert s.param("w") == 1920 and s.param("h") in (3412, 3414)


def test_rotation_alone_is_baked_in():
    p = plan(replace(GOOD, width=1920, height=1080, rotation=270))
    assert p.status is FixStatus.TRANSCODED and "rotate" in names(p)
    assert "scale" not in names(p) and "crop" not in names(p)


def test_non_square_pixels_become_square():
    f = replace(GOOD, width=800, height=640, sar=1.422, video_codec="VP9")
    s = step(plan(f), "scale")
    assert (s.param("w"), s.param("h")) == (1138, 640)
    assert "64:45" in s.detail
    assert simplest_ratio(1.185) == Fraction(32, 27)


def test_odd_sizes_are_cut_to_even_without_scaling():
    p = plan(replace(GOOD, width=321, height=241, video_codec="VP9"))
    c = step(p, "crop")
    assert (c.param("w"), c.param("h")) == (320, 240) and "scale" not in names(p)


def test_carousel_video_is_cropped_into_4_5():
    p = plan(replace(GOOD, width=720, height=1080), Role.CAROUSEL_VIDEO)
    c = step(p, "crop")
    assert (c.param("w"), c.param("h"), c.param("x"), c.param("y")) == (720, 900, 0, 90)
    assert c.rules == ("VID007",)


def test_carousel_video_is_padded_into_4_5_with_pad():
    p = plan(replace(GOOD, width=720, height=1080), Role.CAROUSEL_VIDEO, aspect="pad")
    pad = step(p, "pad")
    assert (pad.param("w"), pad.param("h")) == (864, 1080) and pad.param("x") == 72
    assert pad.rules == ("VID007",) and pad.param("color") == "white"


def test_wide_carousel_video_is_cropped_to_1_91():
    p = plan(replace(GOOD, width=2560, height=1080), Role.CAROUSEL_VIDEO)
    geo = plan_geometry(
        replace(GOOD, width=2560, height=1080), VIDEO_LIMITS[Role.CAROUSEL_VIDEO], "crop"
    )
    assert Fraction(geo.out_w, geo.out_h) <= exact(1.91) and geo.out_w <= 1920
    assert "crop" in names(p)


def test_too_long_is_unfixable_without_trim_and_trimmed_with_it():
    long = replace(GOOD, duration=75.0)
    p = plan(long, Role.STORY_VIDEO)
    assert p.status is FixStatus.UNFIXABLE and "--trim" in p.reason and "75 s" in p.reason
    p = plan(long, Role.STORY_VIDEO, trim=True)
    assert p.status is FixStatus.REMUXED  # stream copy can cut the end
    t = step(p, "trim")
    assert t.rules == ("VID008",) and 59 < t.param("duration") < 60


def test_too_short_is_unfixable_without_extend_and_extended_with_it():
    short = replace(GOOD, duration=1.5)
    p = plan(short)
    assert p.status is FixStatus.UNFIXABLE and "--extend" in p.reason
    p = plan(short, extend=True)
    assert p.status is FixStatus.TRANSCODED
    e = step(p, "extend")
    assert e.param("duration") >= 3.0 and e.rules == ("VID008",)
    assert step(p, "encode-audio").param("pad_to") == e.param("duration")


def test_no_video_stream_is_unfixable():
    audio_only = replace(GOOD, has_video=False, video_codec=None, width=None, height=None)
    p = plan(audio_only)
    assert p.status is FixStatus.UNFIXABLE and "audio-only" in p.reason
    p = plan(replace(audio_only, has_audio=False, audio_codec=None, duration=None))
    assert p.status is FixStatus.UNFIXABLE and "no streams" in p.reason


def test_bitrate_over_25_mbps_is_capped():
    p = plan(replace(GOOD, video_bitrate=40_000_000, bytes=50_000_000))
    e = step(p, "encode-video")
    assert "VID010" in e.rules
    assert e.param("maxrate") <= 25_000_000 and e.param("bufsize") == 2 * e.param("maxrate")


def test_size_budget_caps_the_bitrate_for_the_role():
    lim = VIDEO_LIMITS[Role.STORY_VIDEO]
    f = replace(GOOD, duration=55.0, bytes=lim.max_bytes + 1, video_bitrate=20_000_000)
    e = step(plan(f, Role.STORY_VIDEO), "encode-video")
    assert "VID009" in e.rules
    assert (e.param("maxrate") + 128_000) * 55.0 / 8 < lim.max_bytes


def test_edit_list_reencodes_both_streams():
    p = plan(replace(GOOD, has_edit_list=True))
    assert "VID016" in step(p, "encode-video").rules
    assert "VID016" in step(p, "encode-audio").rules


def test_interlaced_is_deinterlaced_first():
    p = plan(replace(GOOD, scan_type="Interlaced", width=720, height=480))
    assert names(p)[0] == "deinterlace" and step(p, "deinterlace").rules == ("VID013",)


def test_every_fixable_finding_is_resolved_by_a_step_and_steps_only_name_found_rules():
    bad = replace(
        GOOD,
        container="Matroska",
        is_streamable=None,
        video_codec="HEVC",
        width=3840,
        height=2160,
        rotation=90,
        fps=120.0,
        frame_rate_mode="VFR",
        scan_type="MBAFF",
        chroma="4:2:2",
        bit_depth=10,
        video_bitrate=40_000_000,
        has_edit_list=True,
        audio_codec="Opus",
        audio_sample_rate=96_000,
        audio_channels=6,
    )
    found = check_video(bad, Role.CAROUSEL_VIDEO)
    p = plan_video(bad, found, Role.CAROUSEL_VIDEO, FixOptions())
    covered = {r for s in p.steps for r in s.rules}
    codes = {f.rule for f in found}
    assert covered <= codes
    fixable = {f.rule for f in found if f.fixable} & (VIDEO_RULES | AUDIO_RULES | REMUX_RULES)
    assert fixable <= covered
    for s in p.steps:
        assert s.detail  # every step says what it does and why


# Geometry: whatever the size, rotation, pixel shape and role, the output frame is
# even, at most 1920 wide, and inside the role's aspect range.
@settings(max_examples=300, deadline=None)
@given(
    w=st.integers(2, 8000),
    h=st.integers(2, 8000),
    sar=st.sampled_from([1.0, 1.0, 1.422, 1.185, 0.889, 2.0]),
    rotation=st.sampled_from([0, 90, 180, 270]),
    role=st.sampled_from([Role.REELS, Role.STORY_VIDEO, Role.CAROUSEL_VIDEO]),
    mode=st.sampled_from(["crop", "pad"]),
)
def test_geometry_always_lands_inside_the_limits(w, h, sar, rotation, role, mode):
    lim = VIDEO_LIMITS[role]
    f = replace(GOOD, width=w, height=h, sar=sar, rotation=rotation)
    g = plan_geometry(f, lim, mode)
    assert g.out_w % 2 == 0 and g.out_h % 2 == 0
    assert g.out_w <= lim.max_width
    assert exact(lim.min_aspect) <= Fraction(g.out_w, g.out_h) <= exact(lim.max_aspect)
    if g.crop:
        cw, ch, cx, cy = g.crop
        assert 0 < cw <= g.src_w and 0 < ch <= g.src_h and cx >= 0 and cy >= 0
        assert cx + cw <= g.src_w and cy + ch <= g.src_h
    if g.pad:
        pw, ph, px, py = g.pad
        content = g.scale or (g.crop[:2] if g.crop else (g.src_w, g.src_h))
        assert px + content[0] <= pw and py + content[1] <= ph


@pytest.mark.parametrize("transfer, zscale", [("PQ", "smpte2084"), ("HLG", "arib-std-b67")])
def test_hdr_is_tone_mapped_when_encoded(transfer, zscale):
    f = replace(GOOD, video_codec="HEVC", bit_depth=10, transfer=transfer)
    p = plan(f)
    assert step(p, "tone-map").param("transfer") == zscale
    assert names(p).index("tone-map") < names(p).index("encode-video")
    assert "tone-map" not in names(plan(replace(f, transfer="BT.709")))


@pytest.mark.parametrize(
    ("chroma", "depth", "shown"),
    [("4:2:2", 10, "4:2:2 10-bit"), ("4:2:2", None, "4:2:2"), (None, 10, "10-bit")],
)
def test_the_pixel_format_step_says_only_what_the_probe_knows(chroma, depth, shown):
    """ProRes has no bit depth in MediaInfo's report: no "?-bit" in the plan."""
    p = plan(replace(GOOD, video_codec="ProRes", chroma=chroma, bit_depth=depth))
    assert step(p, "pixel-format").detail == f"{shown} -> yuv420p 8-bit"


def test_mono_made_stereo_for_facebook_reels_is_not_called_a_downmix():
    """The docs trial's `fix --profile instagram,facebook-reels` of a mono clip printed
    "1 channels downmixed" for what is an upmix to the stereo Facebook Reels wants."""
    from igpreflight.profiles import FACEBOOK_REELS

    mono = replace(GOOD, audio_channels=1)
    found = check_video(mono, Role.REELS, FACEBOOK_REELS)
    p = plan_video(mono, found, Role.REELS, FixOptions(), FACEBOOK_REELS)
    a = step(p, "encode-audio")
    assert a.param("channels") == 2 and "VID012" in a.rules
    assert a.detail.endswith(": mono made stereo"), a.detail
    six = replace(GOOD, audio_channels=6)
    assert step(plan(six), "encode-audio").detail.endswith(": 6 channels downmixed")

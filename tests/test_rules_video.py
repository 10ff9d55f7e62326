"""Video rules VID001-VID020 on facts built directly (rules never read files), each
with a case that triggers it and a boundary case that does not."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from factories import GOOD_VIDEO

from igpreflight.catalog import RULES
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.limits import VIDEO_LIMITS
from igpreflight.model import Role, Severity, VideoFacts
from igpreflight.preflight.checks import check_facts, check_video
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules import REGISTRY
from tests.corpus import CORPUS, needs_corpus

GOOD = GOOD_VIDEO
CAROUSEL_GOOD = replace(GOOD, width=1080, height=1350)


def vid(**kw) -> VideoFacts:
    return replace(GOOD, **kw)


def codes(facts: VideoFacts, role: Role = Role.REELS) -> list[str]:
    return [f.rule for f in check_video(facts, role)]


def only(facts: VideoFacts, code: str, role: Role = Role.REELS):
    found = [f for f in check_video(facts, role) if f.rule == code]
    assert len(found) == 1, found
    return found[0]


def test_compliant_video_has_no_findings():
    assert check_video(GOOD, Role.REELS) == []
    assert check_video(GOOD, Role.STORY_VIDEO) == []
    assert check_video(CAROUSEL_GOOD, Role.CAROUSEL_VIDEO) == []
    assert check_video(replace(GOOD, container="QuickTime", extension="mov")) == []


# VID001 container
@pytest.mark.parametrize("container", ["Matroska", "WebM", "AVI", "MPEG-TS", "Flash Video"])
def test_vid001_container(container):
    f = only(vid(container=container, is_streamable=None), "VID001")
    assert container in f.message and f.code == 352 and f.subcode == 2207026


def test_vid001_quicktime_case_insensitive_passes():
    assert "VID001" not in codes(vid(container="quicktime"))


# VID002 / VID018 codec
def test_vid002_codec():
    f = only(vid(video_codec="VP9"), "VID002")
    assert "VP9" in f.message and "H.264" in f.message and f.fixable


def test_vid002_no_video_stream_is_not_fixable():
    f = only(vid(has_video=False, video_codec=None, width=None, height=None, fps=None), "VID002")
    assert "no video stream" in f.message and not f.fixable


def test_vid018_hevc_is_a_warning_not_an_error():
    found = check_video(vid(video_codec="HEVC"))
    assert [f.rule for f in found] == ["VID018"]
    assert found[0].severity is Severity.WARNING
    assert "VID018" not in codes(GOOD)


def test_vid018_names_an_hev1_entry_and_whether_a_remux_can_retag_it():
    assert "hev1" not in only(vid(video_codec="HEVC", video_entry="hvc1"), "VID018").message
    retag = only(vid(video_codec="HEVC", video_entry="hev1"), "VID018").message
    assert "hev1" in retag and "Apple" in retag and "re-encoding" not in retag
    inband = vid(video_codec="HEVC", video_entry="hev1", inband_parameter_sets=True)
    assert "only re-encoding fixes it" in only(inband, "VID018").message


# VID003 audio codec
def test_vid003_audio_codec():
    f = only(vid(audio_codec="Opus"), "VID003")
    assert "Opus" in f.message and "AAC" in f.message


def test_vid003_no_audio_is_fine():
    assert check_video(vid(has_audio=False, audio_codec=None, audio_bitrate=None)) == []


# VID004 faststart
def test_vid004_moov_at_end():
    f = only(vid(is_streamable=False), "VID004")
    assert f.severity is Severity.WARNING and "faststart" in f.message
    assert "VID004" not in codes(vid(is_streamable=None))


# VID005 frame rate
@pytest.mark.parametrize("fps", [23.0, 23.976, 60.0, 59.94, 60.0000001])
def test_vid005_boundaries_pass(fps):
    assert "VID005" not in codes(vid(fps=fps))


@pytest.mark.parametrize("fps, word", [(22.9, "below 23"), (61.0, "above 60"), (120.0, "above")])
def test_vid005_outside(fps, word):
    f = only(vid(fps=fps), "VID005")
    assert word in f.message and f"{fps:g} fps" in f.message


def test_vid005_vfr_without_fps_is_not_judged_and_with_fps_is():
    assert "VID005" not in codes(vid(fps=None, frame_rate_mode="VFR"))
    f = only(vid(fps=15.0, frame_rate_mode="VFR"), "VID005")
    assert "variable" in f.message


# VID006 width
def test_vid006_displayed_width():
    f = only(vid(width=1921, height=1080), "VID006")
    assert "1921" in f.message and "1920" in f.message
    assert "VID006" not in codes(vid(width=1920, height=1080))


def test_vid006_rotation_uses_displayed_width():
    # Coded 1920x2160 with 90° rotation is displayed 2160 wide; coded 2160x1920 turned is 1920.
    assert "VID006" in codes(vid(width=1920, height=2160, rotation=90))
    assert "VID006" not in codes(vid(width=2160, height=1920, rotation=90))


def test_vid006_sample_aspect_ratio_widens():
    # 1440x1080 with 4:3 pixels is displayed 1920 wide (passes); 1500 with 4:3 is 2000.
    assert "VID006" not in codes(vid(width=1440, height=1080, sar=4 / 3))
    assert "VID006" in codes(vid(width=1500, height=1080, sar=4 / 3))


# VID007 aspect per role
def test_vid007_carousel_range_is_4_5_to_1_91():
    assert "VID007" not in codes(vid(width=1080, height=1350), Role.CAROUSEL_VIDEO)
    f = only(vid(width=1080, height=1360), "VID007", Role.CAROUSEL_VIDEO)
    assert "0.794" in f.message and "4:5" in f.message and "carousel" in f.message
    assert "VID007" in codes(vid(width=1080, height=1920), Role.CAROUSEL_VIDEO)
    assert "VID007" not in codes(vid(width=1080, height=1920), Role.REELS)


def test_vid007_story_range_is_0_1_to_10():
    assert "VID007" not in codes(vid(width=100, height=1000), Role.STORY_VIDEO)
    f = only(vid(width=99, height=1000), "VID007", Role.STORY_VIDEO)
    assert "below" in f.message
    # Reels accept down to 0.01:1.
    assert "VID007" not in codes(vid(width=99, height=1000), Role.REELS)


def test_vid007_wide_limit_10_to_1():
    assert "VID007" not in codes(vid(width=1000, height=100))
    f = only(vid(width=1001, height=100), "VID007")
    assert "above 10:1" in f.message


def test_vid007_rotated_video_measured_displayed():
    # Coded 1920x1080, rotated 90°: displayed 1080x1920, which a carousel rejects.
    f = only(vid(width=1920, height=1080, rotation=90), "VID007", Role.CAROUSEL_VIDEO)
    assert "1080x1920" in f.message


# VID019 9:16 recommended (info)
def test_vid019_not_9_16():
    f = only(vid(width=1920, height=1080), "VID019")
    assert f.severity is Severity.INFO and "9:16" in f.message
    assert "VID019" in codes(vid(width=1080, height=1350), Role.STORY_VIDEO)


def test_vid019_within_tolerance_and_carousel_exempt():
    assert "VID019" not in codes(vid(width=1080, height=1920))
    assert "VID019" not in codes(vid(width=1080, height=1910))  # 0.5% off
    assert "VID019" in codes(vid(width=1080, height=1880))  # 2% off
    assert "VID019" not in codes(vid(width=1080, height=1350), Role.CAROUSEL_VIDEO)


# VID008 duration
@pytest.mark.parametrize(
    "role, ok", [(Role.REELS, 900.0), (Role.STORY_VIDEO, 60.0), (Role.CAROUSEL_VIDEO, 60.0)]
)
def test_vid008_boundaries_pass(role, ok):
    base = CAROUSEL_GOOD if role is Role.CAROUSEL_VIDEO else GOOD
    assert "VID008" not in codes(replace(base, duration=3.0), role)
    assert "VID008" not in codes(replace(base, duration=ok), role)


def test_vid008_too_short_says_extend():
    f = only(vid(duration=2.99), "VID008")
    assert "2.99 s" in f.message and "3 s" in f.message and "--extend" in f.message
    assert not f.fixable


def test_vid008_too_long_says_trim():
    f = only(vid(duration=61.0), "VID008", Role.STORY_VIDEO)
    assert "61 s" in f.message and "60 s" in f.message and "--trim" in f.message
    g = only(vid(duration=901.0), "VID008")
    assert "901 s (15:01)" in g.message and "900 s (15:00)" in g.message
    assert "VID008" not in codes(vid(duration=61.0), Role.REELS)


# VID009 size per role
def test_vid009_size_per_role():
    assert "VID009" not in codes(vid(bytes=100_000_000), Role.STORY_VIDEO)
    f = only(vid(bytes=100_000_001), "VID009", Role.STORY_VIDEO)
    assert "100,000,001" in f.message and "100,000,000" in f.message
    assert "VID009" not in codes(vid(bytes=300_000_000))
    assert "VID009" in codes(vid(bytes=300_000_001))


# VID010 bitrate
def test_vid010_bitrate():
    assert "VID010" not in codes(vid(video_bitrate=25_000_000))
    f = only(vid(video_bitrate=30_200_000), "VID010")
    assert "30.2 Mbps" in f.message and "25 Mbps" in f.message


def test_vid010_estimated_when_unknown():
    # 40 MB over 10 s is 32 Mbps in total; minus 128 kbps of audio still far above 25.
    f = only(vid(video_bitrate=None, bytes=40_000_000), "VID010")
    assert "estimated" in f.message
    assert "VID010" not in codes(vid(video_bitrate=None, bytes=20_000_000))


# VID011 sample rate
def test_vid011_sample_rate():
    assert "VID011" not in codes(vid(audio_sample_rate=48_000))
    f = only(vid(audio_sample_rate=96_000), "VID011")
    assert "96 kHz" in f.message and "48 kHz" in f.message


# VID012 channels
@pytest.mark.parametrize("n", [1, 2])
def test_vid012_mono_stereo_pass(n):
    assert "VID012" not in codes(vid(audio_channels=n))


@pytest.mark.parametrize("n", [3, 6, 0])
def test_vid012_other_channel_counts(n):
    f = only(vid(audio_channels=n), "VID012")
    assert f"{n} channels" in f.message


# VID013 scan
@pytest.mark.parametrize("scan", ["Interlaced", "MBAFF", "PAFF"])
def test_vid013_interlaced(scan):
    assert scan in only(vid(scan_type=scan), "VID013").message


def test_vid013_progressive_or_unknown_pass():
    assert "VID013" not in codes(vid(scan_type="Progressive"))
    assert "VID013" not in codes(vid(scan_type=None))


# VID014 pixels
def test_vid014_chroma_and_depth():
    assert "4:2:2" in only(vid(chroma="4:2:2"), "VID014").message
    assert "10-bit" in only(vid(bit_depth=10), "VID014").message
    assert "VID014" not in codes(vid(chroma="4:2:0", bit_depth=8))
    assert "VID014" not in codes(vid(chroma=None, bit_depth=None))


@pytest.mark.parametrize("transfer", ["PQ", "HLG", "SMPTE ST 2084"])
def test_vid014_hdr_transfer_in_eight_bits(transfer):
    f = only(vid(bit_depth=8, transfer=transfer), "VID014")
    assert f"HDR ({transfer} transfer)" in f.message and "SDR" in f.message
    assert "VID014" not in codes(vid(bit_depth=8, transfer="BT.709"))


# VID015 VFR
def test_vid015_vfr():
    assert only(vid(frame_rate_mode="VFR"), "VID015").severity is Severity.WARNING
    assert "VID015" not in codes(vid(frame_rate_mode="CFR"))


# VID016 edit list
def test_vid016_edit_list():
    assert only(vid(has_edit_list=True), "VID016").severity is Severity.WARNING
    assert "VID016" not in codes(vid(has_edit_list=False))


# VID017 rotation
def test_vid017_rotation_info():
    f = only(vid(width=1920, height=1080, rotation=90), "VID017")
    assert f.severity is Severity.INFO and "90°" in f.message and "1080x1920" in f.message
    assert "VID017" not in codes(vid(rotation=0))


# VID020 audio bitrate band 64..256 kbps
@pytest.mark.parametrize("rate", [64_000, 128_000, 256_000])
def test_vid020_band_passes(rate):
    assert "VID020" not in codes(vid(audio_bitrate=rate))


@pytest.mark.parametrize("rate, text", [(320_000, "320 kbps"), (48_000, "48 kbps")])
def test_vid020_far_from_128(rate, text):
    f = only(vid(audio_bitrate=rate), "VID020")
    assert f.severity is Severity.INFO and text in f.message and "128 kbps" in f.message


def test_check_facts_dispatches_videos_by_role():
    assert check_facts(GOOD) == []
    long = vid(duration=120.0)
    assert [f.rule for f in check_facts(long)] == []
    assert [f.rule for f in check_facts(long, Role.STORY_VIDEO)] == ["VID008"]
    with pytest.raises(ValueError):
        check_video(GOOD, Role.FEED_IMAGE)


def test_every_video_rule_has_a_catalog_entry_and_vice_versa():
    assert set(REGISTRY.video) == {c for c in RULES if c.startswith("VID")}
    assert set(VIDEO_LIMITS) == {r for r in Role if not r.is_image and r is not Role.COVER}


# ---------------------------------------------------------------- end to end on real files


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """A 3 s 320x180 H.264+AAC clip (moov at the end) and the same with a 90° display matrix."""
    d = tmp_path_factory.mktemp("clips")
    plain, turned = d / "plain.mp4", d / "turned.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x180:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=duration=3:sample_rate=48000",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-shortest", str(plain),
    )  # fmt: skip
    _ffmpeg(
        "-display_rotation:v:0",
        "90",
        "-i",
        str(plain),
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        str(turned),
    )
    return {"plain": plain, "turned": turned}


def _probe(path: Path) -> VideoFacts:
    facts = probe(str(path))
    assert isinstance(facts, VideoFacts), facts
    return facts


def test_e2e_display_matrix_rotation_is_measured_displayed(clips):
    facts = _probe(clips["turned"])
    assert facts.rotation in (90, 270)
    found = {f.rule: f for f in check_video(facts, Role.CAROUSEL_VIDEO)}
    assert "180x320" in found["VID017"].message
    assert "180x320" in found["VID007"].message and "below 4:5" in found["VID007"].message
    # Displayed 9:16: exactly the recommended Reels ratio.
    assert {f.rule for f in check_video(facts, Role.REELS)} == {"VID017"}


def test_e2e_plain_clip(clips):
    found = {f.rule for f in check_video(_probe(clips["plain"]), Role.REELS)}
    # 16:9 is not the 9:16 recommendation; ffmpeg wrote the moov last; 3 s passes VID008.
    assert found == {"VID004", "VID019"}


@needs_corpus
@pytest.mark.parametrize(
    "name, expected, absent",
    [
        (
            "androidx-media/portrait_4k60.mp4",
            {"VID004", "VID006", "VID008", "VID010", "VID017"},
            {"VID005", "VID001", "VID002"},
        ),
        (
            "interlace-detection-test-patterns/bt601-525_480_interlaced_bff.ts",
            {"VID001", "VID002", "VID003", "VID013"},
            {"VID008", "VID012"},
        ),
        ("androidx-media/sample_ac3.mp4", {"VID002", "VID003", "VID012", "VID020"}, {"VID001"}),
        ("androidx-media/sample_portrait.mp4", {"VID004", "VID008"}, {"VID007", "VID006"}),
    ],
)
def test_e2e_corpus(name, expected, absent):
    found = {f.rule for f in check_video(_probe(CORPUS / name), Role.REELS)}
    assert expected <= found and not (absent & found), found


@needs_corpus
def test_e2e_audio_only_file_has_no_video_stream():
    found = check_video(_probe(CORPUS / "androidx-media/sample_ac3.mp4"), Role.REELS)
    vid002 = [f for f in found if f.rule == "VID002"]
    assert vid002 and "no video stream" in vid002[0].message and not vid002[0].fixable

"""H.264 in AVI (avi_h264): MediaInfo calls it VFR and reads its pixels from a rounded
display ratio, so `fix` re-encoded and scaled what a remux keeps. Real clips made with
the bundled ffmpeg through probe -> check -> plan -> apply, then `check --deep` and a
second fix; the corpus's MPEG-4 AVI read through the same chunk timing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight import check
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Role
from igpreflight.preflight import ts_timing
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.mediainfo_child import parse_fields
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.types import FixOptions, FixStatus
from igpreflight.transcode.video_encode import PRESET_ENV
from tests.corpus import CORPUS, needs_corpus
from tests.test_fix_video import fix, stream_hashes, video_facts

B_FRAMES = ["-x264-params", "bframes=3"]

NO_B_FRAMES = ["-bf", "0"]


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch):
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


def decoded(path: Path) -> list[str]:
    """MD5 of every decoded picture (a copy into MP4 rewrites Annex B as avcC, so the
    packets differ while the pictures must not)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0"]
        + ["-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line[:1] != "#"]


def avi(path: Path, extra: list[str], acodec: str | None = "aac") -> Path:
    """A 720x1280 30 fps H.264 AVI: its display ratio rounds to 0.562 in MediaInfo."""
    return make_video(path, 720, 1280, 30, 3.5, acodec=acodec, extra_args=extra)


def test_a_compliant_h264_avi_is_remuxed_with_the_stream_copied(tmp_path: Path):
    src = avi(tmp_path / "clip.avi", NO_B_FRAMES)
    said = parse_fields(str(src), 0.5, None)["video"]
    assert said["frame_rate_mode"] == "VFR" and said["pixel_aspect_ratio"] == "0.999"
    facts = video_facts(src)
    assert (facts.fps, facts.frame_rate_mode, facts.sar) == (30.0, "CFR", 1.0)
    assert {f.rule for f in check_facts(facts, Role.REELS)} == {"VID001"}

    plan, out = fix(src, tmp_path / "clip.mp4")

    assert plan.status is FixStatus.REMUXED, [s.detail for s in plan.steps]
    assert decoded(src) == decoded(tmp_path / "clip.mp4")
    assert stream_hashes(src)["a"] == stream_hashes(tmp_path / "clip.mp4")["a"]
    assert (out.fps, out.frame_rate_mode, out.sar, out.width) == (30.0, "CFR", 1.0, 720)
    assert check([str(tmp_path / "clip.mp4")], deep=True).errors == []
    again, _ = fix(tmp_path / "clip.mp4", tmp_path / "again.mp4")
    assert again.status is FixStatus.COPIED


def test_mp3_in_the_avi_is_encoded_and_the_video_still_copied(tmp_path: Path):
    src = avi(tmp_path / "mp3.avi", NO_B_FRAMES, acodec="libmp3lame")
    plan, out = fix(src, tmp_path / "mp3.mp4")
    assert [s.name for s in plan.steps][:2] == ["copy-video", "encode-audio"]
    assert decoded(src) == decoded(tmp_path / "mp3.mp4")
    assert out.frame_rate_mode == "CFR" and out.audio_codec == "AAC"


def test_b_frames_are_re_encoded_but_never_scaled(tmp_path: Path):
    """AVI has no presentation times: a copy would show B-frames in decode order."""
    src = avi(tmp_path / "bframes.avi", B_FRAMES)
    facts = video_facts(src)
    assert facts.sar == 1.0 and facts.display_width == 720
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    names = [s.name for s in plan.steps]
    assert "encode-video" in names and "scale" not in names


def test_a_gap_in_the_chunks_is_still_variable(tmp_path: Path):
    """Frames 40-59 dropped: ffmpeg's AVI muxer writes empty chunks for them."""
    drop = ["-vf", "select='not(between(n,40,59))'", "-fps_mode", "passthrough"]
    src = avi(tmp_path / "gap.avi", NO_B_FRAMES + drop)
    facts = video_facts(src)
    assert facts.frame_rate_mode == "VFR"
    assert "VID015" in {f.rule for f in check_facts(facts, Role.REELS)}


def test_non_square_pixels_from_the_sps_keep_their_shape(tmp_path: Path):
    src = avi(tmp_path / "anamorphic.avi", NO_B_FRAMES + ["-vf", "setsar=4/3"])
    facts = video_facts(src)
    assert facts.sar == pytest.approx(4 / 3) and facts.display_width == 960
    plan, out = fix(src, tmp_path / "anamorphic.mp4")
    assert plan.status is FixStatus.REMUXED
    assert out.sar == pytest.approx(4 / 3, abs=1e-3) and out.display_width == 960


@needs_corpus
def test_the_corpus_mpeg4_avi_reads_constant_by_its_chunks():
    """Its first picture is followed by two empty chunks (ffmpeg's muxer): set aside,
    the chunks are one tick each; read by presentation times it looked variable."""
    sample = str(CORPUS / "androidx-media" / "sample.avi")
    assert ts_timing.packet_timing(sample, first_aside=True, by_dts=True) == (23.976, "CFR")
    assert video_facts(Path(sample)).frame_rate_mode is None  # MediaInfo's, untouched

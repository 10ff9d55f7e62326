"""Video fix where the stream is fine but how it is labelled is not: an HEVC stream in
an hev1 sample entry (Apple's players want hvc1) and 8-bit H.264 labelled PQ (HDR
coded in 8 bits, which Instagram shows as SDR). Real clips from the bundled ffmpeg
through probe -> check -> plan -> apply, then `check --deep` and a second fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight import check
from igpreflight.model import Role
from igpreflight.preflight.checks import check_facts
from igpreflight.transcode.types import FixStatus
from igpreflight.transcode.video_encode import PRESET_ENV
from tests.test_fix_video import assert_noop, assert_on_target, fix, stream_hashes, video_facts

X264_PQ = "transfer=smpte2084:colorprim=bt2020:colormatrix=bt2020nc"


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch):
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


def hev1_clip(path: Path) -> Path:
    """A compliant HEVC clip as ffmpeg writes it by default into MP4: an hev1 entry
    whose hvcC still holds the VPS, SPS and PPS."""
    return make_video(path, vcodec="libx265", duration=3.2, extra_args=["-tag:v", "hev1"])


def test_keep_hevc_remuxes_an_hev1_entry_as_hvc1_with_the_stream_copied(tmp_path: Path):
    src = hev1_clip(tmp_path / "hev1.mp4")
    facts = video_facts(src)
    assert facts.video_entry == "hev1" and not facts.inband_parameter_sets
    (hevc,) = [f for f in check_facts(facts, Role.REELS) if f.rule == "VID018"]
    assert "hev1" in hevc.message and "Apple" in hevc.message
    before = src.read_bytes()

    plan, out = fix(src, tmp_path / "out.mp4", keep_hevc=True)

    assert plan.status is FixStatus.REMUXED
    assert "retagged hvc1" in plan.steps[0].detail
    assert out.video_codec == "HEVC" and out.video_entry == "hvc1"
    assert stream_hashes(src) == stream_hashes(tmp_path / "out.mp4")
    assert src.read_bytes() == before
    assert check([str(tmp_path / "out.mp4")], deep=True).errors == []
    again, _ = fix(tmp_path / "out.mp4", tmp_path / "again.mp4", keep_hevc=True)
    assert again.status is FixStatus.COPIED


def test_keep_hevc_copies_an_hvc1_entry_untouched(tmp_path: Path):
    src = make_video(tmp_path / "hvc1.mp4", vcodec="libx265", duration=3.2)
    facts = video_facts(src)
    assert facts.video_entry == "hvc1"
    (hevc,) = [f for f in check_facts(facts, Role.REELS) if f.rule == "VID018"]
    assert "hev1" not in hevc.message
    plan, _ = fix(src, tmp_path / "out.mp4", keep_hevc=True)
    assert plan.status is FixStatus.COPIED


def test_eight_bit_pq_is_tone_mapped_to_sdr(tmp_path: Path):
    src = make_video(tmp_path / "pq8.mp4", duration=3.2, extra_args=["-x264-params", X264_PQ])
    facts = video_facts(src)
    assert facts.bit_depth == 8 and facts.transfer == "PQ"
    (pixels,) = [f for f in check_facts(facts, Role.REELS) if f.rule == "VID014"]
    assert "HDR (PQ transfer)" in pixels.message

    plan, out = fix(src, tmp_path / "out.mp4")

    assert plan.status is FixStatus.TRANSCODED
    assert [s.name for s in plan.steps if s.name == "tone-map"] == ["tone-map"]
    assert out.transfer == "BT.709" and not out.hdr
    assert_on_target(out, Role.REELS)
    assert stream_hashes(src)["a"] == stream_hashes(tmp_path / "out.mp4")["a"]
    assert check([str(tmp_path / "out.mp4")], deep=True).errors == []
    assert_noop(tmp_path / "out.mp4", Role.REELS, tmp_path)


def test_an_hev1_entry_without_parameter_sets_is_left_as_it_is(tmp_path: Path):
    """x265 repeating its headers in-band, the hvcC's arrays then emptied (as muxers
    that keep parameter sets in-band write it): `-tag:v hvc1` would promise complete
    arrays that are empty, so --keep-hevc copies it and the finding says to re-encode."""
    src = make_video(
        tmp_path / "inband.mp4",
        vcodec="libx265",
        duration=3.2,
        extra_args=["-tag:v", "hev1", "-x265-params", "log-level=error:repeat-headers=1"],
    )
    data = bytearray(src.read_bytes())
    at = data.index(b"hvcC") + 4  # the record after the box type
    assert data[at + 22] >= 3  # VPS, SPS, PPS (and x265's SEI) arrays
    data[at + 22] = 0
    src.write_bytes(bytes(data))
    facts = video_facts(src)
    assert facts.video_entry == "hev1" and facts.inband_parameter_sets
    (hevc,) = [f for f in check_facts(facts, Role.REELS) if f.rule == "VID018"]
    assert "only re-encoding fixes it" in hevc.message
    plan, _ = fix(src, tmp_path / "out.mp4", keep_hevc=True)
    assert plan.status is FixStatus.COPIED
    transcoded, out = fix(src, tmp_path / "h264.mp4")
    assert transcoded.status is FixStatus.TRANSCODED and out.video_codec == "AVC"

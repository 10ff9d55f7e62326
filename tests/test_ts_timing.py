"""MPEG-TS and M2TS videos get their frame rate from their timestamps: MediaInfo
calls every one VFR, and `fix` used to re-encode a constant-rate camcorder or
broadcast stream that a remux to MP4 keeps whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.model import VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.preflight.ts_timing import timing_of
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus

CLIP = dict(width=320, height=240, duration=3.0, container="ts")


def _listing(pts: list[int | str], base: str = "1/90000") -> str:
    lines = [f"#tb 0: {base}", "#media_type 0: video"]
    lines += [f"0, {p}, {p}, 1, 100, 0x00000000" for p in pts]
    return "\n".join(lines) + "\n"


def test_equal_steps_are_a_constant_rate():
    assert timing_of(_listing([0, 6000, 3000, 9000, 12000])) == (30.0, "CFR")  # reordered


def test_a_one_tick_alternation_is_still_constant():
    stamps = [round(i * 1501.5) for i in range(200)]  # 59.94 fps on a 90 kHz clock
    assert timing_of(_listing(stamps)) == (59.94, "CFR")


def test_uneven_steps_are_variable():
    assert timing_of(_listing([0, 3000, 6000, 12000, 18000])) == (20.0, "VFR")  # the mean


@pytest.mark.parametrize(
    "pts",
    [[0, 3000], [0, "NOPTS", 6000, 9000], [0, 3000, 3000, 6000]],
    ids=["too few", "a picture without a time", "two pictures at one time"],
)
def test_what_timestamps_cannot_say(pts):
    assert timing_of(_listing(pts)) is None


def _facts(path: Path) -> VideoFacts:
    facts = probe(path)
    assert isinstance(facts, VideoFacts), facts
    return facts


def _rules(facts: VideoFacts) -> set[str]:
    return {f.rule for f in check_facts(facts)}


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("broadcast.ts", ["-preset", "veryfast", "-g", "30"]),  # B-frames: PTS out of order
        ("camcorder.m2ts", ["-mpegts_m2ts_mode", "1"]),
    ],
)
def test_a_constant_rate_transport_stream_is_remuxed(tmp_path, name, extra):
    source = make_video(tmp_path / name, fps=30, extra_args=extra, **CLIP)
    facts = _facts(source)
    assert (facts.fps, facts.frame_rate_mode) == (30.0, "CFR")
    assert "VID015" not in _rules(facts) and "VID001" in _rules(facts)
    (result,) = fix_paths([source], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.REMUXED, result
    fixed = _facts(Path(result.output))
    assert fixed.frame_rate_mode == "CFR" and not {"VID001", "VID015"} & _rules(fixed)
    (again,) = fix_paths([Path(result.output)], tmp_path / "again", FixOptions())
    assert again.status is FixStatus.COPIED


def test_a_variable_rate_transport_stream_is_still_made_constant(tmp_path):
    half_rate_after_a_second = ["-vf", "select='lt(n,30)+not(mod(n,2))'", "-fps_mode", "vfr"]
    source = make_video(tmp_path / "vfr.ts", fps=30, extra_args=half_rate_after_a_second, **CLIP)
    facts = _facts(source)
    assert facts.frame_rate_mode == "VFR" and "VID015" in _rules(facts)
    (result,) = fix_paths([source], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.TRANSCODED, result
    assert _facts(Path(result.output)).frame_rate_mode == "CFR"


def test_an_interlaced_transport_stream_keeps_mediainfos_word(tmp_path):
    """Its packets may be fields, not frames: its timestamps are not read."""
    source = make_video(tmp_path / "tv.ts", fps=25, interlaced=True, **CLIP)
    facts = _facts(source)
    assert facts.scan_type != "Progressive" and facts.frame_rate_mode == "VFR"


def test_a_transport_streams_duration_is_its_longest_streams(tmp_path):
    """libmediainfo's overall duration of a TS is an estimate (4.30 s for this 4.0 s
    clip): `fix` refused it, its transcode lasting 4.03 s (a seed the fix property
    found, drawing MPEG-TS sources)."""
    source = make_video(tmp_path / "r48x48-10-libx265.ts", 48, 48, 10, 4.0, "libx265")
    assert abs(_facts(source).duration - 4.032) < 0.01  # the AAC's 4.032 s, not 4.30 s
    (result,) = fix_paths([source], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.TRANSCODED, result


FRAGMENTED = ["-movflags", "frag_keyframe+empty_moov"]


def test_a_first_step_set_aside_only_where_asked():
    stretched = _listing([0, 840, 1352, 1864, 2376], base="1/15360")  # 30 fps, first + 328
    assert timing_of(stretched) == (25.859, "VFR")
    assert timing_of(stretched, first_aside=True) == (30.0, "CFR")
    uneven = _listing([0, 840, 1352, 2376, 2888], base="1/15360")  # a gap later on
    assert timing_of(uneven, first_aside=True)[1] == "VFR"


def test_a_constant_rate_fragmented_mp4_is_copied(tmp_path):
    """ffmpeg's fragmenting muxer (no edit list) stretches the first picture by the
    AAC priming; MediaInfo then said "VFR 29.841 fps" where the same stream
    unfragmented is CFR 30, and fix re-encoded it to 29.97 fps."""
    source = make_video(tmp_path / "obs.mp4", fps=30, duration=3.2, extra_args=FRAGMENTED)
    facts = _facts(source)
    assert (facts.fps, facts.frame_rate_mode) == (30.0, "CFR")
    assert "VID015" not in _rules(facts)
    (result,) = fix_paths([source], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.COPIED, result


def test_a_variable_rate_fragmented_mp4_stays_variable(tmp_path):
    half_rate_after_a_second = ["-vf", "select='lt(n,30)+not(mod(n,2))'", "-fps_mode", "vfr"]
    extra = [*half_rate_after_a_second, *FRAGMENTED]
    source = make_video(tmp_path / "vfr.mp4", fps=30, duration=3.2, extra_args=extra)
    facts = _facts(source)
    assert facts.frame_rate_mode == "VFR" and "VID015" in _rules(facts)

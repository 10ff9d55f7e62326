"""An edit list that delays the start (VID016): the fix keeps the timeline it showed.

`ffmpeg -itsoffset 0.5 -i in.mp4 -c copy out.mp4` (and cameras that start
recording one track late) write an empty edit: players show the first 0.5 s
as a held frame and silence, and `check` measures 4.5 s. The fix must encode
exactly that: the first frame held and silence for the lead, no edit list, a
file that lasts what check said, so a clip that passes VID008 because of its
lead still passes after the fix. Real files, the bundled ffmpeg.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Role, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.types import FixOptions, FixStatus
from igpreflight.transcode.video import apply_video
from igpreflight.transcode.video_encode import PRESET_ENV


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch):
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


def _facts(path: Path) -> VideoFacts:
    facts = probe(str(path))
    assert isinstance(facts, VideoFacts), facts
    return facts


def _delayed(tmp_path: Path, duration: float, lead: float) -> Path:
    """A clip whose tracks both start `lead` seconds late (an empty edit each)."""
    src = make_video(tmp_path / "src.mp4", duration=duration, width=160, height=284)
    out = tmp_path / "delayed.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-itsoffset", str(lead), "-i", str(src)]
        + ["-c", "copy", "-movflags", "+faststart", str(out)],
        check=True,
        timeout=60,
    )
    return out


def _first_pts(path: Path) -> dict[str, float]:
    """Each stream's start, as ffmpeg's demuxer (and so a player) sees it
    (ffmpeg prints a stream's start only when it is not zero)."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    ).stderr
    starts: dict[str, float] = {}
    for line in err.splitlines():
        if "Stream #" in line and ("Video:" in line or "Audio:" in line):
            start = line.split(", start ")[1].split()[0] if ", start " in line else "0"
            starts["v" if "Video:" in line else "a"] = float(start)
    return starts


@pytest.mark.parametrize("duration, lead", [(2.0, 1.5), (3.0, 0.5)])
def test_a_delayed_start_is_kept_as_held_frame_and_silence(tmp_path, duration, lead):
    src = _delayed(tmp_path, duration, lead)
    facts = _facts(src)
    assert facts.has_edit_list and abs(facts.duration - (duration + lead)) < 0.05
    found = check_facts(facts, Role.REELS)
    assert "VID008" not in {f.rule for f in found}  # the lead counts: 3.5 s passes
    plan = plan_video(facts, found, Role.REELS, FixOptions())
    assert plan.status is FixStatus.TRANSCODED
    before = src.read_bytes()
    dst = tmp_path / "out" / "delayed.mp4"
    apply_video(src, facts, plan, dst, FixOptions())  # raised "the output lasts 2.033 s"
    assert src.read_bytes() == before
    out = _facts(dst)
    assert abs(out.duration - (duration + lead)) < 0.1
    assert out.has_edit_list is False
    assert [f.rule for f in check_facts(out, Role.REELS) if f.rule != "VID020"] == []
    # both streams start at zero: the lead is in the pictures and the samples
    starts = _first_pts(dst)
    assert starts == {"v": 0.0, "a": 0.0}, starts


def test_a_source_without_an_edit_list_is_not_padded(tmp_path):
    # a plain encode keeps ffmpeg's own start handling: no held frame is added
    src = make_video(tmp_path / "plain.mp4", duration=3.2, width=160, height=284, fps=15)
    facts = _facts(src)
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    dst = tmp_path / "out" / "plain.mp4"
    apply_video(src, facts, plan, dst, FixOptions())
    assert abs(_facts(dst).duration - 3.2) < 0.1

"""A display matrix that mirrors the picture (VID017): check names it, fix bakes it.

MediaInfo reads only an angle from the matrix: `-display_hflip` reads as 180°,
`-display_vflip` as 0°. So a vertically mirrored clip passed check silently and
fix copied it with the mirror still in the header, where SPEC 2 bakes display
transforms into the pixels; a horizontal one was called a 180° rotation. Real
files from the bundled ffmpeg; the fixed picture is compared with ffmpeg's own
display of the source.
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


def _with_matrix(tmp_path: Path, name: str, flags: list[str]) -> Path:
    src = make_video(tmp_path / "plain.mp4", width=96, height=160, duration=3.2)
    out = tmp_path / name
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", *flags, "-i", str(src), "-c", "copy"]
        + ["-movflags", "+faststart", str(out)],
        check=True,
        timeout=60,
    )
    return out


def _first_frame(path: Path, autorotate: bool = True) -> bytes:
    """The first picture, grey, 24x40 (its displayed orientation unless told)."""
    args = [ffmpeg_exe(), "-v", "error", "-nostdin"]
    args += [] if autorotate else ["-noautorotate"]
    args += ["-i", str(path), "-frames:v", "1", "-vf", "scale=24:40", "-pix_fmt", "gray"]
    return subprocess.run(
        [*args, "-f", "rawvideo", "-"], capture_output=True, check=True, timeout=60
    ).stdout


def _close(a: bytes, b: bytes) -> bool:
    return len(a) == len(b) and sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a) < 4


def _vid017(facts: VideoFacts) -> list[str]:
    return [f.message for f in check_facts(facts, Role.REELS) if f.rule == "VID017"]


@pytest.mark.parametrize(
    "flags, said",
    [
        (["-display_vflip"], "mirrors the video"),  # MediaInfo: 0°, no finding before
        (["-display_hflip"], "mirrors the video"),  # MediaInfo: "180°"
        (["-display_rotation", "90", "-display_hflip"], "mirrors and turns the video"),
    ],
    ids=["vflip", "hflip", "rot90-hflip"],
)
def test_a_mirrored_matrix_is_named_and_baked_in(tmp_path, flags, said):
    src = _with_matrix(tmp_path, "mirrored.mp4", flags)
    facts = _facts(src)
    assert facts.mirrored is True
    (message,) = _vid017(facts)
    assert said in message and "rotates" not in message
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    assert plan.status is FixStatus.TRANSCODED
    assert "rotate" in [s.name for s in plan.steps]
    dst = tmp_path / "out" / "mirrored.mp4"
    apply_video(src, facts, plan, dst, FixOptions())
    out = _facts(dst)
    assert out.mirrored is False and out.rotation == 0 and _vid017(out) == []
    shown = _first_frame(src)
    assert not _close(shown, _first_frame(src, autorotate=False))  # the matrix matters
    assert _close(_first_frame(dst, autorotate=False), shown)  # pixels as displayed
    again = plan_video(out, check_facts(out, Role.REELS), Role.REELS, FixOptions())
    assert again.status is FixStatus.COPIED


def test_a_plain_rotation_is_not_a_mirror(tmp_path):
    src = _with_matrix(tmp_path, "turned.mp4", ["-display_rotation", "90"])
    facts = _facts(src)
    assert facts.mirrored is False and facts.rotation == 270
    (message,) = _vid017(facts)
    assert "rotates the video by 270°" in message

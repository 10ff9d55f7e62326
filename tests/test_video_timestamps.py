"""Pictures that share a time are no damage. A zero-length sample (two pictures
decoded and shown at one time) or a duplicate presentation time made ffmpeg's
null muxer say "non monotonically increasing dts to muxer" after every picture
had decoded, and the proof took it for a decoder's complaint: `check --deep`
called a sound clip FILE001 "does not decode", and `fix` refused to copy or remux
a clip `check` passed ("unfixable: FILE001 does not decode").

Now a zero-length sample is VFR (VID015, as MediaInfo's tables say), which `fix`
re-times to a constant rate; a duplicate presentation time with constant
durations is nothing, and `fix` copies or remuxes it; and damage after such a
sample is still found, with the complaint it gets without it."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from fixtures.generate import make_video
from fixtures.timestamps import share_presentation, share_time
from igpreflight import check, fix
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.preflight.ffmpeg_decode import ffmpeg_error
from igpreflight.preflight.video_proof import Proof
from igpreflight.transcode.types import FixStatus
from tests.test_video_proof import _samples

COMMON = dict(width=320, height=240, fps=30, duration=3.5, bitrate="500k")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("timestamps")


@pytest.fixture(scope="module")
def plain(folder: Path) -> Path:
    """P frames only (ultrafast), a keyframe every 30 frames: proved in pieces."""
    return make_video(folder / "plain.mp4", **COMMON, extra_args=["-g", "30"])


def _muxer_complains(clip: Path) -> bool:
    """Whether ffmpeg's null muxer says of `clip` what the proof took for damage
    (the clip is the case the test means: ffmpeg may guess other timestamps)."""
    cmd = [ffmpeg_exe(), "-v", "error", "-threads", "1", "-i", str(clip), "-f", "null", "-"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return "non monotonically increasing dts to muxer" in done.stderr


def _found(path: Path, deep: bool) -> list[tuple[str, str]]:
    (checked,) = check([path], deep=deep).files
    return [(f.rule, f.message) for f in checked.findings]


@pytest.mark.parametrize("sample", [10, 60, 103])  # early, on a keyframe's neighbour, last-but-one
def test_a_zero_length_sample_is_vfr_not_damage(plain, tmp_path, sample):
    clip = share_time(plain, tmp_path / f"shared-{sample}.mp4", sample)
    assert _muxer_complains(clip)
    deep = _found(clip, deep=True)
    assert [rule for rule, _ in deep if rule.startswith(("FILE", "VID015"))] == ["VID015"], deep
    assert ffmpeg_error(clip, 3.5, video=True) is None
    (result,) = fix([clip], tmp_path / "out").files
    assert result.status is FixStatus.TRANSCODED, result.reason
    assert "VID015" in {r for step in result.plan.steps for r in step.rules}
    out = tmp_path / "out" / clip.name
    assert [r for r, _ in _found(out, deep=True) if r != "VID019"] == []
    (again,) = fix([out], tmp_path / "again").files
    assert again.status is FixStatus.COPIED
    assert (tmp_path / "again" / clip.name).read_bytes() == out.read_bytes()


@pytest.mark.parametrize("faststart", [True, False])
def test_a_duplicate_presentation_time_is_copied_or_remuxed(tmp_path, faststart):
    """Decode times and durations constant (CFR), two pictures shown at one time:
    `check` passes it, so `fix` must not call it unfixable."""
    src = make_video(
        tmp_path / "src.mp4", **COMMON, faststart=faststart, extra_args=["-preset", "veryfast"]
    )
    clip = share_presentation(src, tmp_path / "clip.mp4", 2, 3)
    assert _muxer_complains(clip)
    assert [r for r, _ in _found(clip, deep=True) if r not in ("VID004", "VID019")] == []
    (result,) = fix([clip], tmp_path / "out").files
    wanted = FixStatus.COPIED if faststart else FixStatus.REMUXED
    assert result.status is wanted, result.reason
    out = tmp_path / "out" / "clip.mp4"
    assert [r for r, _ in _found(out, deep=True) if r != "VID019"] == []
    (again,) = fix([out], tmp_path / "again").files
    assert again.status is FixStatus.COPIED


def _damaged(path: Path, sample: int, out: Path) -> Path:
    offset, size = _samples(path)[sample]
    data = bytearray(path.read_bytes())
    rng = random.Random(sample)
    for _ in range(4):
        data[offset + rng.randrange(size // 5, size)] ^= 1 << rng.randrange(8)
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("pieces", [1, 3])
def test_damage_after_a_shared_time_is_still_found(plain, tmp_path, pieces):
    """The decode does not stop at the muxer's word: a picture damaged past the
    zero-length sample fails with the complaint it gets in a clip without one."""
    damaged = _damaged(plain, 80, tmp_path / "damaged.mp4")
    both = _damaged(share_time(plain, tmp_path / "shared.mp4", 10), 80, tmp_path / "both.mp4")
    alone = Proof(damaged, 3.5, pieces=pieces).verdict()
    verdict = Proof(both, 3.5, pieces=pieces).verdict()
    assert alone is not None and verdict is not None
    assert "muxer" not in verdict
    assert verdict.split(" at ")[0] == alone.split(" at ")[0]

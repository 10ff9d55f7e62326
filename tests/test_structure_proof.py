"""fix's default proof of a copied or remuxed video (its structure, no picture
decoded) refuses what a stream copy reads without a word but whose copy does not
play: a NAL length prefix made smaller (H.264, HEVC), and an MPEG-TS cut short,
whose last picture is cut short with no size to say so (video_framing). Good
files of the same kinds still pass."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.preflight.video_proof import Proof
from tests.test_video_proof import _samples

SMALL = dict(width=160, height=120, fps=30, duration=1.0, extra_args=["-g", "10"])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("structure")
    return {
        "h264": make_video(folder / "h264.mp4", **{**SMALL, "duration": 3.0}),
        "hevc": make_video(folder / "hevc.mp4", vcodec="libx265", **SMALL),
        "mkv": make_video(folder / "clip.mkv", **SMALL),
        "ts": make_video(folder / "clip.ts", **SMALL),
    }


def _short_prefix(clip: Path, folder: Path) -> Path:
    """The clip with sample 5's first NAL length prefix set to 2: the rest of that
    NAL unit is then read as more length prefixes, which run past the sample."""
    data = bytearray(clip.read_bytes())
    offset, _ = _samples(clip)[5]
    data[offset : offset + 4] = struct.pack(">I", 2)
    damaged = folder / f"short-prefix-{clip.name}"
    damaged.write_bytes(bytes(data))
    return damaged


@pytest.mark.parametrize("kind", ["h264", "hevc"])
def test_a_shortened_nal_length_prefix_fails_the_structure_proof(clips, kind, tmp_path):
    assert Proof(clips[kind], None, frames=False).verdict() is None
    verdict = Proof(_short_prefix(clips[kind], tmp_path), None, frames=False).verdict()
    assert verdict is not None and "length prefix runs past its picture" in verdict, verdict


def test_fix_refuses_a_shortened_prefix_it_would_have_copied(clips, tmp_path):
    """Before, `fix` called this file "copied", and its output failed to play."""
    damaged = _short_prefix(clips["h264"], tmp_path)
    env = {**os.environ, "IGPREFLIGHT_PROOF_PIECES": "1"}
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(damaged), "--as", "feed"]
    cmd += ["--out", str(tmp_path / "out"), "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    (result,) = json.loads(done.stdout)["files"]
    assert done.returncode == 1 and "FILE001" in result["reason"], result
    assert not (tmp_path / "out" / damaged.name).exists()


def test_a_good_matroska_passes_the_nal_walk(clips):
    assert Proof(clips["mkv"], None, frames=False).verdict() is None


@pytest.mark.parametrize("keep", [0.8, 0.9])
def test_a_transport_stream_cut_short_fails_by_default(clips, keep, tmp_path):
    """Cut mid-packet or at a packet boundary: the demuxer hands on the last
    picture cut short without a word, so the default decodes a TS's pictures."""
    data = clips["ts"].read_bytes()
    end = int(len(data) * keep)
    if keep == 0.9:
        end -= end % 188  # at a packet boundary
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[:end])
    assert Proof(clips["ts"], None, frames=False).verdict() is None
    assert Proof(cut, None, frames=False).verdict() is not None


def test_a_complaint_said_while_probing_names_no_time(clips, tmp_path):
    """The first sample's length prefix set to 0xFFFFFFFF: ffmpeg says so while it
    probes the stream, and the run goes on to the end. Its end is not where the damage
    is (the first picture), so the verdict names no time, where it said "at 3.00 s"."""
    data = bytearray(clips["h264"].read_bytes())
    offset, _ = _samples(clips["h264"])[0]
    data[offset : offset + 4] = b"\xff\xff\xff\xff"
    damaged = tmp_path / "first.mp4"
    damaged.write_bytes(bytes(data))
    verdict = Proof(damaged, None, frames=False).verdict()
    assert verdict is not None and "Invalid NAL unit size" in verdict, verdict
    assert " at " not in verdict, verdict

"""`fix` of one local video starts its proof before the fixer's modules load: the
remux's verdict is the same (with --deep a damaged clip is still refused; by
default its structure alone is proved), a dry run or several files start
nothing, and a re-encode stops the proof nobody wants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.generate import make_image, make_video
from igpreflight.api.fix_ahead import decoders_ahead, prove_ahead
from igpreflight.preflight import jpeg_child, video_proof
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus
from tests.test_video_proof import _samples

GOP = dict(width=320, height=240, fps=30, duration=4.0, bitrate="2M", extra_args=["-g", "30"])


@pytest.fixture(scope="module")
def remux_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """moov after mdat (VID004): fixed by a remux, proved in pieces."""
    return make_video(tmp_path_factory.mktemp("ahead") / "late-moov.mp4", faststart=False, **GOP)


def _fix(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IGPREFLIGHT_PROOF_PIECES": "3"}
    cmd = [sys.executable, "-m", "igpreflight", "fix", *args, "--format", "json"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_which_arguments_start_a_proof(remux_only, tmp_path):
    other = tmp_path / "other.mp4"
    other.write_bytes(remux_only.read_bytes())
    out = ["--out", str(tmp_path / "out")]
    assert not prove_ahead([str(remux_only), "--dry-run"])
    assert not prove_ahead([str(remux_only)])  # no output: a usage error follows
    assert not prove_ahead([str(remux_only), str(other), *out])  # a batch: its own pace
    assert not prove_ahead([str(tmp_path / "missing.mp4"), *out])
    assert video_proof._EARLY == {}
    assert prove_ahead([str(remux_only), *out])
    assert list(video_proof._EARLY) == [str(remux_only.resolve())]
    video_proof.forget(remux_only)
    assert video_proof._EARLY == {}


def _assert_remuxed(source: Path, out: Path) -> None:
    """`fix source --out out` (the proof started early) remuxes it into out."""
    done = _fix(str(source), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["files"]
    assert result["status"] == FixStatus.REMUXED.value
    assert (out / source.name).is_file()


def test_the_command_remuxes_a_clip_it_proved_early(remux_only, tmp_path):
    _assert_remuxed(remux_only, tmp_path / "out")


def test_the_command_refuses_a_damaged_clip_it_proved_early(remux_only, tmp_path):
    """--deep decodes every picture of the remux's source: damage in the slice data of
    the last keyframe is FILE001. By default the structure alone is proved (every
    packet, its NAL units, the audio): the same clip is remuxed, its pictures as they
    came, as `check` passes it."""
    data = bytearray(remux_only.read_bytes())
    offset, size = _samples(remux_only)[90]  # the last keyframe, in the last piece
    for k in range(size // 5, size, max(1, size // 40)):
        data[offset + k] ^= 0x24
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    done = _fix(str(damaged), "--out", str(tmp_path / "out"), "--deep")
    assert done.returncode == 1
    (result,) = json.loads(done.stdout)["files"]
    assert "does not decode" in result["reason"], result
    assert not (tmp_path / "out" / damaged.name).exists()
    _assert_remuxed(damaged, tmp_path / "least")


def test_the_structure_proof_refuses_a_clip_cut_short_and_starts_no_piece(remux_only, tmp_path):
    """A remux source whose last samples lie past its end (a download cut short, the
    moov written first): the default proof's one run reads every packet and says so."""
    cut = tmp_path / "cut.mp4"
    _assert_remuxed(remux_only, tmp_path / "first")
    data = (tmp_path / "first" / remux_only.name).read_bytes()  # faststart now
    offset, size = _samples(tmp_path / "first" / remux_only.name)[100]
    cut.write_bytes(data[: offset + size // 2])
    structure = video_proof.Proof(cut, None, frames=False)
    assert structure.verdict() is not None and not structure.piecewise
    assert video_proof.Proof(remux_only, None, frames=False).verdict() is None


def test_a_re_encode_stops_the_proof_started_early(tmp_path):
    turned = make_video(
        tmp_path / "turned.mp4", width=640, height=360, fps=30, duration=20.0, rotation=90,
        extra_args=["-g", "30"],
    )  # fmt: skip
    early = video_proof.start(turned)
    (result,) = fix_paths([str(turned)], tmp_path / "out", FixOptions(), jobs=1)
    assert result.status is FixStatus.TRANSCODED, result.reason
    assert early.verdict() == "the decode was stopped"
    assert video_proof._EARLY == {}


def test_the_entry_point_starts_the_proof_before_click_loads(remux_only, tmp_path):
    """The console script and `python -m igpreflight` (igpreflight.launch) hand `fix`'s
    arguments to the early proof before importing click and the command group."""
    script = (
        "import sys\n"
        "import igpreflight.api.fix_ahead as ahead\n"
        "ahead.prove_ahead = lambda args: print(sorted(\n"
        "    m for m in ('click', 'igpreflight.cli') if m in sys.modules), list(args))\n"
        "from igpreflight.launch import main\n"
        "main()\n"
    )
    args = [str(remux_only), "--out", str(tmp_path / "out"), "--dry-run"]
    done = subprocess.run(
        [sys.executable, "-c", script, "fix", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"[] {args}"


def test_which_arguments_start_the_jpeg_decoders(remux_only, tmp_path):
    photos, clips = tmp_path / "photos", tmp_path / "clips"
    photos.mkdir()
    clips.mkdir()
    photo = make_image(photos / "a photo.jpg", size=(400, 300))
    (clips / "clip.mp4").write_bytes(remux_only.read_bytes())
    out = ["--out", str(tmp_path / "out")]
    idle = jpeg_child._POOL.idle
    for server in idle:
        server.kill()
    idle.clear()
    try:
        assert decoders_ahead([str(photos), "--dry-run", *out]) == 0
        assert decoders_ahead([str(photos)]) == 0  # no output: a usage error follows
        assert decoders_ahead([str(clips), *out]) == 0  # no photo: no decoder to wait for
        assert decoders_ahead([str(tmp_path / "missing.jpg"), *out]) == 0
        assert idle == []
        assert decoders_ahead([str(photo), *out]) == 1
        assert len(idle) == 1
        assert decoders_ahead([str(photos), *out]) == 2  # one a worker, as the batch starts
        assert len(idle) == 2 and all(server.alive() for server in idle)
    finally:
        for server in idle:
            server.kill()
        idle.clear()


def test_the_entry_point_starts_the_decoders_before_click_loads(tmp_path):
    photo = make_image(tmp_path / "photo.jpg", size=(400, 300))
    script = (
        "import sys\n"
        "import igpreflight.api.fix_ahead as ahead\n"
        "ahead.decoders_ahead = lambda args: print(sorted(\n"
        "    m for m in ('click', 'igpreflight.cli') if m in sys.modules), list(args))\n"
        "from igpreflight.launch import main\n"
        "main()\n"
    )
    args = [str(photo), "--out", str(tmp_path / "out"), "--dry-run"]
    done = subprocess.run(
        [sys.executable, "-c", script, "fix", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"[] {args}"

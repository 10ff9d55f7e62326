"""Issue 14: every child process runs under a memory cap, dies with its parent,
and an encode that does not last what the source lasts is `failed`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Role
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.ffmpeg_run import VideoFixError, run_ffmpeg
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.types import FixOptions
from igpreflight.transcode.video import apply_video

REPO = Path(__file__).resolve().parents[1]


def _lavfi(vf: str) -> list[str]:
    src = "testsrc2=s=1280x720:r=30:d=4"
    head = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi"]
    return [*head, "-i", src, "-progress", "pipe:1", "-vf", vf, "-f", "null", "-"]


def test_ffmpeg_runs_under_the_memory_cap(monkeypatch):
    # `reverse` keeps every frame in memory: 120 frames of 720p are ~170 MB.
    monkeypatch.setenv("IGPREFLIGHT_CHILD_MEMORY", "120")
    run_ffmpeg(_lavfi("null"))  # a streaming run fits
    with pytest.raises(VideoFixError, match="exited with status"):
        run_ffmpeg(_lavfi("reverse"))


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_ffmpeg_dies_with_a_killed_parent():
    script = (
        "from igpreflight.transcode.ffmpeg_run import run_ffmpeg\n"
        "from igpreflight.ffmpeg_bin import ffmpeg_exe\n"
        "run_ffmpeg([ffmpeg_exe(), '-nostdin', '-re', '-f', 'lavfi', '-i',"
        " 'testsrc2=s=64x64:d=600', '-progress', 'pipe:1', '-f', 'null', '-'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        kids: list[int] = []
        while not kids and time.monotonic() < deadline:
            time.sleep(0.1)
            kids = _children(parent.pid)
        assert kids, "ffmpeg never started"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 30
        while Path(f"/proc/{kids[0]}").exists() and time.monotonic() < deadline:
            state = Path(f"/proc/{kids[0]}/stat").read_text().split()[2]
            if state == "Z":  # dead, waiting for init to reap it
                break
            time.sleep(0.1)
        alive = Path(f"/proc/{kids[0]}").exists() and (
            Path(f"/proc/{kids[0]}/stat").read_text().split()[2] != "Z"
        )
        if alive:
            os.kill(kids[0], signal.SIGKILL)
        assert not alive, "ffmpeg outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_an_encode_of_the_wrong_length_is_failed(media_factory, tmp_path):
    src = media_factory.video("clip.mp4", width=64, height=64, duration=3.5, fps=15)
    facts = probe(src)
    findings = check_facts(facts, Role.REELS)
    plan = plan_video(facts, findings, Role.REELS, FixOptions())
    assert plan.status.value == "transcoded"  # 15 fps -> 30 fps
    apply_video(src, facts, plan, tmp_path / "good.mp4", FixOptions())  # the real length
    # The facts claim twice the real length, as a crafted header would.
    lying = replace(facts, duration=facts.duration * 2)
    with pytest.raises(VideoFixError, match=r"the output lasts 3\.5\d+ s, not 7\.0\d+ s"):
        apply_video(src, lying, plan, tmp_path / "bad.mp4", FixOptions())
    assert not (tmp_path / "bad.mp4").exists()

"""A fix job cut short by `kill -9` leaves no debris behind for good.

The job itself resumes after a restart (test_serve_posts_processes.py); what the
killed run was writing, its fix folder under `<data>/work/` (a partial output, a
ledger), used to stay there forever: nothing swept `work/`.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from serve_support import serve_process

from fixtures.generate import make_video


def wait_for(what: str, ready: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := ready()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
    return found


def writing_folders(work: Path) -> list[Path]:
    """The fix folders in which ffmpeg is writing an output (a temporary file)."""
    if not work.is_dir():
        return []
    return [f for f in work.glob("fix-*") if any(".tmp." in p.name for p in f.iterdir())]


def test_a_fix_folder_left_by_kill_9_is_swept_and_the_job_ends_once(tmp_path: Path) -> None:
    # 4:4:4 at 60 fps: transcoded, which takes seconds, so the kill lands mid-job
    clip = make_video(
        tmp_path / "clip.mp4", width=1280, height=720, fps=60, duration=6, pix_fmt="yuv444p"
    )
    work = tmp_path / ".igpreflight" / "serve" / "work"
    with serve_process(tmp_path) as (url, proc), httpx.Client(base_url=url, timeout=60) as http:
        media = http.post("/v1/media", files={"file": (clip.name, clip.read_bytes())}).json()
        job = http.post("/v1/fix", json={"media_id": media["id"]})
        assert job.status_code == 202, job.text
        [left] = wait_for("ffmpeg writing the job's output", lambda: writing_folders(work))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert left.is_dir()
    an_hour_ago = time.time() - 3600  # as a restart a while later finds it
    for path in (left, *left.rglob("*")):
        os.utime(path, (an_hour_ago, an_hour_ago))
    with serve_process(tmp_path) as (url, _), httpx.Client(base_url=url, timeout=60) as http:
        done = wait_for(
            "the job resumed and ended",
            lambda: (
                (j := http.get(job.headers["location"]).json())["state"] in ("succeeded", "failed")
                and j
            ),
        )
        wait_for("the killed run's fix folder swept", lambda: not left.exists())
    assert done["state"] == "succeeded", done
    assert done["result"]["media"]["kind"] == "video"
    assert list(work.iterdir()) == []  # the resumed run cleaned up after itself too

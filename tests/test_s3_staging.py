"""Temporary copies of objects (fix's sources and outputs over S3) do not outlive a
process killed with -9: the next igpreflight process removes them. A real process is
killed, and a real `fix` over moto's S3 server is killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fixtures import generate
from igpreflight.storage import staging
from tests.s3_support import s3server  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[1]

HOLD = """
import sys, time
from igpreflight.storage import staging
with staging.folder() as tmp:
    open(tmp + "/source.mp4", "wb").write(b"x" * 1000)
    print(tmp, flush=True)
    time.sleep(600)
"""


def _holder(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_process_folders_go_and_a_live_ones_stay(tmp_path):
    killed, killed_folder = _holder(tmp_path)
    alive, alive_folder = _holder(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert (killed_folder / "source.mp4").is_file()  # what kill -9 leaves
        assert staging.remove_stale(str(tmp_path)) == 1
        assert not killed_folder.parent.exists()
        assert (alive_folder / "source.mp4").is_file()
    finally:
        alive.kill()
        alive.wait()


def test_fix_killed_mid_batch_leaves_nothing_after_the_next_run(s3server, tmp_path):  # noqa: F811
    """Each object in flight had a source and an output in a TemporaryDirectory that
    kill -9 left in TMPDIR for good (gigabytes for videos, run after run)."""
    name = s3server.bucket()
    wide = generate.make_image(tmp_path / "wide.png", size=(2400, 1000))
    for i in range(16):
        s3server.put(name, f"in/{i:02d}.png", wide)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "igpreflight", "fix", f"s3://{name}/in/"]
    cmd += ["--out", f"s3://{name}/out/", "--jobs", "1"]
    s3server.kill_once_written(cmd, env, name, "out/")
    left = [p for p in tmp.rglob("*") if p.is_file() and p.name != staging.LOCK]
    assert left, "nothing was in flight when the run was killed"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(s3server.keys(name, "out/")) == 16
    assert [p.name for p in tmp.iterdir() if p.name.startswith("igpreflight")] == []

"""Resumable `fix`: the ledger in --out skips finished work, redoes what changed, and a
run killed with SIGKILL (or stopped with Ctrl-C) finishes on re-run with nothing lost
or duplicated."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fixtures.generate import make_image
from igpreflight.model import Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def outputs(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and ".igpreflight" not in p.parts and not p.name.startswith(".")
    )


def batch(tmp_path: Path, n: int, size=(1600, 2400)) -> Path:
    src = tmp_path / "in"
    for i in range(n):
        make_image(src / f"sub{i % 3}" / f"img{i:02d}.png", size=size, seed=i)
    return src


def test_rerun_skips_finished_outputs_and_redoes_changed_ones(tmp_path):
    src = batch(tmp_path, 4, size=(400, 600))
    out = tmp_path / "out"
    first = fix_paths([src], out, FixOptions())
    assert all(r.ok and not r.resumed for r in first)
    stamp = {r.output: os.stat(r.output).st_mtime_ns for r in first}

    again = fix_paths([src], out, FixOptions())
    assert [r.resumed for r in again] == [True] * 4
    assert [r.status for r in again] == [r.status for r in first]
    assert {r.output: os.stat(r.output).st_mtime_ns for r in again} == stamp  # not rewritten

    # A changed source, a changed output and changed options are each redone.
    make_image(src / "sub0" / "img00.png", size=(400, 700), seed=99)
    changed = first[0].source
    tampered = first[1]
    assert Path(changed).name == "img00.png"
    Path(tampered.output).write_bytes(b"tampered")
    third = fix_paths([src], out, FixOptions())
    redone = {r.source for r in third if not r.resumed}
    assert redone == {changed, tampered.source}
    padded = fix_paths([src], out, FixOptions(aspect="pad"))
    assert not any(r.resumed for r in padded)
    for r in padded:
        assert not [f for f in check_facts(probe(r.output)) if f.severity is Severity.ERROR]


def test_kill_9_mid_batch_then_rerun_completes_once(tmp_path):
    src = batch(tmp_path, 12)
    before = digests(src)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(out), "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(outputs(out) if out.exists() else []) < 3:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    killed_mid_batch = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert killed_mid_batch, "the batch finished before it could be killed; make it larger"
    assert len(outputs(out)) < 12

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "(already done)" in rerun.stdout
    made = outputs(out)
    assert made == sorted(f"sub{i % 3}/img{i:02d}.jpg" for i in range(12))  # each once
    assert not [p for p in out.rglob(".*tmp*")]  # no debris of the killed run
    for name in made:
        errors = [f for f in check_facts(probe(out / name)) if f.severity is Severity.ERROR]
        assert errors == [], name
    assert digests(src) == before  # originals untouched


def test_ctrl_c_stops_cleanly_and_says_what_was_done(tmp_path):
    src = batch(tmp_path, 12)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(outputs(out) if out.exists() else []) < 2:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before Ctrl-C; make it larger"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    done_lines = [line for line in stdout.splitlines() if " -> " in line]
    assert done_lines, stdout
    assert not [p for p in out.rglob(".*tmp*")]  # no partial outputs
    for name in outputs(out):
        assert probe(out / name).kind.value == "image"
    resumed = fix_paths([src], out, FixOptions())
    assert sum(r.resumed for r in resumed) >= len(done_lines)
    assert all(r.status is not FixStatus.FAILED for r in resumed)


def test_ctrl_c_at_a_terminal_does_not_report_interrupted_encodes_as_done(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group, ffmpeg included: the
    encodes it cuts short are not done (nor failed), and leave nothing behind."""
    from fixtures.generate import make_video

    src = tmp_path / "in"
    for i in range(6):
        make_video(src / f"v{i}.mp4", width=320, height=568, fps=120, duration=3.0)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(out), "--jobs", "2"]
    env = {**os.environ, "IGPREFLIGHT_X264_PRESET": "veryslow"}  # long enough to interrupt
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.rglob(".*.tmp*")):
        time.sleep(0.02)  # wait until encodes are running
    assert proc.poll() is None, "the batch finished before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "failed" not in stdout, stdout
    assert not list(out.rglob(".*.tmp*"))

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
    # An output edited in place to the very same size: only its hash can tell.
    same_size = first[2]
    data = bytearray(Path(same_size.output).read_bytes())
    data[len(data) // 2] ^= 0x01
    Path(same_size.output).write_bytes(bytes(data))
    third = fix_paths([src], out, FixOptions())
    redone = {r.source for r in third if not r.resumed}
    assert redone == {changed, tampered.source, same_size.source}
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


def interrupt_mid_batch(src: Path, out: Path, total: int):
    """Start `fix src --out out`, and once 2 outputs exist, freeze the process (SIGSTOP),
    count its outputs, and only if some are still missing send SIGINT and let it go on.

    Frozen, it cannot finish between the count and the signal (a busy machine once let
    the whole batch end there, exit 0). With an output still missing, the batch is
    inside its loop over files, so the Ctrl-C lands mid-batch whatever the timing.
    Returns (process, outputs seen), or None when the batch was already complete."""
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(outputs(out) if out.exists() else []) < 2:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)
    seen = len(outputs(out)) if out.exists() else 0
    if proc.poll() is not None or seen >= total:
        proc.send_signal(signal.SIGCONT)
        proc.communicate(timeout=120)
        return None
    proc.send_signal(signal.SIGINT)  # pending until it runs again
    proc.send_signal(signal.SIGCONT)
    return proc, seen


def test_ctrl_c_stops_cleanly_and_says_what_was_done(tmp_path):
    for attempt, n in enumerate((12, 24, 48)):  # larger only if a batch outran the test
        src = batch(tmp_path / str(attempt), n)
        out = tmp_path / str(attempt) / "out"
        stopped = interrupt_mid_batch(src, out, n)
        if stopped is not None:
            break
    assert stopped is not None, "every batch finished before it could be interrupted"
    proc, seen = stopped
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    done_lines = [line for line in stdout.splitlines() if " -> " in line]
    assert len(done_lines) >= seen, stdout  # every output written is reported done
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


def test_options_of_one_kind_never_redo_the_other_kind(tmp_path):
    """--extend and --trim shape videos only, --keep-png and --background images only:
    a re-run with them resumes the other kind (it once re-converted every image)."""
    from fixtures.generate import make_video

    src = batch(tmp_path, 3, size=(400, 600))
    make_video(src / "clip.mp4", width=320, height=568, duration=3.5, faststart=False)
    out = tmp_path / "out"
    first = {Path(r.source).name: r for r in fix_paths([src], out, FixOptions())}
    assert not any(r.resumed for r in first.values())
    extended = fix_paths([src], out, FixOptions(extend=True, trim=True))
    assert {Path(r.source).name: r.resumed for r in extended} == {
        "img00.png": True, "img01.png": True, "img02.png": True, "clip.mp4": False,
    }  # fmt: skip
    backed = fix_paths([src], out, FixOptions(extend=True, trim=True, background="black"))
    assert {Path(r.source).name: r.resumed for r in backed} == {
        "img00.png": False, "img01.png": False, "img02.png": False, "clip.mp4": True,
    }  # fmt: skip
    both = fix_paths([src], out, FixOptions(extend=True, trim=True, background="black"))
    assert all(r.resumed for r in both)
    padded = fix_paths([src], out, FixOptions(aspect="pad"))  # shapes both kinds
    assert not any(r.resumed for r in padded)


def test_dry_run_reads_the_ledger_and_says_what_a_real_run_would_do(tmp_path):
    src = batch(tmp_path, 3, size=(400, 600))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    ledger = out / ".igpreflight" / "fix-ledger.sqlite"
    before = {name: (out / name).read_bytes() for name in outputs(out)}
    rows = ledger.read_bytes()
    make_image(src / "sub1" / "img01.png", size=(400, 700), seed=42)  # changed since
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr
    lines = {line.split(" -> ")[0]: line for line in dry.stdout.splitlines() if " -> " in line}
    assert lines[str(src / "sub0" / "img00.png")].endswith(": converted (already done)")
    assert lines[str(src / "sub2" / "img02.png")].endswith(": converted (already done)")
    assert ": converted (dry run) (" in lines[str(src / "sub1" / "img01.png")]
    assert {name: (out / name).read_bytes() for name in outputs(out)} == before
    assert ledger.read_bytes() == rows  # read, never written
    real = fix_paths([src], out, FixOptions())
    assert [r.resumed for r in real] == [True, False, True]  # as the dry run said
    fresh = subprocess.run(
        [*cmd[:-1], str(tmp_path / "new"), "--dry-run"], capture_output=True, text=True
    )
    assert "already done" not in fresh.stdout and not (tmp_path / "new").exists()

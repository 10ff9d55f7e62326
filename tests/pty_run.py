"""Run the igpreflight CLI with stderr on a real pseudo-terminal (and stdout piped),
the way a person at a terminal sees it: for the progress and colour tests."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class PtyResult:
    returncode: int
    stdout: str  # piped
    stderr: str  # what the terminal showed, escape codes and all


def run_on_pty(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_tty: bool = False,
    timeout: float = 300.0,
) -> PtyResult:
    """`python -m igpreflight ARGS` with stderr (and stdout too when `stdout_tty`) on a
    pty of 100 columns; CI variables are removed so the terminal counts as interactive."""
    full_env = {k: v for k, v in os.environ.items() if k not in _CI and k != "NO_COLOR"}
    full_env.update({"PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "100"})
    full_env.update(env or {})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "igpreflight", *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    out = b""
    open_fds = {master} | ({proc.stdout.fileno()} if proc.stdout else set())
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            if time.monotonic() > deadline:
                proc.kill()
                raise TimeoutError(f"igpreflight {' '.join(args)} ran over {timeout} s")
            ready, _, _ = select.select(list(open_fds), [], [], 0.2)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: every writer of the pty has closed it
                    data = b""
                if not data:
                    open_fds.discard(fd)
                elif fd == master:
                    chunks.append(data)
                else:
                    out += data
    finally:
        os.close(master)
    if proc.stdout:
        out += proc.stdout.read()
        proc.stdout.close()
    proc.wait()
    stderr = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return PtyResult(proc.returncode, out.decode("utf-8", "replace"), stderr)


_CI = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "TF_BUILD")

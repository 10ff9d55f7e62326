"""Run ffmpeg under the child limits and a watchdog, and report its progress.

ffmpeg is killed when it runs past its time limit or prints nothing for
STALL_SECONDS, and a failure raises VideoFixError with ffmpeg's last stderr
lines, which is what a user needs to see. Its own module: running a command
knows nothing of plans (`video_command` builds the command, `video` proves
what it wrote).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable

from igpreflight.childproc import child_kwargs, time_limit

Progress = Callable[[float], None]

STALL_SECONDS = 300.0  # ffmpeg said nothing for this long: it is stuck
TAIL_LINES = 20


class VideoFixError(RuntimeError):
    """ffmpeg failed, hung, or produced a file that does not pass.

    `tail` holds ffmpeg's last stderr lines (the message includes them too).
    """

    def __init__(self, message: str, tail: list[str] | None = None, returncode: int | None = None):
        self.tail = list(tail or [])
        self.returncode = returncode
        text = message
        if self.tail:
            text += "\nffmpeg said:\n  " + "\n  ".join(self.tail)
        super().__init__(text)


def run_ffmpeg(
    args: list[str],
    *,
    duration: float | None = None,
    progress: Progress | None = None,
    timeout: float | None = None,
) -> list[str]:
    """Run ffmpeg with `-progress pipe:1` output; report 0..1 to `progress`.

    Runs under the child limits (`childproc`: memory cap, killed with us).
    Killed after `timeout` seconds (default: proportional to `duration`), or
    when it prints nothing for STALL_SECONDS.
    Raises VideoFixError with the last stderr lines on a non-zero exit; returns
    them (warnings) otherwise.
    """
    limit = time_limit(duration) if timeout is None else timeout
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **child_kwargs(),
        )
    except OSError as exc:
        raise VideoFixError(
            f"cannot run ffmpeg at {args[0]} ({exc.strerror or exc}); set IGPREFLIGHT_FFMPEG "
            "to an ffmpeg binary or reinstall imageio-ffmpeg"
        ) from exc
    started = last_seen = time.monotonic()
    killed: list[str] = []
    done = threading.Event()

    def drain_stderr() -> None:
        nonlocal last_seen
        assert proc.stderr is not None
        for raw in proc.stderr:
            last_seen = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                tail.append(line)

    def watchdog() -> None:
        while not done.wait(0.5):
            now = time.monotonic()
            if now - started > limit:
                killed.append(f"ffmpeg ran longer than {limit:.0f} s")
            elif now - last_seen > STALL_SECONDS:
                killed.append(f"ffmpeg printed nothing for {STALL_SECONDS:.0f} s")
            if killed:
                proc.kill()
                return

    err_thread = threading.Thread(target=drain_stderr, daemon=True)
    dog = threading.Thread(target=watchdog, daemon=True)
    err_thread.start()
    dog.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            last_seen = time.monotonic()
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if progress is None or not duration:
                continue
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress(min(1.0, max(0.0, int(value) / 1e6 / duration)))
            elif key == "progress" and value == "end":
                progress(1.0)
        proc.wait()
    finally:
        done.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err_thread.join(timeout=5)
    if killed:
        raise VideoFixError(killed[0], list(tail), proc.returncode)
    if proc.returncode != 0:
        raise VideoFixError(
            f"ffmpeg exited with status {proc.returncode}", list(tail), proc.returncode
        )
    return list(tail)

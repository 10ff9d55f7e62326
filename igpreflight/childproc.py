"""Hard limits on every child process (ffmpeg): memory, time, and death with the parent.

A crafted file once made ffmpeg's `fps` filter take 21.8 GB, and a `kill -9` of
`fix` left its ffmpeg running as an orphan. So every child is started through
`child_kwargs()`:
- its memory is capped (RLIMIT_DATA: heap, anonymous mappings and thread
  stacks; `IGPREFLIGHT_CHILD_MEMORY` in MB, default `memory_limit()`): an
  allocation past it fails and ffmpeg exits with an error instead of taking
  the machine. Not RLIMIT_AS: glibc reserves 64 MB of address space per
  thread arena without touching it, so an address-space cap that stops a
  runaway filter also breaks a legitimate 4K encode on a many-core machine;
- it gets SIGKILL when the thread that started it dies (Linux PR_SET_PDEATHSIG),
  so no orphan outlives `kill -9` of igpreflight;
and its run time is bounded by `time_limit(duration)`, proportional to the
media's real duration.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

try:
    import resource
except ImportError:  # Windows: no rlimits
    resource = None  # type: ignore[assignment]

MEMORY_ENV = "IGPREFLIGHT_CHILD_MEMORY"  # MB of memory for one child (0: no cap)
TIMEOUT_ENV = "IGPREFLIGHT_FFMPEG_TIMEOUT"  # seconds for one ffmpeg run (wall clock)
# A 4K -> 1080p encode peaks near 1 GB resident; 2 GB leaves it room and stops
# a runaway filter (21.8 GB on a crafted file) long before it hurts the machine.
# Each CPU adds x264 and decoder threads, each with an 8 MB stack and buffers.
DEFAULT_MEMORY_MB = 2048
PER_CPU_MB = 64
# Time: a fixed start-up allowance plus this many seconds per second of media
# (a 4K HDR tone-map on two slow cores runs at ~1/5 real time).
BASE_SECONDS = 120.0
SECONDS_PER_SECOND = 30.0
PR_SET_PDEATHSIG = 1


def memory_limit() -> int | None:
    """Bytes of memory a child may allocate (None: no cap, `IGPREFLIGHT_CHILD_MEMORY=0`)."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    mb = float(text) if text else DEFAULT_MEMORY_MB + PER_CPU_MB * (os.cpu_count() or 1)
    return int(mb * 1024 * 1024) if mb > 0 else None


def time_limit(duration: float | None) -> float:
    """Seconds one child may run for media lasting `duration` seconds (the real one)."""
    override = os.environ.get(TIMEOUT_ENV, "").strip()
    if override:
        return float(override)
    return BASE_SECONDS + SECONDS_PER_SECOND * (duration or 60.0)


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # resolved once, in the parent: the child only calls it


def _preexec(memory: int | None, parent: int) -> Callable[[], None]:
    def limit() -> None:  # runs in the child between fork and exec: C calls only
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(137)
        if memory is not None and resource is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))

    return limit


def child_kwargs(memory: int | None = -1) -> dict[str, Any]:
    """subprocess.Popen/run keyword arguments that cap and tie a child to us.

    `memory` -1 means `memory_limit()`; None no memory cap. Empty on Windows.
    """
    if os.name != "posix":
        return {}
    cap = memory_limit() if memory == -1 else memory
    return {"preexec_fn": _preexec(cap, os.getpid())}

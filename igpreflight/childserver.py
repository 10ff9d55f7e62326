"""Helper processes that answer requests one at a time: capped, bounded in time, pooled.

Some work cannot be bounded in-process: libmediainfo's wrap-up can take minutes
on a crafted file (`preflight.mediainfo_child`), and the strict JPEG decoder
needs numpy, 11 MB a process that fixing sharp's 280 MP photo must not carry
(`preflight.jpeg_child`). Each runs in a small server process:
- started through `childproc` (its memory capped, killed when igpreflight dies),
  from one long-lived thread, since PDEATHSIG fires when the thread that started a
  child ends and the callers' pool threads come and go;
- answering on its stdout, read here against a deadline (POSIX select): past it,
  the server is killed and the caller gets `ServerStopped`;
- kept between requests in a per-kind pool, one request at a time each, and
  started only when the first request needs one;
- stopped once idle for `IGPREFLIGHT_HELPER_IDLE` seconds (default 60): a
  long-lived host (`serve`, a dask worker, a program calling the API) kept every
  server a burst started, 20 of them (about 530 MB) after 32 concurrent uploads,
  for as long as it ran. A quiet host now goes back to none; the next request
  pays the start (70 ms for the decoder) again.
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Generic, NoReturn, TypeVar

from igpreflight.childproc import child_kwargs

# The package these modules came from, whatever the child's sys.path says.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ServerStopped(Exception):
    """The server passed its time or memory bound, or died; str() is the reason."""


class Server:
    """One child running `main()` of `entry` (a module path): requests in, answers out."""

    what = "the helper"  # how messages name it
    error: type[ServerStopped] = ServerStopped  # what a bound or a death raises

    def __init__(
        self, entry: str, memory: int | None, env: Mapping[str, str] | None = None
    ) -> None:
        self.memory = memory
        start = f"import sys; sys.path.insert(0, {_ROOT!r}); from {entry} import main; main()"
        self.proc: subprocess.Popen[bytes] = (
            _spawner()
            .submit(
                subprocess.Popen,
                [sys.executable, "-c", start],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, **env} if env else None,
                **child_kwargs(memory),
            )
            .result()
        )

    idle_since = 0.0  # time.monotonic() of its last release to the pool

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def cap(self) -> str:
        return f"{(self.memory or 0) // 2**20:,} MB"

    def send(self, data: bytes) -> None:
        """Write to the server (`died()` if it is gone)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError:  # it died since it was last used (a signal, the memory cap)
            self.died()

    def read_line(self, deadline: float, seconds: float) -> bytes:
        stream = self._stdout()
        line = b""
        while not line.endswith(b"\n"):
            self._wait(stream, deadline, seconds)
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                self.died()
            line += chunk
        return line.strip()

    def read_exact(self, size: int, deadline: float, seconds: float) -> bytes:
        buffer = bytearray(size)
        self.read_into(buffer, deadline, seconds)
        return bytes(buffer)

    def read_into(self, buffer: bytearray, deadline: float, seconds: float) -> None:
        """Fill `buffer` from the server, without a copy per chunk."""
        stream, view, got = self._stdout(), memoryview(buffer), 0
        while got < len(buffer):
            self._wait(stream, deadline, seconds)
            n = os.readv(stream.fileno(), [view[got : got + (1 << 20)]])
            if not n:
                self.died()
            got += n

    def _stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def _wait(self, stream: IO[bytes], deadline: float, seconds: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            self.kill()
            raise self.error(self.too_slow(seconds))

    def too_slow(self, seconds: float) -> str:
        return f"{self.what} did not finish within {seconds:g} s"

    def died(self) -> NoReturn:
        self.proc.wait()
        code = self.proc.returncode
        cap = f" (its {self.cap()} memory cap?)" if self.memory else ""
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        self.kill()
        raise self.error(self.stopped(how, cap))

    def stopped(self, how: str, cap: str) -> str:
        return f"{self.what} stopped ({how}){cap}"


S = TypeVar("S", bound=Server)


class Pool(Generic[S]):
    """This process's idle servers of one kind: a caller checks one out (a fresh
    one when none is idle or the idle ones are dead), uses it alone, releases it."""

    def __init__(self, start: type[S], memory: int | None) -> None:
        self.start, self.memory = start, memory
        self.idle: list[S] = []
        _POOLS.append(self)

    def checkout(self, memory: int | None = None) -> S:
        want = self.memory if memory is None else memory
        with _LOCK:
            while self.idle:
                server = self.idle.pop()
                if server.alive() and server.memory == want:
                    return server
                server.kill()
        return self.start(want)  # type: ignore[call-arg]

    def release(self, server: S) -> None:
        server.idle_since = time.monotonic()
        with _LOCK:
            self.idle.append(server)
        _start_reaper()

    def stop_idle(self, longer_than: float) -> int:
        """Stop the servers idle for more than `longer_than` seconds; how many."""
        cutoff = time.monotonic() - longer_than
        with _LOCK:
            old = [s for s in self.idle if s.idle_since <= cutoff]
            self.idle[:] = [s for s in self.idle if s.idle_since > cutoff]
        for server in old:
            server.kill()
        return len(old)

    def close(self) -> None:
        with _LOCK:
            servers, self.idle[:] = list(self.idle), []
        for server in servers:
            server.kill()


_LOCK = threading.Lock()
_POOLS: list[Pool] = []  # type: ignore[type-arg]
_SPAWNER: ThreadPoolExecutor | None = None
_REAPER: threading.Thread | None = None
IDLE_ENV = "IGPREFLIGHT_HELPER_IDLE"
DEFAULT_IDLE = 60.0  # seconds an idle server is kept for the next request


def idle_limit() -> float:
    """Seconds a server may stay idle before it is stopped (IGPREFLIGHT_HELPER_IDLE)."""
    try:
        value = float(os.environ.get(IDLE_ENV, DEFAULT_IDLE))
    except ValueError:
        return DEFAULT_IDLE
    return value if value > 0 else DEFAULT_IDLE


def _start_reaper() -> None:
    """This process's reaper thread, started when a first server goes idle."""
    global _REAPER
    with _LOCK:
        if _REAPER is not None:
            return
        _REAPER = threading.Thread(target=_reap_forever, name="igpreflight-reaper", daemon=True)
    _REAPER.start()


def _reap_forever() -> None:
    while True:
        limit = idle_limit()
        time.sleep(min(max(limit / 4, 0.05), 15.0))
        for pool in list(_POOLS):
            pool.stop_idle(limit)


def _spawner() -> ThreadPoolExecutor:
    """This process's spawning thread, started on first use."""
    global _SPAWNER
    with _LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="igpreflight-helpers")
        return _SPAWNER


def _after_fork() -> None:
    """A forked child (check's process pool) has none of its parent's threads, may
    have forked while another thread held the lock, and must not talk to the
    parent's servers: it starts afresh."""
    global _LOCK, _SPAWNER, _REAPER
    _LOCK = threading.Lock()
    for pool in _POOLS:
        pool.idle.clear()
    _SPAWNER = None
    _REAPER = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()

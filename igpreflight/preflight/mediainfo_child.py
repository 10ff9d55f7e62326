"""MediaInfo parses in capped child processes: a crafted file cannot hang or bloat a probe.

libmediainfo runs in C++ with no time or memory bound of its own, and some inputs
make it slow in its wrap-up, after it has read every byte: 200,000 Matroska tags
(12 MB) took 192 s and 330 MB, 100,000 MP4 metadata items (5 MB) took 51 s. No
bound on what it reads stops that, and a thread cannot be interrupted. So every
parse runs in a small server process (`childserver`, running `mediainfo_lib.main`):
- its memory is capped (`childproc`, `parse_memory()`; an allocation past it
  kills the server, not igpreflight), and it dies with igpreflight;
- the parent waits `parse_seconds()` for the answer, then kills it (POSIX; on
  Windows, with no select() on pipes, MediaInfo parses in-process, unbounded).
Either way the file is `ParseBoundError`: the probe reports it as FILE001.
Servers are kept between parses, one parse at a time each, so MediaInfo's parse
speed is never shared between threads (each process has its own libmediainfo).
A server is started with the first file that needs MediaInfo (checking images
starts none), and runs `mediainfo_lib`, which imports nothing but the standard
library: it answers with the probe's fields as JSON, not MediaInfo's XML.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from igpreflight.childserver import Pool, Server, ServerStopped
from igpreflight.preflight.mediainfo_lib import Fields, Reader
from igpreflight.probe_limits import PROBE_LIMITS

TIMEOUT_ENV = "IGPREFLIGHT_PROBE_TIMEOUT"  # seconds one MediaInfo parse may take
MEMORY_ENV = "IGPREFLIGHT_PROBE_MEMORY"  # MB one MediaInfo server may allocate (0: no cap)


class ParseBoundError(ServerStopped):
    """A parse passed its time or memory bound; str() is the one-line reason."""


def parse_seconds() -> float:
    """Seconds one parse may take (`IGPREFLIGHT_PROBE_TIMEOUT`, default ProbeLimits)."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    return float(text) if text else PROBE_LIMITS.parse_seconds


def parse_memory() -> int | None:
    """Bytes one MediaInfo server may allocate (None: no cap)."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    mb = float(text) if text else PROBE_LIMITS.parse_memory_mb
    return int(mb * 1024 * 1024) if mb > 0 else None


class _Server(Server):
    """One MediaInfo server (`mediainfo_lib.main`): a JSON request line in, a sized
    answer out."""

    what = "MediaInfo"
    error = ParseBoundError

    def __init__(self, memory: int | None) -> None:
        super().__init__("igpreflight.preflight.mediainfo_lib", memory)

    def parse(self, path: str, speed: float, seconds: float, source: BinaryIO | None) -> Fields:
        """The fields of one parse; `source` (a seekable file) is read here, chunk by
        chunk as the server asks, and the time spent reading it is not counted."""
        self.request(path, speed, source)
        return self.answer(time.monotonic() + seconds, seconds, source)

    def request(self, path: str, speed: float, source: BinaryIO | None = None) -> None:
        """Ask for one parse (answers come back in the order asked)."""
        size = source.seek(0, os.SEEK_END) if source is not None else None
        self.send((json.dumps({"path": path, "speed": speed, "size": size}) + "\n").encode())

    def answer(self, deadline: float, seconds: float, source: BinaryIO | None = None) -> Fields:
        """The next answer, by `deadline` (else the server is killed: ParseBoundError)."""
        while True:
            header = self.read_line(deadline, seconds)
            status, _, rest = header.partition(b" ")
            if status != b"RD" or source is None:
                break
            started = time.monotonic()
            offset, count = (int(n) for n in rest.split())
            source.seek(offset)
            data = source.read(count)
            self.send(b"%d\n" % len(data) + data)
            deadline += time.monotonic() - started
        text = self.read_exact(int(rest), deadline, seconds).decode("utf-8", "replace")
        if status == b"MB":
            raise ParseBoundError(f"MediaInfo ran out of its {self.cap()} memory cap")
        if status != b"OK":
            raise RuntimeError(text)
        fields: Fields = json.loads(text)
        return fields

    def too_slow(self, seconds: float) -> str:
        return f"MediaInfo did not finish its parse within {seconds:g} s"

    def stopped(self, how: str, cap: str) -> str:
        return f"MediaInfo stopped during its parse ({how}){cap}"


_POOL: Pool[_Server] = Pool(_Server, None)
_IN_PROCESS: Reader | None = None  # Windows: the one in-process reader
_IN_PROCESS_LOCK = threading.Lock()


def parse_fields(path: str, speed: float, source: BinaryIO | None = None) -> Fields:
    """MediaInfo's fields for the file at `path` (or the open `source`, read here on
    the server's demand), parsed at `speed` in a capped child (`mediainfo_lib.FIELDS`).

    Raises ParseBoundError when the parse passes its time or memory bound, and
    RuntimeError when MediaInfo cannot open the file."""
    if os.name != "posix":  # no select() on pipes, no rlimits: parsed here, unbounded
        global _IN_PROCESS
        with _IN_PROCESS_LOCK:  # one parse at a time: two parse speeds never mix
            _IN_PROCESS = _IN_PROCESS or Reader()
            return _IN_PROCESS.read(source or path, speed)
    ahead: _Ahead | None = getattr(_THREAD, "ahead", None)
    if ahead is not None and source is None:
        fields = ahead.take(path, speed)
        if fields is not None:
            return fields
    server = _checkout()
    try:
        xml = server.parse(path, speed, parse_seconds(), source)
    except RuntimeError:  # MediaInfo's own complaint: the server is fine
        _release(server)
        raise
    except BaseException:  # a bound (the server is dead already), an interruption
        server.kill()
        raise
    _release(server)
    return xml


_THREAD = threading.local()  # .ahead: this thread's lookahead, if it opened one


@contextmanager
def lookahead(files: Sequence[tuple[str, float]], depth: int = 4) -> Iterator[_Ahead | None]:
    """Within it, this thread's parses of `files` (local paths with their parse
    speeds), asked in this order, are answered by one server kept `depth` requests
    ahead: it parses the next files while this thread reads their boxes and runs the
    rules, instead of waiting for each request. A file the thread never asks for
    (the probe settled it first) costs the server a parse, nothing else; one asked
    out of order, or after the server was killed at a bound, is parsed as usual.
    It yields the lookahead, whose `add` announces more files as they come (None
    where parses are not run in a server)."""
    if os.name != "posix":
        yield None
        return
    ahead = _Ahead(list(files), depth)
    _THREAD.ahead = ahead
    try:
        yield ahead
    finally:
        _THREAD.ahead = None
        ahead.close()


class _Ahead:
    def __init__(self, files: list[tuple[str, float]], depth: int) -> None:
        self.files, self.depth = files, depth
        self.order = {path: i for i, (path, _) in reversed(list(enumerate(files)))}
        self.server: _Server | None = None
        self.sent: deque[tuple[int, float]] = deque()  # (index in files, when sent)
        self.next = 0
        self.last = 0.0  # when the latest answer was read

    def add(self, path: str, speed: float) -> None:
        """Announce one more file, to be asked after those announced before."""
        self.order.setdefault(path, len(self.files))
        self.files.append((path, speed))

    def _fill(self) -> None:
        if self.server is None:
            if self.next > 0:
                return  # killed at a bound: the rest is parsed as usual
            self.server = _checkout()
        try:
            while len(self.sent) < self.depth and self.next < len(self.files):
                path, speed = self.files[self.next]
                self.server.request(path, speed)
                self.sent.append((self.next, time.monotonic()))
                self.next += 1
        except ParseBoundError:  # it died: the rest is parsed as usual
            self._drop()

    def take(self, path: str, speed: float) -> Fields | None:
        """The answer for `path` (None: not asked ahead; parse it as usual). The
        answers of files asked before it and skipped are read and dropped; a bound
        one of those hits kills the server without blaming `path`."""
        wanted = self.order.get(path)
        if wanted is None:
            return None
        try:
            self._fill()
            while self.server is not None and self.sent and self.sent[0][0] <= wanted:
                index, sent = self.sent.popleft()
                try:
                    fields = self._answer(sent)
                except RuntimeError:  # MediaInfo's own complaint: the server is fine
                    if index == wanted:
                        self._fill()
                        raise
                    continue
                except ParseBoundError:
                    self._drop()
                    if index == wanted:
                        raise
                    return None
                if index == wanted:
                    self._fill()
                    return fields if self.files[index][1] == speed else None
        except (RuntimeError, ParseBoundError):
            raise
        except BaseException:  # an interruption: nothing asked can be trusted
            self._drop()
            raise
        return None

    def _answer(self, sent: float) -> Fields:
        """The oldest answer; its parse began when it was sent or the one before ended."""
        assert self.server is not None
        seconds = parse_seconds()
        try:
            return self.server.answer(max(sent, self.last) + seconds, seconds)
        finally:
            self.last = time.monotonic()

    def _drop(self) -> None:
        """A bound or an interruption: the server and what it was asked are gone."""
        if self.server is not None:
            self.server.kill()
        self.server, self.next = None, max(self.next, 1)
        self.sent.clear()

    def close(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        if self.sent:  # answers nobody will read: a fresh server next time
            server.kill()
        else:
            _release(server)


def _release(server: _Server) -> None:
    _POOL.release(server)


def _checkout() -> _Server:
    return _POOL.checkout(parse_memory())

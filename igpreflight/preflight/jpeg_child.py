"""The strict JPEG decode in a helper process (`childserver`), this side of it.

simplejpeg, the only TurboJPEG binding with fatal warnings, needs numpy: 11 MB of
libraries and objects in every process that decodes a JPEG, which made fixing
sharp's 280 MP photo peak at 49 MB against libvips' 42. The decode runs in a
server holding numpy (`jpeg_server`); the pixels come back over its pipe into a
buffer Pillow takes without a copy for grey images. The server is also capped
(childproc) and bounded in time: a JPEG that crashes or hangs libjpeg-turbo, or
passes the memory cap, is `NotForTurbo`, and the classic judge (ffmpeg, then
Pillow) decides it, as for any JPEG TurboJPEG does not take.
"""

from __future__ import annotations

import json
import threading
import time

from igpreflight.childproc import BASE_SECONDS, memory_limit
from igpreflight.childserver import Pool, Server, ServerStopped
from igpreflight.preflight.jpeg_outcome import CorruptJpeg, Decoded, NotForTurbo

DECODE_SECONDS = BASE_SECONDS  # one decode's bound (a 280 MP photo takes a second)
# The decoder does no linear algebra: OpenBLAS's thread pool, which numpy's import
# starts on every core, would only cost the start-up (0.127 -> 0.073 s).
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


class _Decoder(Server):
    what = "the strict JPEG decoder"

    def __init__(self, memory: int | None) -> None:
        super().__init__("igpreflight.preflight.jpeg_server", memory, SINGLE_THREADED)

    def request(self, path: str, min_size: tuple[int, int]) -> float:
        """Ask for one decode; returns when it was asked (its deadline starts there)."""
        self.send((json.dumps({"path": path, "min": list(min_size)}) + "\n").encode())
        return time.monotonic()

    def answer(self, asked: float, seconds: float) -> Decoded:
        deadline = asked + seconds
        status, _, rest = self.read_line(deadline, seconds).partition(b" ")
        if status == b"OK":
            info = json.loads(rest)
            pixels = bytearray(info["bytes"])
            self.read_into(pixels, deadline, seconds)
            return Decoded(tuple(info["size"]), info["mode"], info["rawmode"], pixels)
        reason = self.read_exact(int(rest), deadline, seconds).decode("utf-8", "replace")
        raise (CorruptJpeg if status == b"CJ" else NotForTurbo)(reason)


_POOL: Pool[_Decoder] = Pool(_Decoder, None)


# Decodes asked ahead (`decode_ahead`), by (path, min_size): the server and when.
_AHEAD: dict[tuple[str, tuple[int, int]], tuple[_Decoder, float]] = {}
_AHEAD_LOCK = threading.Lock()
taken_ahead = 0  # decodes answered from `decode_ahead` in this process (tests read it)


def decode_ahead(path: str, min_size: tuple[int, int]) -> None:
    """Have a server decode this JPEG now, for a `decode_in_child` of the same path
    and size that will come: one fix job's decode overlaps the previous job's resize
    and encode (two cores at work where one would wait)."""
    key = (path, tuple(min_size))
    with _AHEAD_LOCK:
        if key in _AHEAD:
            return
    server = _POOL.checkout(memory_limit())
    try:
        asked = server.request(path, min_size)
    except ServerStopped:
        return  # dead before it started: the decode itself will say
    with _AHEAD_LOCK:
        _AHEAD[key] = (server, asked)  # type: ignore[index]


def drop_ahead() -> None:
    """Forget the decodes asked ahead and never taken (their answers unread: the
    servers are killed, not pooled)."""
    with _AHEAD_LOCK:
        pending = list(_AHEAD.values())
        _AHEAD.clear()
    for server, _ in pending:
        server.kill()


def decode_in_child(path: str, min_size: tuple[int, int]) -> Decoded:
    """`jpeg_strict.decode_here` in a server of this process's pool (the answer of a
    `decode_ahead` of the same path and size, when there is one)."""
    global taken_ahead
    with _AHEAD_LOCK:
        ahead = _AHEAD.pop((path, tuple(min_size)), None)  # type: ignore[arg-type]
        taken_ahead += ahead is not None
    server, asked = ahead if ahead is not None else (_POOL.checkout(memory_limit()), None)
    try:
        if asked is None:
            asked = server.request(path, min_size)
        decoded = server.answer(asked, DECODE_SECONDS)
    except (CorruptJpeg, NotForTurbo):  # its verdict: the server is fine
        _POOL.release(server)
        raise
    except ServerStopped as exc:  # killed at a bound, or crashed: the old judge decides
        raise NotForTurbo(str(exc)) from None
    except BaseException:  # an interruption mid-answer: nothing it says can be trusted
        server.kill()
        raise
    _POOL.release(server)
    return decoded


def prestart(count: int) -> None:
    """Have `count` decoders starting in the background (their Python and numpy take
    70 ms), so that a batch's first decodes need not wait for them."""
    servers = [_POOL.checkout(memory_limit()) for _ in range(count)]
    for server in servers:
        _POOL.release(server)

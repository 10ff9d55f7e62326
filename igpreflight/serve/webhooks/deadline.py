"""A limit on a whole delivery, not only on each read.

httpx's timeouts bound each connect, write and read: a receiver that answers one
byte every few seconds never trips them, and held a sender thread for as long as
it liked. Four such deliveries starved every other endpoint, and `stop()` (which
waits for the deliveries in flight) kept a SIGTERM'd service from exiting. A
`Deadline` learns the delivery's sockets from httpcore's trace hook and shuts
them down when the time is up: the blocked read returns and the delivery fails
like a time-out, to be retried on the schedule.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

# httpcore's trace events whose return value is the connection's stream
STREAM_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class Deadline:
    """`with Deadline(s) as d:` then send with `extensions={"trace": d.trace}`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: remember each socket the delivery opens."""
        if event not in STREAM_EVENTS:
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def _cut(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already, or detached when TLS took it over
        sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread

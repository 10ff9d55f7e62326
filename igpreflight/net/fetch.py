"""One GET the way Instagram's fetcher does it, under time-outs, a deadline and a byte cap.

Instagram downloads media with no credentials, no cookies and a time-out. Every
request here has connect and read time-outs and the whole fetch has a deadline,
enforced by a watchdog that shuts the connection down, so a server that hangs,
trickles or never stops sending cannot hang us. Every hop (the URL and each
redirect's target) is vetted by the guard first and connected to the vetted
address only (`net.pinned`). The result is facts (`Fetch`); what they mean
for Instagram is for the URL rules to say.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import httpx

from igpreflight._version import __version__
from igpreflight.net.guard import CONNECT_TIMEOUT, redact_url, vet
from igpreflight.net.pinned import PinnedTransport

READ_TIMEOUT = 10.0  # seconds without a byte
MAX_REDIRECTS = 5
USER_AGENT = f"facebookexternalhit/1.1 (compatible; igpreflight/{__version__} URL check)"
REDIRECT_CODES = {301, 302, 303, 307, 308}


@dataclass
class Fetch:
    """What one GET (after redirects) gave."""

    status: int | None = None
    reason: str = ""
    final_url: str = ""
    redirects: list[dict[str, Any]] = field(default_factory=list)
    headers: httpx.Headers | None = None
    body_bytes: int = 0  # as sent on the wire
    head: bytes = b""
    sha256: str | None = None
    complete: bool = False
    failure: str | None = None  # why the fetch failed
    refused_hop: str | None = None  # a redirect target the guard refused, and why
    truncated: str | None = None  # body ended before Content-Length
    overlong: bool = False  # more bytes than the byte cap
    stalled: bool = False  # deadline or read time-out during the body
    deadline_hit: bool = False  # the overall deadline ended the fetch
    seconds: float = 0.0
    ttfb: float | None = None


def _client(timeout: float, transport: httpx.BaseTransport) -> httpx.Client:
    """A client that carries nothing of ours: no cookies kept, no env proxies or
    .netrc credentials, redirects handled by hand (each target is vetted)."""
    no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(
        timeout=httpx.Timeout(
            connect=min(CONNECT_TIMEOUT, timeout),
            # a little over the deadline, so the deadline (not a read) ends a slow fetch
            read=min(READ_TIMEOUT, timeout + 1),
            write=min(READ_TIMEOUT, timeout + 1),
            pool=min(CONNECT_TIMEOUT, timeout),
        ),
        follow_redirects=False,
        trust_env=False,
        cookies=no_cookies,
        transport=transport,
        headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"},
    )


class _Watchdog:
    """Shuts the fetch's sockets down when the overall deadline passes.

    Time-outs bound each read, not the whole exchange: a server that sends a
    byte every few seconds (headers or body) never trips them. The sockets are
    learnt from httpcore's trace events and shut down (not closed: a blocked
    read then returns at once) by a timer, so the fetch ends by the deadline.
    """

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: note each new connection's socket."""
        if not name.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.fired:
                    _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket method: an SSLSocket's own would drop its state under the reader.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def fetch(
    url: str,
    *,
    allow_private: bool,
    deadline: float,
    timeout: float,
    byte_cap: int,
    first_hop: tuple[str, ...] | None = None,
    first_lookup_error: str | None = None,
    sink: BinaryIO | None = None,
    within: str = "the deadline",
) -> Fetch:
    """GET `url`, following up to MAX_REDIRECTS redirects, each target vetted and pinned.

    `first_hop` are the addresses the caller already vetted for `url`'s host (so
    the name is not resolved twice); `deadline` is a time.monotonic() value,
    `byte_cap` the most body bytes read, `sink` a binary file that receives the
    final 200 body, `within` how the deadline is named in messages.
    """
    out = Fetch(final_url=url)
    start = time.monotonic()
    digest = hashlib.sha256()
    current = url
    transport = PinnedTransport()
    with _client(timeout, transport) as client, _Watchdog(deadline) as dog:
        for hop in range(MAX_REDIRECTS + 1):
            host = (urllib.parse.urlsplit(current).hostname or "").rstrip(".").lower()
            if hop == 0 and first_hop is not None:
                transport.pin(host, first_hop, first_lookup_error)
            else:
                vetted = vet(current, allow_private=allow_private)
                if vetted.problem:
                    out.refused_hop = vetted.problem
                    out.failure = "redirected to a host Instagram cannot reach"
                    break
                transport.pin(host, vetted.addresses, vetted.lookup_error)
            try:
                with client.stream("GET", current, extensions={"trace": dog.trace}) as response:
                    out.ttfb = time.monotonic() - start
                    if response.status_code in REDIRECT_CODES and "location" in response.headers:
                        target = urllib.parse.urljoin(current, response.headers["location"])
                        out.redirects.append(
                            {"status": response.status_code, "location": redact_url(target)}
                        )
                        current = target
                        if time.monotonic() > deadline:
                            out.failure = f"the redirects did not end within {within}"
                            out.deadline_hit = True
                            break
                        continue
                    out.status = response.status_code
                    out.reason = response.reason_phrase
                    out.final_url = current
                    out.headers = response.headers
                    if response.status_code != 200:
                        break
                    length = response.headers.get("content-length", "")
                    if length.isdigit() and int(length) > byte_cap:
                        out.overlong = True  # nothing to gain from reading it
                        break
                    _read_body(response, out, digest, deadline, byte_cap, sink)
            except httpx.TimeoutException as exc:
                if out.status is None:
                    out.failure = f"{_timeout_kind(exc)} after {time.monotonic() - start:.3g} s"
                else:
                    out.stalled = True
                    out.failure = (
                        f"the body stalled: no data for {min(READ_TIMEOUT, timeout + 1):g} s "
                        f"after {out.body_bytes} bytes"
                    )
            except httpx.RemoteProtocolError as exc:
                if out.status is None:
                    out.failure = f"the server broke the HTTP exchange: {_line(exc)}"
                else:
                    out.truncated = f"the connection closed early: {_line(exc)}"
            except (
                httpx.HTTPError,
                httpx.InvalidURL,
                ValueError,
            ) as exc:  # ValueError: bad Location
                out.failure = f"cannot fetch: {_line(exc)}"
            break
        else:
            out.failure = f"more than {MAX_REDIRECTS} redirects"
        if dog.fired and not out.deadline_hit:
            _deadline_ended(out, within)
    out.seconds = time.monotonic() - start
    if out.complete:
        out.sha256 = digest.hexdigest()
    return out


def _deadline_ended(out: Fetch, within: str) -> None:
    """The watchdog cut the connection: whatever broke after that is the deadline."""
    out.deadline_hit = True
    out.complete = False
    out.truncated = None
    if out.status is None:
        out.failure = f"time-out: no complete response within {within}"
    elif out.status == 200 and not out.overlong:
        out.stalled = True
        out.failure = None


def _read_body(
    response: httpx.Response,
    out: Fetch,
    digest: Any,
    deadline: float,
    byte_cap: int,
    sink: BinaryIO | None,
) -> None:
    """Stream the body into the hash (and `sink`), stopping at the deadline or the byte cap."""
    for chunk in response.iter_bytes():  # as received: a trickle is seen at once
        if len(out.head) < 64:
            out.head += chunk[: 64 - len(out.head)]
        out.body_bytes = response.num_bytes_downloaded
        if out.body_bytes > byte_cap:
            out.overlong = True
            return
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
        if time.monotonic() > deadline:
            out.stalled = True
            out.deadline_hit = True
            return
    out.body_bytes = response.num_bytes_downloaded
    out.complete = True


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect time-out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response headers (read time-out)"
    return "time-out"


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__

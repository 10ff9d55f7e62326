"""URL006 against a name whose DNS answer mixes public and private addresses.

Names are resolved by a real DNS server on loopback (tests/dns_support.py), so
the guard sees a whole answer, as from a hostile authoritative server. Every
socket connection of the process is recorded (audit hook); an HTTP server on
127.0.0.1 counts what reaches it. A guard that looked at the first address
only, or connected before deciding, would connect to the public address (a
`socket.connect` event) and then to the loopback server.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from dns_support import resolving_through
from loopback import serving

from igpreflight.net.fetch import fetch
from igpreflight.net.guard import host_problem
from igpreflight.preflight.urlcheck import check_url

PUBLIC = "93.184.216.34"
PUBLIC6 = "2606:2800:220:1:248:1893:25c8:1946"


class _Connections:
    """Every socket.connect of this process while `active`; any but one to loopback
    is stopped before a packet leaves (a broken guard must not reach the Internet)."""

    events: list[tuple] = []
    active = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.active and event == "socket.connect":
            cls.events.append(args[1])
            if not str(args[1][0]).startswith("127."):
                raise ConnectionRefusedError(f"test: no connection to {args[1][0]}")


sys.addaudithook(_Connections.hook)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture()
def port() -> Iterator[int]:
    Handler.connections = 0
    with serving(Handler) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture()
def connections() -> Iterator[list[tuple]]:
    _Connections.events = []
    _Connections.active = True
    try:
        yield _Connections.events
    finally:
        _Connections.active = False


MIXED = [
    ([PUBLIC, "127.0.0.1"], "127.0.0.1", "loopback"),
    (["127.0.0.1", PUBLIC], "127.0.0.1", "loopback"),
    ([PUBLIC, "10.0.0.5"], "10.0.0.5", "private"),
    ([PUBLIC, "169.254.169.254"], "169.254.169.254", "link-local"),
    ([PUBLIC, PUBLIC6, "::1"], "::1", "loopback"),
    ([PUBLIC6, "fe80::1"], "fe80::1", "link-local"),
    ([PUBLIC, "::ffff:127.0.0.1"], "::ffff:7f00:1", "loopback"),
]


@pytest.mark.parametrize("answer,bad,reason", MIXED)
def test_a_name_with_any_private_address_is_refused_without_traffic(
    answer, bad, reason, port, connections
):
    with resolving_through({"media.mixed.test": answer}) as dns:
        r = check_url(f"https://media.mixed.test:{port}/a.jpg", timeout=5)
    assert [f.rule for f in r.errors] == ["URL006"], r.to_dict()
    message = r.errors[0].message
    assert f"resolves to {bad}" in message and reason in message
    assert r.outcome("URL001").status == "skip"
    assert connections == [] and Handler.connections == 0  # no packet to any address
    assert ("media.mixed.test", 1) in dns.queries  # the name went through the resolver


def test_the_batch_refusal_and_the_fetch_use_the_same_guard(port, connections):
    """`publish` refuses such a URL before any call (host_problem), and a redirect
    hop to such a name is refused before a connection to it."""
    with resolving_through({"cdn.mixed.test": [PUBLIC, "127.0.0.1"]}):
        problem, addresses = host_problem(
            f"https://cdn.mixed.test:{port}/a.jpg", allow_private=False
        )
        got = fetch(
            f"https://cdn.mixed.test:{port}/a.jpg",
            allow_private=False,
            deadline=time.monotonic() + 5,
            timeout=5,
            byte_cap=1000,
        )
    assert problem is not None and "127.0.0.1" in problem and "loopback" in problem
    assert addresses == [PUBLIC, "127.0.0.1"]  # the whole answer was seen and vetted
    assert got.status is None and got.refused_hop and "loopback" in got.refused_hop
    assert connections == [] and Handler.connections == 0


def test_the_same_answer_is_reached_with_allow_private(port, connections):
    """The control: the resolver and the server are real, so with --allow-private
    the pinned connection does reach the loopback server at the vetted address."""
    with resolving_through({"media.mixed.test": ["127.0.0.1"]}):
        r = check_url(f"http://media.mixed.test:{port}/a.jpg", allow_private=True, timeout=5)
    assert Handler.connections == 1 and r.outcome("URL001").status != "skip"
    assert ("127.0.0.1", port) in connections


@pytest.mark.parametrize("host", ["ex\ud83dample.com", "a..b.example", "nul\x00.example"])
def test_a_host_name_no_resolver_takes_fails_url001_without_a_crash(host, connections):
    """A lone surrogate (from JSON or a non-UTF-8 argument) or a name IDNA refuses:
    URL001 in one line, no traceback, no connection."""
    r = check_url(f"https://{host}/a.jpg", timeout=5)
    assert [f.rule for f in r.errors] == ["URL001"], r.to_dict()
    assert connections == []

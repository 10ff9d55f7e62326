"""URL001..URL006 against a real HTTP server on loopback that misbehaves on purpose."""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import serving
from PIL import Image

from igpreflight.limits import POST_LIMITS
from igpreflight.model import Severity
from igpreflight.net.guard import non_public_reason, redact_url, resolve
from igpreflight.net.presign import presign_remaining
from igpreflight.preflight.urlcheck import check_url

STOP = threading.Event()


def _jpeg(seed: int = 0) -> bytes:
    img = Image.new("RGB", (64, 80), (seed * 40 % 256, 120, 200))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


JPEG = _jpeg()
OTHER = JPEG[:-10] + bytes(10)  # same length and magic, different bytes
BIG = 300_000_000  # declared size of the never-ending response


class Handler(BaseHTTPRequestHandler):
    """Each path is one way a media URL goes wrong."""

    protocol_version = "HTTP/1.1"
    requests: list[dict[str, str]] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "image/jpeg",
        length: int | None = None,
        **headers: str,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, chunk: bytes, pause: float) -> None:
        try:
            while not STOP.is_set():
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            return  # the client gave up: exactly what we want

    def do_GET(self) -> None:  # noqa: C901 - one branch per misbehaviour
        path = urllib.parse.urlsplit(self.path).path
        Handler.requests.append({"path": path, **{k.lower(): v for k, v in self.headers.items()}})
        if path == "/ok.jpg":
            self._send(200, JPEG)
        elif path == "/forbidden.jpg":
            self._send(403, b"<h1>Forbidden</h1>", "text/html")
        elif path == "/missing.jpg":
            self._send(404, b"<h1>Not found</h1>", "text/html")
        elif path == "/private.jpg":
            self._send(302, b"", "text/html", Location="/login?next=/private.jpg")
        elif path == "/login":
            self._send(200, b"<form>Please sign in</form>", "text/html; charset=utf-8")
        elif path == "/moved.jpg":
            self._send(301, b"", "text/html", Location="/ok.jpg")
        elif path == "/wrongtype.jpg":
            self._send(200, JPEG, "application/octet-stream")
        elif path == "/png-as-jpeg.jpg":
            buf = io.BytesIO()
            Image.new("RGB", (8, 8)).save(buf, "PNG")
            self._send(200, buf.getvalue(), "image/jpeg")
        elif path == "/html-as-jpeg.jpg":
            self._send(200, b"<!doctype html><p>Access denied</p>", "image/jpeg")
        elif path == "/truncated.jpg":
            self._send(200, JPEG[: len(JPEG) // 2], length=len(JPEG))
            self.close_connection = True
        elif path == "/different.jpg":
            self._send(200, OTHER)
        elif path == "/slow.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            step = len(JPEG) // 10 + 1
            for i in range(0, len(JPEG), step):  # at least 10 x 50 ms = 0.5 s
                time.sleep(0.05)
                self.wfile.write(JPEG[i : i + step])
                self.wfile.flush()
        elif path == "/endless.mp4":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            self._trickle(b"\0" * 1024, 0.01)  # at most ~100 KB/s
        elif path == "/endless-nolength.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(JPEG[:100])
            self._trickle(b"\xff" * 1024, 0.01)
        elif path == "/stall.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG[:100])
            self.wfile.flush()
            STOP.wait(30)
        elif path == "/no-headers.jpg":
            STOP.wait(30)
        elif path == "/set-cookie.jpg":
            self._send(
                302,
                b"",
                "text/html",
                Location="/needs-cookie.jpg",
                Set_Cookie="session=abc; Path=/",
            )
        elif path == "/needs-cookie.jpg":
            if "session=abc" in self.headers.get("Cookie", ""):
                self._send(200, JPEG)
            else:
                self._send(403, b"no cookie", "text/plain")
        elif path == "/bad-location.jpg":
            self._send(302, b"", "text/html", Location="http://[::1/broken")
        elif path == "/ftp.jpg":
            self._send(302, b"", "text/html", Location="ftp://files.example.com/a.jpg")
        elif path == "/loop.jpg":
            self._send(302, b"", "text/html", Location="/loop.jpg")
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(Handler, STOP) as url:
        yield url


@pytest.fixture()
def local_jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    return path


def rules(result, severity: Severity | None = None) -> set[str]:
    return {f.rule for f in result.findings if severity is None or f.severity is severity}


def status(result, rule: str) -> str:
    return result.outcome(rule).status


def test_good_url_passes_every_check_and_is_measured(server, local_jpeg):
    r = check_url(f"{server}/ok.jpg", local_path=local_jpeg, allow_private=True)
    assert r.ok and r.findings == []
    assert [c.status for c in r.checks] == ["pass", "pass", "pass", "pass", "pass", "skip"]
    m = r.measurements
    assert m["status"] == 200 and m["redirects"] == [] and m["bytes"] == len(JPEG)
    assert m["content_type"] == "image/jpeg" and m["seconds"] > 0 and m["mb_per_s"] > 0
    assert r.to_dict()["ok"] is True


@pytest.mark.parametrize("path,code", [("/forbidden.jpg", 403), ("/missing.jpg", 404)])
def test_error_status_is_url001(server, local_jpeg, path, code):
    r = check_url(server + path, local_path=local_jpeg, allow_private=True)
    assert not r.ok
    assert rules(r) == {"URL001"}
    assert str(code) in r.findings[0].message
    assert r.findings[0].subcode == 2207052
    assert r.measurements["status"] == code


def test_redirect_to_login_page_is_url001_and_reported(server, local_jpeg):
    r = check_url(f"{server}/private.jpg", local_path=local_jpeg, allow_private=True)
    assert rules(r) == {"URL001"}
    assert "login" in r.findings[0].message
    assert r.measurements["redirects"][0]["status"] == 302
    assert r.measurements["redirects"][0]["location"].endswith("/login?next=/private.jpg")


def test_plain_redirect_to_the_media_passes_and_is_reported(server, local_jpeg):
    r = check_url(f"{server}/moved.jpg", local_path=local_jpeg, allow_private=True)
    assert r.ok, r.findings
    assert "1 redirect" in r.outcome("URL001").detail
    assert r.measurements["final_url"] == f"{server}/ok.jpg"


def test_redirect_loop_ends(server):
    r = check_url(f"{server}/loop.jpg", allow_private=True)
    assert rules(r) == {"URL001"} and "redirects" in r.findings[0].message


def test_unusable_redirect_target_is_url001(server):
    r = check_url(f"{server}/bad-location.jpg", allow_private=True)
    assert rules(r) == {"URL001"} and "location" in r.findings[0].message
    r = check_url(f"{server}/ftp.jpg", allow_private=True)
    assert rules(r) == {"URL001"}
    assert r.measurements["redirects"][0]["location"].startswith("ftp://")


def test_no_cookies_are_carried_between_redirects(server):
    r = check_url(f"{server}/set-cookie.jpg", allow_private=True)
    assert rules(r) == {"URL001"} and "403" in r.findings[0].message


def test_wrong_content_type_is_url002(server, local_jpeg):
    r = check_url(f"{server}/wrongtype.jpg", local_path=local_jpeg, allow_private=True)
    assert rules(r) == {"URL002"}
    assert "application/octet-stream" in r.findings[0].message
    # without a local file the type must still be one Instagram accepts
    r = check_url(f"{server}/wrongtype.jpg", allow_private=True)
    assert rules(r) == {"URL002"}


def test_body_that_contradicts_its_content_type_is_url002(server):
    r = check_url(f"{server}/png-as-jpeg.jpg", allow_private=True)
    assert rules(r) == {"URL002"} and "image/png" in r.findings[0].message
    r = check_url(f"{server}/html-as-jpeg.jpg", allow_private=True)
    assert rules(r) == {"URL002"} and "HTML" in r.findings[0].message


def test_truncated_body_is_url003(server, local_jpeg):
    r = check_url(f"{server}/truncated.jpg", local_path=local_jpeg, allow_private=True)
    assert rules(r) == {"URL003"}
    assert "truncated" in r.findings[0].message
    r = check_url(f"{server}/truncated.jpg", allow_private=True)  # no local file needed
    assert rules(r) == {"URL003"}


def test_different_bytes_are_url003(server, local_jpeg):
    r = check_url(f"{server}/different.jpg", local_path=local_jpeg, allow_private=True)
    assert rules(r) == {"URL003"} and "SHA-256" in r.findings[0].message


def test_different_size_is_url003(server, tmp_path):
    other = tmp_path / "other.jpg"
    other.write_bytes(_jpeg(3) + b"\0" * 100)
    r = check_url(f"{server}/ok.jpg", local_path=other, allow_private=True)
    assert rules(r) == {"URL003"} and "Content-Length" in r.findings[0].message


def test_slow_body_warns_url004(server, local_jpeg):
    # The server sleeps at least 0.5 s in total; the threshold is ten times lower.
    r = check_url(
        f"{server}/slow.jpg", local_path=local_jpeg, allow_private=True, max_fetch_seconds=0.05
    )
    assert r.ok  # a warning, not an error
    assert rules(r, Severity.WARNING) == {"URL004"}
    assert r.findings[0].subcode == 2207003
    assert r.measurements["projected_seconds"] > 0.05 and r.measurements["mb_per_s"] > 0
    # the same file under the real limit passes
    r = check_url(f"{server}/slow.jpg", local_path=local_jpeg, allow_private=True)
    assert status(r, "URL004") == "pass"


def test_never_ending_response_stops_at_the_deadline(server):
    r = check_url(f"{server}/endless.mp4", allow_private=True, timeout=1.0)
    assert rules(r, Severity.ERROR) == {"URL001"}
    assert rules(r, Severity.WARNING) == {"URL004"}
    # projected from at most ~100 KB/s for the 300 MB the server declared
    assert (
        r.measurements["projected_seconds"] is None
        or r.measurements["projected_seconds"] > POST_LIMITS.max_fetch_seconds
    )
    assert r.measurements["complete"] is False


def test_never_ending_body_without_length_stops_at_the_local_size(server, local_jpeg):
    r = check_url(
        f"{server}/endless-nolength.jpg", local_path=local_jpeg, allow_private=True, timeout=5
    )
    assert "URL003" in rules(r, Severity.ERROR)
    assert r.measurements["bytes"] <= len(JPEG) + 64 * 1024


def test_never_ending_body_without_length_or_local_file_stops_at_the_deadline(server):
    r = check_url(f"{server}/endless-nolength.jpg", allow_private=True, timeout=1.0)
    assert "URL001" in rules(r, Severity.ERROR)
    assert r.measurements["complete"] is False


def test_stalled_body_and_silent_server_time_out(server, local_jpeg):
    r = check_url(f"{server}/stall.jpg", local_path=local_jpeg, allow_private=True, timeout=1.0)
    assert "URL001" in rules(r, Severity.ERROR)
    r = check_url(f"{server}/no-headers.jpg", allow_private=True, timeout=1.0)
    assert rules(r) == {"URL001"} and "time-out" in r.findings[0].message


def test_request_carries_no_credentials_or_cookies(server):
    Handler.requests.clear()
    check_url(f"{server}/ok.jpg", allow_private=True)
    (req,) = Handler.requests
    assert "authorization" not in req and "cookie" not in req
    assert "facebookexternalhit" in req["user-agent"]


# ---------------------------------------------------------------- URL006


class _NetAudit:
    """Records socket lookups and connections made by this process (audit hooks)."""

    events: list[tuple] = []
    active = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.active and event in ("socket.getaddrinfo", "socket.connect"):
            cls.events.append((event, args))


sys.addaudithook(_NetAudit.hook)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/a.jpg",
        "https://192.168.0.10/a.jpg",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/a.jpg",
        "https://localhost/a.jpg",
        "https://[::1]/a.jpg",
        "https://[fe80::1]/a.jpg",
    ],
)
def test_private_hosts_are_refused_without_any_traffic(url):
    _NetAudit.events.clear()
    _NetAudit.active = True
    try:
        r = check_url(url)
    finally:
        _NetAudit.active = False
    assert rules(r) == {"URL006"}
    assert r.findings[0].severity is Severity.ERROR
    assert _NetAudit.events == []  # decided from the address alone
    assert status(r, "URL001") == "skip"


def test_loopback_server_is_refused_unless_allowed(server, local_jpeg):
    Handler.requests.clear()
    r = check_url(f"{server}/ok.jpg", local_path=local_jpeg)
    assert rules(r) == {"URL006"} and Handler.requests == []
    r = check_url(f"{server}/ok.jpg".replace("127.0.0.1", "localhost"), local_path=local_jpeg)
    assert rules(r) == {"URL006"} and Handler.requests == []
    r = check_url(f"{server}/ok.jpg", local_path=local_jpeg, allow_private=True)
    assert r.ok


def test_name_resolving_to_a_private_address_is_refused():
    """A name (not a literal) is resolved with getaddrinfo; this machine's own
    name resolves through /etc/hosts, to loopback or a private address in CI."""
    name = socket.gethostname()
    try:
        addresses = resolve(name, 443, 5.0)
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not any(non_public_reason(a) for a in addresses):
        pytest.skip("this machine's name resolves to public addresses only")
    r = check_url(f"https://{name}/a.jpg")
    assert rules(r) == {"URL006"}
    assert "resolves to" in r.findings[0].message


@pytest.mark.parametrize(
    "address,reason",
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.53", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("::ffff:10.0.0.1", "private"),
        ("fd00::1", "private"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_non_public_reason(address, reason):
    assert non_public_reason(address) == reason


def test_plain_http_is_refused_in_production():
    r = check_url("http://93.184.216.34/a.jpg", timeout=0.5)
    assert rules(r) == {"URL006"} and "https" in r.findings[0].message


def test_credentials_in_url_are_refused_and_never_echoed(server):
    Handler.requests.clear()
    r = check_url(
        f"{server}/ok.jpg".replace("http://", "http://user:s3cr3tpass@"), allow_private=True
    )
    assert rules(r) == {"URL001"} and Handler.requests == []
    assert "s3cr3tpass" not in str(r.to_dict())
    assert redact_url("https://u:p@h.example:8443/x") == "https://h.example:8443/x"


# ---------------------------------------------------------------- URL005


def test_short_presign_warns_url005(server, local_jpeg):
    r = check_url(
        f"{server}/ok.jpg", local_path=local_jpeg, allow_private=True, presign_expires_in=3600
    )
    assert rules(r) == {"URL005"} and r.ok
    assert r.findings[0].severity is Severity.WARNING
    r = check_url(
        f"{server}/ok.jpg",
        local_path=local_jpeg,
        allow_private=True,
        presign_expires_in=POST_LIMITS.min_presign_seconds,
    )
    assert status(r, "URL005") == "pass"


def test_presign_lifetime_is_read_from_the_url():
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    url = f"https://cdn.example.com/k.jpg?X-Amz-Date={stamp}&X-Amz-Expires=7200&X-Amz-Signature=ab"
    remaining, temporary = presign_remaining(url, now)
    assert 7199 <= remaining <= 7200 and not temporary
    assert presign_remaining("https://cdn.example.com/k.jpg", now) == (None, False)
    v2 = f"https://b.s3.amazonaws.com/k.jpg?AWSAccessKeyId=A&Signature=x&Expires={int(now) + 100}"
    assert 99 <= presign_remaining(v2, now)[0] <= 100
    assert presign_remaining(url + "&X-Amz-Security-Token=t", now)[1] is True


def test_presign_from_url_query_warns_without_any_traffic():
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    r = check_url(f"https://10.0.0.1/k.jpg?X-Amz-Date={stamp}&X-Amz-Expires=600&X-Amz-Signature=ab")
    assert rules(r) == {"URL005", "URL006"}


def test_unresolvable_host_is_url001_not_url006():
    r = check_url("https://igpreflight-test.invalid/x.jpg", timeout=5)  # .invalid never resolves
    assert rules(r) == {"URL001"}
    assert status(r, "URL006") == "skip" and status(r, "URL002") == "skip"

"""Manifest URLs are fetched once, by the URL check, within one overall deadline.

A real HTTP server on loopback misbehaves on purpose: it trickles headers or
body (each byte well inside the read time-out), redirects, loops, serves HTML
as a JPEG, declares more bytes than any media Instagram accepts.
"""

from __future__ import annotations

import io
import json
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from click.testing import CliRunner
from loopback import serving
from PIL import Image

from igpreflight.cli import cli
from igpreflight.model import Unreadable
from igpreflight.preflight import remote
from igpreflight.preflight.remote import probe_remote
from igpreflight.preflight.urlcheck import MAX_MEDIA_BYTES, check_url

STOP = threading.Event()
HITS: Counter[str] = Counter()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1080, 1350), "blue").save(buf, "JPEG", quality=80)
    return buf.getvalue()


JPEG = _jpeg()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _head(self, status: int, ctype: str, length: int | None, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()

    def _drip(self, data: bytes, pause: float) -> None:
        """Send `data` a byte at a time until the client hangs up or the tests end."""
        try:
            for i in range(len(data)):
                if STOP.wait(pause):
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
        except OSError:
            return

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        HITS[path] += 1
        if path == "/ok.jpg":
            self._head(200, "image/jpeg", len(JPEG))
            self.wfile.write(JPEG)
        elif path == "/moved.jpg":
            self._head(301, "text/html", 0, Location="/ok.jpg")
        elif path == "/private.jpg":
            self._head(302, "text/html", 0, Location="/login?next=/private.jpg")
        elif path == "/login":
            body = b"<form>Please sign in</form>"
            self._head(200, "text/html", len(body))
            self.wfile.write(body)
        elif path == "/loop.jpg":
            self._head(302, "text/html", 0, Location="/loop.jpg")
        elif path == "/drip-body.jpg":  # a byte every 0.2 s: no read time-out ever trips
            self._head(200, "image/jpeg", len(JPEG))
            self._drip(JPEG, 0.2)
        elif path == "/drip-headers.jpg":
            self.close_connection = True
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n" + b"X: y\r\n" * 100, 0.2)
        elif path == "/slow-small.jpg":  # 2,000 bytes at ~1 KB/s: 2 s in all
            self._head(200, "image/jpeg", 2000)
            try:
                for _ in range(20):
                    if STOP.wait(0.1):
                        return
                    self.wfile.write(JPEG[:100])
                    self.wfile.flush()
            except OSError:
                return
        elif path == "/html.jpg":
            body = b"<!doctype html><title>Access denied</title>"
            self._head(200, "image/jpeg", len(body))
            self.wfile.write(body)
        elif path == "/huge.mp4":
            self._head(200, "video/mp4", MAX_MEDIA_BYTES + 1)
            self.close_connection = True
        elif path == "/truncated.jpg":
            self._head(200, "image/jpeg", len(JPEG))
            self.wfile.write(JPEG[:1000])
            self.close_connection = True
        else:
            self._head(404, "text/plain", 0)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler, STOP) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh() -> None:
    remote.clear_cache()
    HITS.clear()


def check_manifest(tmp_path, posts) -> dict:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": posts}))
    r = CliRunner().invoke(
        cli, ["check", "--manifest", str(path), "--allow-private", "--format", "json"]
    )
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)


def by_rule(findings) -> dict[str, str]:
    return {f["rule"]: f["message"] for f in findings}


def test_a_dripping_body_ends_at_the_deadline_as_unreadable(base):
    facts, findings = probe_remote(f"{base}/drip-body.jpg", allow_private=True, timeout=1)
    assert isinstance(facts, Unreadable)
    assert "not complete within the 1 s deadline" in facts.reason
    url001 = next(f for f in findings if f.rule == "URL001")
    assert "not complete within the 1 s deadline" in url001.message
    # a byte every 0.2 s for the whole JPEG is far over Instagram's 30 s
    assert "would take" in next(f.message for f in findings if f.rule == "URL004")


def test_dripping_headers_end_at_the_deadline(base):
    r = check_url(f"{base}/drip-headers.jpg", allow_private=True, timeout=1)
    assert {f.rule for f in r.findings} == {"URL001"}
    assert "no complete response within the --timeout of 1 s" in r.findings[0].message
    assert r.incomplete


def test_a_redirected_url_used_twice_is_fetched_once_and_passes(tmp_path, base):
    url = f"{base}/moved.jpg"
    data = check_manifest(
        tmp_path,
        [
            {"id": "feed", "media": [url]},
            {"id": "story", "media_type": "STORIES", "media": [url]},
        ],
    )
    assert HITS == {"/moved.jpg": 1, "/ok.jpg": 1}
    assert data["files"], data
    assert len(data["files"]) == 2  # one per role, from the same fetch
    for f in data["files"]:
        assert f["facts"]["height"] == 1350
        assert {x["rule"] for x in f["findings"]} <= {"IMG011"}  # 4:5 is not 9:16 for a story


def test_the_body_is_sniffed_the_same_way_as_check_url(tmp_path, base):
    data = check_manifest(tmp_path, [{"id": "p", "media": [f"{base}/html.jpg"]}])
    assert "HTML" in by_rule(data["files"][0]["findings"])["URL002"]


def test_a_truncated_body_is_unreadable_with_url003(tmp_path, base):
    data = check_manifest(tmp_path, [{"id": "p", "media": [f"{base}/truncated.jpg"]}])
    rules = by_rule(data["files"][0]["findings"])
    assert "truncated" in rules["FILE001"] and "truncated" in rules["URL003"]


def test_non_http_schemes_are_unsupported_not_missing(tmp_path):
    data = check_manifest(tmp_path, [{"id": "p", "media": ["ftp://files.example.com/a.jpg"]}])
    rules = by_rule(data["files"][0]["findings"])
    assert "unsupported URL scheme ftp; Instagram fetches http(s) URLs" in rules["FILE001"]
    assert "URL001" in rules
    assert "no such file" not in json.dumps(data).lower()


def test_a_body_over_the_largest_media_names_no_local_file(base):
    r = check_url(f"{base}/huge.mp4", allow_private=True)
    (url003,) = [f for f in r.findings if f.rule == "URL003"]
    assert "larger than any media Instagram accepts" in url003.message
    assert "local file" not in url003.message and "None" not in url003.message
    assert r.incomplete and r.outcome("URL004").status != "pass"


def test_the_users_timeout_is_not_instagrams_window(base):
    r = check_url(f"{base}/slow-small.jpg", allow_private=True, timeout=1)
    url001 = r.outcome("URL001")
    assert url001.status == "fail"
    assert "not complete within the --timeout of 1 s" in url001.detail
    assert "Instagram" not in url001.detail
    # ~1 KB/s for 2,000 bytes is well inside 30 s, but the fetch never finished
    assert r.outcome("URL004").status == "skip"


def test_an_unfinished_fetch_projected_over_the_window_warns(base):
    r = check_url(f"{base}/slow-small.jpg", allow_private=True, timeout=1, max_fetch_seconds=1.5)
    # at most ~1 KB/s in the first second: 2,000 bytes need more than 1.5 s
    assert r.outcome("URL004").status == "warn"
    assert "would take" in r.outcome("URL004").detail


def test_a_redirect_loop_is_said_once(base):
    r = check_url(f"{base}/loop.jpg", allow_private=True)
    message = r.outcome("URL001").detail
    assert message.count("redirect") == 1, message


def test_a_redirect_to_a_login_page_is_not_the_media(tmp_path, base):
    data = check_manifest(tmp_path, [{"id": "p", "media": [f"{base}/private.jpg"]}])
    rules = by_rule(data["files"][0]["findings"])
    assert "login page" in rules["FILE001"] and "login page" in rules["URL001"]

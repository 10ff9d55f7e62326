"""Inputs a scheduler in another language (or an adversary) sends that the other serve
tests do not: bodies the JSON parser cannot read for reasons other than syntax,
compressed bodies, codes of thousands of digits. Each is a 4xx problem, never a 500,
and never a post enqueued. A real service on loopback, the Graph emulator over HTTP."""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from durable_support import TOK_A, TOK_B, A, B
from PIL import Image
from posts_support import KEY_A, posts_settings
from serve_support import running
from webhook_support import Receiver, new_secret, webhooks_file

from fixtures.graph_emulator import GraphEmulator, MediaServer
from igpreflight.serve.webhooks.events import event_of

PROBLEM = "application/problem+json"
FUTURE = "2099-01-01T12:00:00Z"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Any:
    d = tmp_path_factory.mktemp("adversarial-media")
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(d / "feed.jpg", quality=80)
    with MediaServer(d) as ms:
        yield ms


@pytest.fixture
def svc(tmp_path: Path, monkeypatch: Any) -> Any:
    emu = GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05)
    with emu, running(posts_settings(tmp_path, emu, monkeypatch)) as s:
        yield s


def _body(media: Any, caption: str = "plain") -> dict[str, Any]:
    return {
        "account": "brand-a",
        "caption": caption,
        "media": [media.url_for("feed.jpg")],
        "publish_at": FUTURE,
    }


def _send(c: httpx.Client, path: str, raw: bytes, **headers: str) -> httpx.Response:
    return c.post(path, content=raw, headers={"content-type": "application/json", **headers})


def _problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    got = answer.json()
    assert got["type"] == f"urn:igpreflight:problem:{slug}" and got["status"] == status
    return got


def test_unreadable_json_is_400_malformed_json_not_a_vague_bad_request(svc, media) -> None:
    plain = json.dumps(_body(media)).encode()
    unreadable = {
        "not UTF-8": plain.replace(b'"plain"', b'"\xff\xfe"'),
        "a 5000-digit integer": plain.replace(b'"plain"', b"9" * 5000),
        "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    }
    with svc.client(KEY_A) as c:
        for why, raw in unreadable.items():
            for path in ("/v1/posts", "/v1/check"):
                answer = _send(c, path, raw, **{"Idempotency-Key": "k-" + why})
                got = _problem(answer, 400, "malformed-json")
                assert "not valid JSON" in got["detail"], why
        assert c.get("/v1/posts").json() == {"posts": []}
        made = _send(c, "/v1/posts", plain, **{"Idempotency-Key": "k-not UTF-8"})
        assert made.status_code == 201, made.text  # the refused body did not use the key


def test_a_compressed_body_is_415_and_enqueues_nothing(svc, media) -> None:
    plain = json.dumps(_body(media, "zipped")).encode()
    bomb = gzip.compress(b"{" + b" " * (20 * 1024 * 1024) + b"}")  # 20 MB in ~20 KB
    with svc.client(KEY_A) as c:
        for coding, raw in (("gzip", gzip.compress(plain)), ("gzip", bomb), ("br", plain)):
            answer = _send(
                c, "/v1/posts", raw, **{"Idempotency-Key": "z", "Content-Encoding": coding}
            )
            got = _problem(answer, 415, "unsupported-encoding")
            assert answer.headers["accept-encoding"] == "identity"
            assert coding in got["detail"]
        upload = c.post(
            "/v1/media",
            files={"file": ("a.jpg", gzip.compress(b"x" * 1000))},
            headers={"Content-Encoding": "gzip"},
        )
        _problem(upload, 415, "unsupported-encoding")
        assert c.get("/v1/posts").json() == {"posts": []}
        identity = _send(c, "/v1/posts", plain, **{"Idempotency-Key": "z", "Content-Encoding": ""})
        assert identity.status_code == 201, identity.text
        # the same post again, labelled identity: the same key and body, the same post
        again = _send(
            c, "/v1/posts", plain, **{"Idempotency-Key": "z", "Content-Encoding": "identity"}
        )
        assert again.status_code == 200 and again.json()["id"] == identity.json()["id"]
        # a stray header on a request without a body changes nothing
        listed = c.get("/v1/posts", headers={"Content-Encoding": "gzip"})
        assert listed.status_code == 200 and len(listed.json()["posts"]) == 1
        too_big = _send(c, "/v1/posts", b" " * (1024 * 1024 + 1), **{"Idempotency-Key": "big"})
        _problem(too_big, 413, "too-large")
        metrics = c.get("/metrics").text
    # refused before routing, still counted under the route they were sent to
    for status in ("413", "415"):
        assert f'route="/v1/posts",status="{status}"' in metrics, status
    assert 'route="/v1/media",status="415"' in metrics


def test_explaining_a_code_of_thousands_of_digits_is_404_not_500(svc) -> None:
    with svc.client(KEY_A) as c:
        for code in ("9" * 5000, "1/" + "9" * 5000, "IMG" + "0" * 100):
            got = _problem(c.get(f"/v1/explain/{code}"), 404, "not-found")
            assert len(got["detail"]) < 120
        assert c.get("/v1/explain/352/2207026").status_code == 200  # same connection, still up
        metrics = c.get("/metrics").text
    assert 'route="/v1/explain/{code:path}",status="500"' not in metrics


def test_a_webhook_timestamp_is_the_attempts_end_to_the_millisecond() -> None:
    row = {
        "state": "published",
        "account": "brand-a",
        "post_id": "p1",
        "attempt": 1,
        "completed_at": 1796499827363,  # as the database keeps it: epoch milliseconds
        "media_id": "18000000000000001",
    }
    stamps = {}
    for ms in (1796499827363, 1796499827000, 1796499827300, 1796499827001):
        event = event_of({**row, "completed_at": ms})
        assert event is not None
        stamps[ms] = json.loads(event.body)["timestamp"]
    assert stamps == {
        1796499827363: "2026-12-05T19:43:47.363Z",  # was 19:43:47.3629999Z (a float's digits)
        1796499827000: "2026-12-05T19:43:47Z",
        1796499827300: "2026-12-05T19:43:47.3Z",
        1796499827001: "2026-12-05T19:43:47.001Z",
    }
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", s) for s in stamps.values()
    )


class Trickler:
    """A receiver that answers one byte of its status line at a time, each well within
    the service's read timeout, and never finishes: every read succeeds, so only a
    limit on the whole delivery ends it."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            try:
                for byte in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 100_000:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.every)
            except OSError:
                return  # the service hung up: what it should do

    def close(self) -> None:
        self.server.close()


def test_a_receiver_trickling_its_answer_neither_starves_the_others_nor_holds_shutdown(
    tmp_path, media, monkeypatch
) -> None:
    secret = new_secret()
    monkeypatch.setenv("IGPF_TEST_WH", secret)
    trickler, healthy = Trickler(every=0.3), Receiver(secret)
    hooks = webhooks_file(
        tmp_path / "webhooks.toml",
        [{"url": r.url, "secret_env": "IGPF_TEST_WH"} for r in (trickler, healthy)],
        timeout=1,
        retry_schedule=[0, 1],
    )
    posts = [f"trickle {n}" for n in range(6)]  # more than the 4 senders of a process
    emu = GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05)
    try:
        with emu:
            settings = replace(posts_settings(tmp_path, emu, monkeypatch), webhooks_file=str(hooks))
            with running(settings) as svc, svc.client(KEY_A) as c:
                for caption in posts:
                    made = c.post(
                        "/v1/posts",
                        json={**_body(media, caption), "publish_at": None},
                        headers={"Idempotency-Key": caption},
                    )
                    assert made.status_code == 201, made.text
                # Before: four deliveries to the trickler held the four senders for ever,
                # and the healthy endpoint never heard of the other posts.
                got = healthy.wait_for(lambda d: len({x.id for x in d if x.verified}) == 6)
                assert {d.payload["type"] for d in got} == {"post.published"}
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    rows = c.get("/v1/webhooks/deliveries", params={"limit": 100}).json()
                    slow = [r for r in rows if r["endpoint"] == trickler.url]
                    if len(slow) == 6 and all(r["status"] == "dead" for r in slow):
                        break
                    time.sleep(0.2)
                assert len(slow) == 6 and {r["status"] for r in slow} == {"dead"}, slow
                assert {r["last_error"] for r in slow} == {"no complete answer within 1 s"}
                assert all(r["attempts"] == 2 for r in slow)
    finally:
        trickler.close()
        healthy.close()
    assert len(emu.published) == 6

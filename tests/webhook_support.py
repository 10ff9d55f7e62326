"""A webhook receiver on 127.0.0.1 (a real HTTP server in a thread) that verifies each
delivery with `standardwebhooks.Webhook.verify` under its own secret, answers as told,
and records what came; and a whsec_ secret maker."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass
class Delivery:
    id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int
    payload: dict[str, Any] | None = None


class Receiver:
    """`answer(delivery) -> status` decides each answer (default 200); `delay` seconds
    are slept before answering (a receiver slower than the service's timeout)."""

    def __init__(self, secret: str, answer: Callable[[Delivery], int] | None = None) -> None:
        self.secret = secret
        self.answer = answer or (lambda d: 200)
        self.delay = 0.0
        self.got: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    payload, verified = json.loads(body), False
                d = Delivery(headers.get("webhook-id", ""), headers, body, verified, 0, payload)
                d.answered = receiver.answer(d)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.got.append(d)
                try:
                    self.send_response(d.answered)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the service gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.got)

    def acked(self) -> list[Delivery]:
        return [d for d in self.deliveries() if 200 <= d.answered < 300]

    def wait_for(
        self, test: Callable[[list[Delivery]], bool], timeout: float = 90.0
    ) -> list[Delivery]:
        """Until `test(deliveries)` holds (AssertionError with what came after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.deliveries()
            if test(got):
                return got
            time.sleep(0.05)
        got = self.deliveries()
        raise AssertionError(
            f"not seen in {timeout} s: {[(d.id, d.answered, d.payload) for d in got]}"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhooks_file(path: Any, hooks: list[dict[str, Any]], **top: Any) -> Any:
    """A webhooks TOML file: top-level settings, then one [[webhook]] per dict."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in top.items()]
    for hook in hooks:
        lines.append("[[webhook]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in hook.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

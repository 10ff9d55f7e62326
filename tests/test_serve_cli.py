"""`igpreflight serve` as a process: several workers share one store and one metrics
page, SIGTERM drains requests in flight, and `check` never pays for the service."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from loopback import serving
from PIL import Image
from serve_support import stop


@contextmanager
def serve_process(folder: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`igpreflight serve --port 0 ...` in its own process; yields its URL."""
    log = folder / "serve.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "igpreflight", "serve", "--port", "0", "--isolated", *args],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", log.read_text())
            url = found and found[1]
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {log.read_text()}")
            time.sleep(0.1)
        while True:  # the workers answer once they have imported the app
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer: {log.read_text()}")
            time.sleep(0.1)
        yield url, proc
    finally:
        stop(proc)


def jpeg(size=(1080, 1080)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "JPEG", quality=85)
    return out.getvalue()


def test_two_workers_share_media_and_metrics(tmp_path):
    with (
        serve_process(tmp_path, "--workers", "2", "--rate-limit", "0") as (url, _),
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        media = http.post("/v1/media", files={"file": ("a.jpg", jpeg())}).json()["id"]
        answers = [
            http.post(
                "/v1/check", json={"post": {"media": [media]}}, headers={"connection": "close"}
            )
            for _ in range(12)
        ]
        assert {a.status_code for a in answers} == {200}  # whichever worker answered
        wide = http.post("/v1/media", files={"file": ("w.jpg", jpeg((1200, 400)))}).json()
        assert "IMG003" in {f["rule"] for f in wide["errors"]}
        metrics = http.get("/metrics").text
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("igpreflight_http_requests_total{")
        and 'route="/v1/check"' in line
        and 'status="200"' in line
    )
    assert counted == 12  # both workers' counts, summed
    assert 'igpreflight_findings_total{rule="IMG003",severity="error"} 1.0' in metrics


class SlowImage(BaseHTTPRequestHandler):
    """Serves a JPEG after 2 s: a request still in flight when the service is told to stop.
    `arrived` is set as the GET comes in, so a test knows the check is waiting on it."""

    body = jpeg()
    arrived = threading.Event()

    def do_GET(self):
        self.arrived.set()
        time.sleep(2)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_requests_in_flight_finish(tmp_path, workers):
    with (
        serving(SlowImage) as slow,
        serve_process(tmp_path, "--allow-private", "--workers", workers) as (url, proc),
    ):
        result: dict = {}
        SlowImage.arrived.clear()

        def ask() -> None:
            post = {"post": {"media": [f"{slow}/photo.jpg"]}}
            result["answer"] = httpx.post(f"{url}/v1/check", json=post, timeout=30)

        asking = threading.Thread(target=ask)
        asking.start()
        # The check is waiting on the slow server: on a loaded machine a fixed pause
        # could end before the request reached the service, which then rightly refuses it.
        assert SlowImage.arrived.wait(30), "the check never fetched the image"
        proc.send_signal(signal.SIGTERM)
        asking.join(30)
        # uvicorn ends by re-raising the signal it drained for, as an unhandled one would
        assert proc.wait(30) in (0, -signal.SIGTERM)
        answer = result["answer"]
        assert answer.status_code == 200 and answer.json()["valid"], answer.text
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=2)


def test_check_does_not_import_the_service():
    code = (
        "import sys\n"
        "from igpreflight.launch import main\n"
        "sys.argv = ['igpreflight', 'check', 'fixtures/media', '--isolated', '-q']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'igpreflight.serve') if m in sys.modules]\n"
        "print('loaded:', heavy)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    assert done.stdout.strip().endswith("loaded: []"), done.stdout + done.stderr

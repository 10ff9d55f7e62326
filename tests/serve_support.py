"""The service on a real loopback socket (uvicorn in a thread), keys, and CLI comparisons."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from igpreflight.serve.settings import ServeSettings

REPO = Path(__file__).resolve().parents[1]
SECRETS = {
    "IGPF_TEST_KEY_A": "key-a-0123456789abcdef",
    "IGPF_TEST_KEY_B": "key-b-0123456789abcdef",
    "IGPF_TEST_KEY_ALL": "key-all-0123456789abcd",
}


@dataclass
class Running:
    url: str
    settings: ServeSettings

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)


@contextmanager
def running(settings: ServeSettings) -> Iterator[Running]:
    """Serve `settings` with uvicorn on 127.0.0.1 (any free port) in this process."""
    import uvicorn

    from igpreflight.serve.app import create_app

    app = create_app(replace(settings, port=0))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", http="h11"
    )  # h11, as `serve` runs it
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(30)


def keys_file(folder: Path, monkeypatch: Any) -> Path:
    """A keys file: brand-a's key, brand-b's key and one for every account."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = folder / "keys.toml"
    path.write_text(
        '[[key]]\nname = "a"\nsecret_env = "IGPF_TEST_KEY_A"\naccounts = ["brand-a"]\n\n'
        '[[key]]\nname = "b"\nsecret_env = "IGPF_TEST_KEY_B"\naccounts = ["brand-b"]\n\n'
        '[[key]]\nname = "all"\nsecret_env = "IGPF_TEST_KEY_ALL"\naccounts = ["*"]\n',
        encoding="utf-8",
    )
    return path


def cli_check(manifest: Path, *args: str) -> dict[str, Any]:
    """`igpreflight check --manifest FILE --format json`, run in the manifest's folder
    (so each media is reported under its path as the manifest writes it)."""
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", "--manifest", manifest.name]
        + ["--format", "json", "--isolated", *args],
        capture_output=True,
        text=True,
        cwd=manifest.parent,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def finding_key(f: dict[str, Any]) -> tuple:
    return (f["rule"], f["severity"], f["code"], f["subcode"], f["message"], f["fixable"])


def cli_findings(report: dict[str, Any], media: list[str], cover: str | None) -> list[tuple]:
    """The CLI report's findings as (item, finding) pairs: each media item (by its
    path or URL, in post order), the cover (item None), then the post's own."""
    files = {(f["path"], f["as"] == "cover"): f["findings"] for f in report["files"]}
    out: list[tuple] = []
    for index, label in enumerate(media):
        found = files.get((label, False)) or files.get((label, True)) or []
        out += [(index, finding_key(f)) for f in found]
    if cover is not None:
        found = files.get((cover, True)) or files.get((cover, False)) or []
        out += [(None, finding_key(f)) for f in found]
    for post in report["posts"]:
        out += [(None, finding_key(f)) for f in post["findings"]]
    return out


def api_findings(answer: dict[str, Any]) -> list[tuple]:
    """The service's answer as the same (item, finding) pairs."""
    every = [*answer["errors"], *answer["warnings"], *answer["info"]]
    return [(f["item"], finding_key(f)) for f in every]


def same_findings(cli: list[tuple], api: list[tuple]) -> bool:
    """Equal as multisets (the service groups by severity, the CLI by file)."""
    return sorted(cli, key=repr) == sorted(api, key=repr)


@contextmanager
def serve_process(
    folder: Path, *args: str, preexec_fn: Any = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`igpreflight serve --port 0 --isolated ...` in its own process, run in `folder`
    (so its data and database are `folder/.igpreflight/...`); yields its URL and the
    process. Stops it with SIGTERM unless the test killed it already."""
    import re

    log = folder / "serve.log"
    with open(log, "a") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "igpreflight", "serve", "--port", "0", "--isolated", *args],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=preexec_fn,
        )
    start = log.stat().st_size if log.exists() else 0
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            text = log.read_text()[start:]
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", text)
            url = found and found[1]
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {text}")
            time.sleep(0.1)
        yield url, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """End a serve process as an operator would: SIGTERM, then SIGKILL past `grace`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

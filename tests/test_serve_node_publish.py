"""examples/node/prepublish.mjs --publish, run by the real `node` against the service on
loopback (the Graph emulator over HTTP, DBOS on SQLite): it checks a post, enqueues it
with an Idempotency-Key and waits for the signed webhook; run again for the same file,
it finds the same post and Instagram has it once."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from durable_support import TOK_A, TOK_B, A, B
from PIL import Image
from posts_support import KEY_A, posts_settings
from serve_support import running
from webhook_support import new_secret, webhooks_file

from fixtures.graph_emulator import GraphEmulator, MediaServer

NODE = shutil.which("node")
SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "node" / "prepublish.mjs"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def media(tmp_path: Path) -> Any:
    folder = tmp_path / "media"
    folder.mkdir()
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(folder / "feed.jpg", quality=80)
    with MediaServer(folder) as ms:
        yield ms


def run_node(url: str, post_file: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "IGPREFLIGHT_URL": url, "IGPREFLIGHT_KEY": KEY_A, **env}
    return subprocess.run(
        [NODE, str(SCRIPT), str(post_file), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def test_a_post_is_checked_enqueued_and_its_webhook_awaited(media, tmp_path, monkeypatch):
    secret, port = new_secret(), free_port()
    monkeypatch.setenv("IGPF_TEST_WH", secret)
    hooks = webhooks_file(
        tmp_path / "hooks.toml",
        [{"url": f"http://127.0.0.1:{port}/", "secret_env": "IGPF_TEST_WH"}],
    )
    post = tmp_path / "post.json"
    post.write_text(
        json.dumps({"caption": "Hello from Node", "media": [media.url_for("feed.jpg")]})
    )
    wait = {
        "IGPF_WEBHOOK_SECRET": secret,
        "IGPF_WEBHOOK_PORT": str(port),
        "IGPF_WAIT_SECONDS": "60",
    }
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as emu:
        settings = posts_settings(tmp_path, emu, monkeypatch, webhooks_file=str(hooks))
        with running(settings) as svc:
            first = run_node(svc.url, post, "--publish", "brand-a", **wait)
            assert first.returncode == 0, first.stdout + first.stderr
            lines = first.stdout.splitlines()
            assert lines[0].endswith(": ready to publish (0 errors, 0 warnings)"), first.stdout
            post_id = lines[1].split(":", 1)[0]
            assert lines[1] == f"{post_id}: enqueued for brand-a (queued)", first.stdout
            assert lines[2].startswith(f"{post_id}: published (media "), first.stdout
            # Again for the same file: the same post, already ended; nothing posted twice.
            again = run_node(svc.url, post, "--publish", "brand-a", **wait)
            assert again.returncode == 0, again.stdout + again.stderr
            assert f"{post_id}: published (media " in again.stdout
            # Without webhooks it polls; another account's name is refused by the key.
            other = run_node(svc.url, post, "--publish", "brand-b")
            assert other.returncode == 2, other.stdout + other.stderr
            assert other.stderr.startswith("prepublish: error: 403 "), other.stderr
        assert [p["caption"] for p in emu.published] == ["Hello from Node"]
    assert secret not in first.stdout + first.stderr


def test_without_webhooks_it_polls_the_post(media, tmp_path, monkeypatch):
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"caption": "Polled", "media": [media.url_for("feed.jpg")]}))
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as emu:
        with running(posts_settings(tmp_path, emu, monkeypatch)) as svc:
            done = run_node(svc.url, post, "--publish", "brand-a", IGPF_WAIT_SECONDS="60")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "published (media " in done.stdout.splitlines()[-1], done.stdout
        assert [p["caption"] for p in emu.published] == ["Polled"]

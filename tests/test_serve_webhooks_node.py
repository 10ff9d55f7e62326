"""examples/node/webhook-receiver.mjs, run by the real `node`, receiving the service's
webhooks for a post the real CLI published on the Graph emulator: its dependency-free
verification accepts the service's signatures and refuses a forged one."""

from __future__ import annotations

import datetime
import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from fixtures.graph_emulator import GraphEmulator, MediaServer

pytest.register_assert_rewrite("durable_support", "webhook_support")

from durable_support import FAST, cli, manifest  # noqa: E402
from serve_support import running  # noqa: E402
from webhook_support import new_secret, webhooks_file  # noqa: E402

from igpreflight.serve.settings import ServeSettings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
SCRIPT = REPO / "examples" / "node" / "webhook-receiver.mjs"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")
pytest_plugins = ("durable_support",)


@pytest.fixture
def emu(two_accounts: GraphEmulator) -> GraphEmulator:
    return two_accounts


@pytest.fixture
def media(durable_media: MediaServer) -> MediaServer:
    return durable_media


def test_the_node_receiver_verifies_the_services_webhooks(
    emu, media, accounts_env, tmp_path, monkeypatch
):
    secret = new_secret()
    monkeypatch.setenv("IGPF_TEST_WH", secret)
    node = subprocess.Popen(
        [NODE, str(SCRIPT)],
        env={"PATH": "/usr/bin:/bin", "IGPF_WEBHOOK_SECRET": secret, "PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = node.stderr.readline()
        assert ready.startswith("listening on http://127.0.0.1:"), ready
        url = ready.split("listening on ", 1)[1].strip() + "hooks"
        # A forged delivery (signed with another secret) is refused.
        from igpreflight.serve.webhooks.config import Endpoint
        from igpreflight.serve.webhooks.deliver import headers_for

        now = datetime.datetime.now(datetime.timezone.utc)
        forged = headers_for(Endpoint(url, new_secret()), "msg_forged", '{"type":"x"}', now)
        assert httpx.post(url, content='{"type":"x"}', headers=forged).status_code == 401
        assert "refused: no matching signature" in node.stderr.readline()
        hooks = webhooks_file(tmp_path / "w.toml", [{"url": url, "secret_env": "IGPF_TEST_WH"}])
        db = tmp_path / "q.sqlite"
        settings = ServeSettings(
            data_dir=str(tmp_path / "serve"),
            db=str(db),
            webhooks_file=str(hooks),
            allow_private=True,
        )
        with running(settings):
            m = manifest(tmp_path / "posts.toml", media, [("brand-b", "b0", {})])
            r = cli(accounts_env, "publish", str(m), "--db", str(db), *FAST)
            assert r.returncode == 0, r.stdout + r.stderr
            line = queue.Queue()
            threading.Thread(target=lambda: line.put(node.stdout.readline()), daemon=True).start()
            event = json.loads(line.get(timeout=90))
    finally:
        node.kill()
        node.wait(10)
    assert event["type"] == "post.published" and event["id"].startswith("msg_")
    assert event["data"]["post_id"] == "b0" and event["data"]["account"] == "brand-b"
    assert event["data"]["media_id"]

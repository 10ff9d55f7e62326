"""Two real workers on the machine's PostgreSQL, and one of them killed (kill -9, or
SIGTERM) while its media_publish is in flight: Instagram (the emulator, publish_delay)
goes on publishing, the container reads FINISHED and a second media_publish would get
24/2207006. The other worker takes the post over and settles it from its container:
every post, stories and caption-less ones included, is published exactly once
(issue 19, defect 1; the simulator's schedules cover the same ground in memory)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from fixtures.graph_emulator import GraphEmulator, MediaServer

pytest.register_assert_rewrite("durable_support")

from durable_support import FAST, ROOT, A, B, cli  # noqa: E402

pytest_plugins = ("durable_support",)

SETTLE = "4"  # the settle window: longer than the emulator's publish_delay (2 s)


def _manifest(path, media: MediaServer):  # noqa: ANN001, ANN202
    """Per account: a story, a caption-less image, a captioned image (distinct media)."""
    posts = []
    for account in ("brand-a", "brand-b"):
        for i, (kind, caption) in enumerate([("STORIES", None), ("IMAGE", None), ("IMAGE", "c")]):
            post = {
                "id": f"{account[-1]}{i}",
                "account": account,
                "media_type": kind,
                "media": [media.url_for("feed.jpg") + f"?{account}-{i}"],
            }
            if caption:
                post["caption"] = f"{caption} {account}"
            posts.append(post)
    path.write_text(json.dumps({"post": posts}))
    return path, [p["media"][0] for p in posts]


def _worker(env: dict[str, str], db: str, host: str) -> subprocess.Popen:
    """A worker whose Graph calls name `host` (so the test knows who sent what)."""
    port = env["IGPREFLIGHT_GRAPH_URL"].rsplit(":", 1)[1]
    env = {**env, "IGPREFLIGHT_GRAPH_URL": f"http://{host}:{port}", "IGPREFLIGHT_WORKER_STALE": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "igpreflight", "worker", "--db", db, "--allow-private"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_worker_stopped_inside_media_publish_is_settled_by_the_other_once(
    two_accounts: GraphEmulator, durable_media: MediaServer, accounts_env, pg_db, tmp_path, sig
):
    emu, env = two_accounts, accounts_env
    emu.publish_delay = 2.0
    m, urls = _manifest(tmp_path / "posts.json", durable_media)
    r = cli(env, "publish", str(m), "--enqueue", "--db", pg_db, "--settle-window", SETTLE, *FAST)
    assert r.returncode == 0, r.stderr
    workers = {
        "127.0.0.1": _worker(env, pg_db, "127.0.0.1"),
        "localhost": _worker(env, pg_db, "localhost"),
    }
    try:
        deadline = time.time() + 60
        sender = cut = None
        while sender is None and time.time() < deadline:
            for c in list(emu.store.containers.values()):
                if c.publishing:  # a media_publish Instagram is carrying out right now
                    # Its own call, not the last one: both workers may be in one at once.
                    [call] = [
                        x
                        for x in emu.calls("POST", "/media_publish")
                        if x["params"].get("creation_id") == c.id
                    ][-1:]
                    sender, cut = call["headers"]["host"].split(":")[0], c
            time.sleep(0.01)
        assert sender in workers, "no media_publish was in flight"
        victim = workers.pop(sender)
        victim.send_signal(sig)
        victim.wait(timeout=30)
        # The other worker finishes everything, the victim's posts included.
        deadline = time.time() + 120
        while time.time() < deadline:
            s = cli(env, "status", "--db", pg_db, "--format", "json")
            rows = json.loads(s.stdout)["posts"] if s.returncode == 0 else []
            if len(rows) == 6 and all(row["state"] == "published" for row in rows):
                break
            time.sleep(0.5)
    finally:
        for p in workers.values():
            p.send_signal(signal.SIGTERM)
        for p in workers.values():
            p.wait(timeout=30)
    # Any media_publish still being carried out lands (it ends and records its media
    # under one lock): waited for, as a fixed pause could end first on a loaded machine.
    deadline = time.time() + 60
    while any(c.publishing for c in list(emu.store.containers.values())):
        assert time.time() < deadline, "a media_publish never ended"
        time.sleep(0.05)
    shown = [p["params"].get("image_url") for p in emu.published]
    assert sorted(shown) == sorted(urls), shown  # each post once: none missing, none twice
    assert {p["user_id"] for p in emu.published} == {A, B}
    assert [row["state"] for row in rows] == ["published"] * 6, rows
    # The post cut off is the one container's: settled from it, never made again.
    assert cut is not None
    [row] = [r for r in rows if r["container_id"] == cut.id]
    url = cut.params.get("image_url")
    assert len([c for c in emu.calls("POST", "/media") if c["params"].get("image_url") == url]) == 1
    for p in workers.values():
        assert "Traceback" not in (p.stderr.read() if p.stderr else "")

"""`igpreflight serve` as real processes publishing posts: two worker processes on one
PostgreSQL publish each post exactly once, and a service killed with kill -9 while a
post is on its way publishes it exactly once after a restart."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from durable_support import ROOT, TOK_A, TOK_B, A, B, pg_db  # noqa: F401 - the fixture
from PIL import Image
from posts_support import KEY_ALL, accounts_file, post_body
from serve_support import SECRETS, keys_file

from fixtures.generate import make_video
from fixtures.graph_emulator import GraphEmulator, MediaServer


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    d = tmp_path_factory.mktemp("posts-proc-media")
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(d / "feed.jpg", quality=80)
    with MediaServer(d) as ms:
        yield ms


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as e:
        yield e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    folder: Path, emu: GraphEmulator, db: str, monkeypatch: Any, *extra: str
) -> Iterator[tuple[subprocess.Popen, str]]:
    """`igpreflight serve` in a subprocess; yields (process, base URL) once it answers."""
    port = free_port()
    accounts = accounts_file(folder, emu, monkeypatch)
    keys = keys_file(folder, monkeypatch)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IG_", "IGPREFLIGHT_"))}
    env.update(SECRETS, IGT_A=TOK_A, IGT_B=TOK_B, PYTHONPATH=str(ROOT))
    env.update(IGPREFLIGHT_HEARTBEAT="0.3", IGPREFLIGHT_WORKER_STALE="3")
    args = [sys.executable, "-m", "igpreflight", "serve", "--port", str(port)]
    args += ["--db", db, "--accounts", str(accounts), "--keys", str(keys)]
    args += ["--data-dir", str(folder / "data"), "--allow-private", "--rate-limit", "0"]
    args += ["--first-wait", "0.05", "--max-wait", "0.2", *extra]
    log = open(folder / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (folder / f"serve-{port}.log").read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY_ALL}"}, timeout=60)


def wait_all(c: httpx.Client, ids: list[str], timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {i: c.get(f"/v1/posts/{i}").json()["state"] for i in ids}
        if all(s in ("published", "failed", "uncertain") for s in states.values()):
            return states
        time.sleep(0.3)
    raise AssertionError(f"not all ended: {states}")


def test_two_workers_on_one_postgresql_publish_each_post_once(
    tmp_path: Path,
    emu: GraphEmulator,
    media: MediaServer,
    pg_db: str,  # noqa: F811
    monkeypatch: Any,
) -> None:
    with serve(tmp_path, emu, pg_db, monkeypatch, "--workers", "2") as (_, url), client(url) as c:
        ids = []
        for i in range(8):
            account = "brand-a" if i % 2 else "brand-b"
            body = post_body(media.url_for("feed.jpg"), f"post {i}", account=account)
            answer = c.post("/v1/posts", json=body, headers={"Idempotency-Key": f"k{i}"})
            assert answer.status_code == 201, answer.text
            # A retry of each, as a client whose answer was lost would send it.
            again = c.post("/v1/posts", json=body, headers={"Idempotency-Key": f"k{i}"})
            assert again.status_code == 200 and again.json()["id"] == answer.json()["id"]
            ids.append(answer.json()["id"])
        # One key sent at once over fresh connections (so both workers take some).
        burst = post_body(media.url_for("feed.jpg"), "burst")

        def send(_: int) -> httpx.Response:
            with client(url) as fresh:
                return fresh.post("/v1/posts", json=burst, headers={"Idempotency-Key": "b"})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8)))
        assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        ids.append(answers[0].json()["id"])
        states = wait_all(c, ids)
        assert set(states.values()) == {"published"}, states
    captions = sorted(p["caption"] for p in emu.published)
    assert captions == sorted(["burst", *(f"post {i}" for i in range(8))])  # each once
    assert len(emu.calls("POST", "/media_publish")) == 9


def wait_job(c: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = c.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job never ended: {job}")


def test_kill_9_with_a_post_and_a_job_on_their_way_ends_both_once_after_restart(
    tmp_path: Path, emu: GraphEmulator, media: MediaServer, monkeypatch: Any
) -> None:
    db = str(tmp_path / "publish.sqlite")
    clip = make_video(
        tmp_path / "clip.mov", width=320, height=568, duration=3.2, container="mov", faststart=False
    )
    # The post is processing when the service dies: its container stays in progress
    # until then (a fixed delay could run out first on a loaded machine, while the
    # video uploads, and the post be published before the kill).
    emu.container_delay = 10_000
    with serve(tmp_path, emu, db, monkeypatch) as (proc, url), client(url) as c:
        body = post_body(media.url_for("feed.jpg"), "survives a kill")
        post = c.post("/v1/posts", json=body, headers={"Idempotency-Key": "kill"}).json()
        video = c.post("/v1/media", files={"file": (clip.name, clip.read_bytes())}).json()
        deadline = time.monotonic() + 30
        while c.get(f"/v1/posts/{post['id']}").json()["state"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        job = c.post("/v1/fix", json={"media_id": video["id"]})
        assert job.status_code == 202, job.text
        os.kill(proc.pid, signal.SIGKILL)  # the job queued or running, the post processing
        proc.wait()
    assert emu.published == []
    emu.container_delay = 0.05  # the container finishes for the service that comes back
    with serve(tmp_path, emu, db, monkeypatch) as (_, url), client(url) as c:
        states = wait_all(c, [post["id"]])
        assert states[post["id"]] == "published"
        again = c.post("/v1/posts", json=body, headers={"Idempotency-Key": "kill"})
        assert again.status_code == 200 and again.json()["state"] == "published"
        done = wait_job(c, job.json()["id"])
        assert done["state"] == "succeeded", done
        assert done["result"]["ok"] and done["result"]["media"]["kind"] == "video"
        assert wait_job(c, job.json()["id"]) == done  # ended once: it reads the same after
    assert [p["caption"] for p in emu.published] == ["survives a kill"]


def test_jobs_are_answered_by_every_worker_process(
    tmp_path: Path,
    emu: GraphEmulator,
    pg_db: str,  # noqa: F811
    monkeypatch: Any,
) -> None:
    clip = make_video(
        tmp_path / "clip.mov", width=320, height=568, duration=2.0, container="mov", faststart=False
    )
    with serve(tmp_path, emu, pg_db, monkeypatch, "--workers", "2") as (_, url):
        with client(url) as c:
            video = c.post("/v1/media", files={"file": (clip.name, clip.read_bytes())}).json()
            job = c.post("/v1/fix", json={"media_id": video["id"]}).json()
            done = wait_job(c, job["id"])
        assert done["state"] == "succeeded", done
        # A new connection each time: the kernel spreads them over both workers.
        answers = []
        for _ in range(12):
            with client(url) as fresh:
                answers.append(fresh.get(f"/v1/jobs/{job['id']}").json())
        assert all(a == done for a in answers)
        with client(url) as fresh:
            page = fresh.get("/metrics").text
        assert 'igpreflight_jobs{state="succeeded"} 1.0' in page


def test_sigterm_stops_serve_cleanly_and_the_post_is_published_after(
    tmp_path: Path, emu: GraphEmulator, media: MediaServer, monkeypatch: Any
) -> None:
    db = str(tmp_path / "publish.sqlite")
    # The post is processing when serve is told to stop, and stays so until it is gone
    # (a fixed delay could run out first on a loaded machine): the restart publishes it.
    emu.container_delay = 10_000
    with serve(tmp_path, emu, db, monkeypatch) as (proc, url), client(url) as c:
        body = post_body(media.url_for("feed.jpg"), "after a restart")
        post = c.post("/v1/posts", json=body, headers={"Idempotency-Key": "term"}).json()
        deadline = time.monotonic() + 30
        while c.get(f"/v1/posts/{post['id']}").json()["state"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)  # uvicorn ends by re-raising the signal it handled: -15 is its way
        log = (tmp_path / f"serve-{url.rsplit(':', 1)[1]}.log").read_text()
        assert "Application shutdown complete" in log, log  # the lifespan ran its end
        assert "Traceback" not in log
    assert emu.published == []
    emu.container_delay = 0.05
    with serve(tmp_path, emu, db, monkeypatch) as (_, url), client(url) as c:
        assert wait_all(c, [post["id"]])[post["id"]] == "published"
    assert [p["caption"] for p in emu.published] == ["after a restart"]


def test_with_no_publish_a_separate_worker_publishes(
    tmp_path: Path, emu: GraphEmulator, media: MediaServer, monkeypatch: Any
) -> None:
    db = str(tmp_path / "publish.sqlite")
    with serve(tmp_path, emu, db, monkeypatch, "--no-publish") as (_, url), client(url) as c:
        body = post_body(media.url_for("feed.jpg"), "by the worker")
        post = c.post("/v1/posts", json=body, headers={"Idempotency-Key": "w"}).json()
        time.sleep(1.0)  # several queue polls: nobody in serve takes it
        assert c.get(f"/v1/posts/{post['id']}").json()["state"] == "queued"
        assert emu.requests == []
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IG_", "IGPREFLIGHT_"))}
        env.update(IGT_A=TOK_A, IGT_B=TOK_B, PYTHONPATH=str(ROOT), IGPREFLIGHT_HEARTBEAT="0.3")
        done = subprocess.run(
            [sys.executable, "-m", "igpreflight", "worker", "--db", db, "--until-idle"]
            + ["--accounts", str(tmp_path / "accounts.toml"), "--allow-private"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert c.get(f"/v1/posts/{post['id']}").json()["state"] == "published"
        status = subprocess.run(
            [sys.executable, "-m", "igpreflight", "status", "--db", db, "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        rows = json.loads(status.stdout)["posts"]  # the CLI names the post by the API's id
        assert [(r["post_id"], r["account"], r["state"]) for r in rows] == [
            (post["id"], "brand-a", "published")
        ]
    assert [p["caption"] for p in emu.published] == ["by the worker"]

"""Webhooks across process deaths and processes: `igpreflight serve` in subprocesses,
killed with SIGKILL while events are pending (delivered after the restart, none twice
once acknowledged), and two services on one PostgreSQL database (each event
delivered by one of them)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.graph_emulator import GraphEmulator, MediaServer

pytest.register_assert_rewrite("durable_support", "webhook_support")

from durable_support import FAST, ROOT, cli, manifest  # noqa: E402
from webhook_support import Receiver, new_secret, webhooks_file  # noqa: E402

pytest_plugins = ("durable_support",)


@pytest.fixture
def emu(two_accounts: GraphEmulator) -> GraphEmulator:
    return two_accounts


@pytest.fixture
def media(durable_media: MediaServer) -> MediaServer:
    return durable_media


class Serve:
    """`igpreflight serve` in a subprocess, its log in a file; started when it says so."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, workers: int = 1) -> None:
        self.log = log
        self.stderr = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "igpreflight", "serve", "--port", "0", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < workers:
            assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)
        self.stderr.close()
        return self.log.read_text()


def rows(db: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(db) as c:
        found = c.execute("SELECT post_id, status, attempts FROM igpreflight_webhook_outbox")
        return {p: (s, n) for p, s, n in found}


def wait(test, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def test_kill_9_with_events_pending_delivers_them_after_a_restart_and_none_twice(
    emu, media, accounts_env, tmp_path
):
    secret = new_secret()
    env = {**accounts_env, "IGPF_TEST_WH": secret}
    phase = {"open": False}
    # a0 is acknowledged at once; the others are refused until the restart.
    receiver = Receiver(
        secret, lambda d: 200 if phase["open"] or d.payload["data"]["post_id"] == "a0" else 503
    )
    hooks = webhooks_file(
        tmp_path / "webhooks.toml",
        [{"url": receiver.url, "secret_env": "IGPF_TEST_WH"}],
        timeout=5,
        retry_schedule=[0] + [0.5] * 19,
    )
    db = tmp_path / "q.sqlite"
    args = ["--webhooks", str(hooks), "--db", str(db), "--allow-private"]
    args += ["--data-dir", str(tmp_path / "serve")]
    try:
        first = Serve(env, tmp_path / "first.log", *args)
        m = manifest(tmp_path / "posts.toml", media, [("brand-a", f"a{i}", {}) for i in range(3)])
        r = cli(env, "publish", str(m), "--db", str(db), *FAST)
        assert r.returncode == 0, r.stdout + r.stderr
        wait(lambda: rows(db).get("a0") == ("delivered", 1))
        receiver.wait_for(lambda d: {x.payload["data"]["post_id"] for x in d} >= {"a1", "a2"})
        log = first.stop(signal.SIGKILL)
        assert {s for s, _ in rows(db).values()} == {"delivered", "pending"}
        # A post published while no service runs: its event is not lost either.
        m = manifest(tmp_path / "more.toml", media, [("brand-a", "a3", {})])
        r = cli(env, "publish", str(m), "--db", str(db), *FAST)
        assert r.returncode == 0, r.stdout + r.stderr
        phase["open"] = True
        second = Serve(env, tmp_path / "second.log", *args)
        try:
            receiver.wait_for(lambda d: len({x.id for x in d if x.answered == 200}) == 4)
            wait(lambda: all(s == "delivered" for s, _ in rows(db).values()) and len(rows(db)) == 4)
        finally:
            log += second.stop()
    finally:
        receiver.close()
    acked = [d.payload["data"]["post_id"] for d in receiver.acked()]
    assert sorted(acked) == ["a0", "a1", "a2", "a3"]  # each acknowledged once
    assert [d.payload["data"]["post_id"] for d in receiver.deliveries()].count("a0") == 1
    assert all(d.verified for d in receiver.deliveries())
    assert secret not in log and secret[6:] not in log and "Traceback" not in log, log


@pytest.mark.parametrize("how", ["two serve processes", "serve --workers 2"])
def test_two_services_on_one_postgres_database_deliver_each_event_once(
    emu, media, accounts_env, tmp_path, pg_db, how
):
    secret = new_secret()
    env = {**accounts_env, "IGPF_TEST_WH": secret}
    receiver = Receiver(secret)
    hooks = webhooks_file(
        tmp_path / "webhooks.toml", [{"url": receiver.url, "secret_env": "IGPF_TEST_WH"}]
    )
    args = ["--webhooks", str(hooks), "--db", pg_db, "--allow-private"]
    services = []
    try:
        if how == "serve --workers 2":
            data = ["--data-dir", str(tmp_path / "one"), "--workers", "2"]
            services.append(Serve(env, tmp_path / "one.log", *args, *data, workers=2))
        else:
            for name in ("one", "two"):
                data = ["--data-dir", str(tmp_path / name)]
                services.append(Serve(env, tmp_path / f"{name}.log", *args, *data))
        posts = [(acc, f"{acc[-1]}{i}", {}) for acc in ("brand-a", "brand-b") for i in range(4)]
        m = manifest(tmp_path / "posts.toml", media, posts)
        r = cli(env, "publish", str(m), "--db", pg_db, *FAST)
        assert r.returncode == 0, r.stdout + r.stderr
        receiver.wait_for(lambda d: len({x.id for x in d}) == 8)
        import psycopg

        def all_delivered() -> bool:
            with psycopg.connect(pg_db) as c:
                found = c.execute("SELECT status, attempts FROM igpreflight_webhook_outbox")
                return sorted(found.fetchall()) == [("delivered", 1)] * 8

        wait(all_delivered)
    finally:
        logs = "".join(s.stop() for s in services)
        receiver.close()
    got = receiver.deliveries()
    assert len(got) == 8 and len({d.id for d in got}) == 8, [d.id for d in got]
    assert sorted(d.payload["data"]["post_id"] for d in got) == sorted(p for _, p, _ in posts)
    assert secret not in logs and "Traceback" not in logs, logs
    assert os.environ.get("IGPF_TEST_WH") is None

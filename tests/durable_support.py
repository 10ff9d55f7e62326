"""Shared pieces of the durable engine's CLI tests: two accounts on the Graph emulator
(each with its own token), an accounts file in the environment, manifests, and the
CLI run in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from fixtures.graph_emulator import GraphEmulator, MediaServer

A, B = "17841400000000011", "17841400000000022"
TOK_A, TOK_B = "EAAG-secret-token-of-brand-a-123", "EAAG-secret-token-of-brand-b-456"
ROOT = Path(__file__).resolve().parent.parent
FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private", "--no-check"]


@pytest.fixture(scope="module")
def durable_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    d = tmp_path_factory.mktemp("durable-media")
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(d / "feed.jpg", quality=80)
    Image.new("RGB", (400, 1200), (90, 90, 90)).save(d / "tall.jpg", quality=80)
    with MediaServer(d) as ms:
        yield ms


@pytest.fixture
def two_accounts() -> Iterator[GraphEmulator]:
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as e:
        yield e


@pytest.fixture
def accounts_env(two_accounts: GraphEmulator, tmp_path: Path) -> dict[str, str]:
    emu = two_accounts
    (tmp_path / "accounts.toml").write_text(
        f'[[account]]\nname = "brand-a"\nig_user_id = "{A}"\ntoken_env = "IGT_A"\n'
        f'[[account]]\nname = "brand-b"\nig_user_id = "{B}"\ntoken_env = "IGT_B"\n'
    )
    e = {k: v for k, v in os.environ.items() if not k.startswith(("IG_", "IGPREFLIGHT_"))}
    e.update(
        PYTHONPATH=str(ROOT),
        IGPREFLIGHT_GRAPH_URL=emu.url,
        IGPREFLIGHT_ACCOUNTS=str(tmp_path / "accounts.toml"),
        IGT_A=TOK_A,
        IGT_B=TOK_B,
        IGPREFLIGHT_HEARTBEAT="0.3",
    )
    return e


def manifest(path: Path, media: MediaServer, posts: list[tuple[str, str, dict]]) -> Path:
    """posts: (account, id, extra keys) -> a TOML manifest; captions name the post."""
    lines = []
    for account, pid, extra in posts:
        lines += [
            "[[post]]",
            f'id = "{pid}"',
            f'account = "{account}"',
            f'media = ["{media.url_for("feed.jpg")}"]',
            f'caption = "{extra.pop("caption", f"post {pid}")}"',
            *(f"{k} = {json.dumps(v)}" for k, v in extra.items()),
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(
    env: dict[str, str], *args: str, timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "igpreflight", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def published(emu: GraphEmulator, user: str) -> list[str]:
    return [p["caption"] for p in emu.published if p["user_id"] == user]


def no_token_in(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        assert TOK_A.encode() not in data and TOK_B.encode() not in data


# ---- PostgreSQL: skips only when no server answers at 127.0.0.1:5432 -------------------

PG = os.environ.get("IGPREFLIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_db() -> Iterator[str]:
    """A fresh database for this test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {PG}: {exc}")
    name = f"igp_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 (port 0) in front of PostgreSQL: `cut()` drops every
    connection and refuses new ones, as a server restart does; `restore()` ends it."""

    def __init__(self, target: tuple[str, int]) -> None:
        import socket
        import threading

        self.target = target
        self.down = threading.Event()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst) -> None:  # noqa: ANN001
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        import socket

        self.down.set()
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
                c.close()

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.sock.close()

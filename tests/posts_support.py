"""Shared pieces of the posts endpoints' tests: two accounts on the Graph emulator
over HTTP, an accounts file and a keys file, the service's settings for them, and a
wait for a post's state."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from durable_support import TOK_A, TOK_B, A, B
from serve_support import SECRETS, keys_file

from fixtures.graph_emulator import GraphEmulator
from igpreflight.serve.settings import ServeSettings

KEY_A, KEY_B, KEY_ALL = (
    SECRETS["IGPF_TEST_KEY_A"],
    SECRETS["IGPF_TEST_KEY_B"],
    SECRETS["IGPF_TEST_KEY_ALL"],
)
FAST = {"first_wait": 0.05, "max_wait": 0.2, "timeout": 10.0}


def accounts_file(folder: Path, emu: GraphEmulator, monkeypatch: Any) -> Path:
    monkeypatch.setenv("IGT_A", TOK_A)
    monkeypatch.setenv("IGT_B", TOK_B)
    path = folder / "accounts.toml"
    path.write_text(
        f'[[account]]\nname = "brand-a"\nig_user_id = "{A}"\ntoken_env = "IGT_A"\n'
        f'graph_url = "{emu.url}"\n'
        f'[[account]]\nname = "brand-b"\nig_user_id = "{B}"\ntoken_env = "IGT_B"\n'
        f'graph_url = "{emu.url}"\n',
        encoding="utf-8",
    )
    return path


def posts_settings(
    folder: Path, emu: GraphEmulator, monkeypatch: Any, db: str | None = None, **kw: Any
) -> ServeSettings:
    """A service with the two accounts, the three test keys and the fast waits."""
    monkeypatch.setenv("IGPREFLIGHT_HEARTBEAT", "0.3")
    values: dict[str, Any] = {
        "data_dir": str(folder / "data"),
        "db": db or str(folder / "publish.sqlite"),
        "accounts_file": str(accounts_file(folder, emu, monkeypatch)),
        "keys_file": str(keys_file(folder, monkeypatch)),
        "allow_private": True,
        "rate": 0.0,
        "publish": dict(FAST),
        **kw,
    }
    return ServeSettings(**values)


def post_body(url: str, caption: str, account: str = "brand-a", **kw: Any) -> dict[str, Any]:
    return {"account": account, "caption": caption, "media": [url], **kw}


def wait_state(
    client: httpx.Client, post_id: str, states: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    """Poll GET /v1/posts/{id} until its state is one of `states`."""
    deadline = time.monotonic() + timeout
    answer: dict[str, Any] = {}
    while time.monotonic() < deadline:
        got = client.get(f"/v1/posts/{post_id}")
        assert got.status_code == 200, got.text
        answer = got.json()
        if answer["state"] in states:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"post {post_id} never reached {states}: {answer}")

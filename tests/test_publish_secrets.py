"""Graph echoes a token it cannot parse ("Cannot parse access token: EAAG..."): that
token must reach no output, report, log or database, even when one of the redaction
boundaries is gone (docs/publishing.md: redact at every output boundary, not only in
the client)."""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private", "--no-check"]


def _keep(value, *args, **kwargs):  # noqa: ANN001, ANN202
    """A redaction that redacts nothing (a record filter that lets everything pass)."""
    return True if isinstance(value, logging.Filter) else value


# Each output boundary: (module, the redaction it applies), taken away one at a time.
BOUNDARIES = {
    "client": ("igpreflight.publish.graph.errors", "redact"),
    "step results": ("igpreflight.publish.steps.guard", "redact"),
    "database": ("igpreflight.publish.durable.dbos_port", "redact"),
    "report": ("igpreflight.report.publish", "redact"),
    "terminal": ("igpreflight.terminal", "redact"),
    "log filter": ("igpreflight.redaction", "Redactor.filter"),
}


def take_away(monkeypatch: pytest.MonkeyPatch, module: str, path: str) -> None:
    target = importlib.import_module(module)  # (igpreflight.publish is also a function)
    *owners, name = path.split(".")
    for owner in owners:
        target = getattr(target, owner)
    monkeypatch.setattr(target, name, _keep)


def publish_with_echoes(emu, media, tmp_path: Path, caplog) -> tuple[list[str], list[bytes]]:  # noqa: ANN001
    """Two runs (text, json) whose quota read and media_publish get 190 with the token
    echoed: what they printed and logged, and the database's bytes."""
    emu.inject("limit", "token_echo", times=2)  # the account's first call, in each run
    emu.inject("media_publish", "token_echo", times=2)
    posts = [
        {"id": f"p{i}", "media": [media.url_for("feed.jpg") + f"?{i}"], "caption": f"c{i}"}
        for i in range(2)
    ]
    m = tmp_path / "posts.json"
    m.write_text(json.dumps({"post": posts}))
    environ = {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
    }
    outputs = []
    with caplog.at_level(logging.DEBUG):
        for fmt in ("text", "json"):
            args = ["publish", str(m), *FAST, "-vv", "--format", fmt]
            r = CliRunner().invoke(cli, args, env=environ)
            assert r.exit_code == 1, r.output
            outputs += [r.stdout, r.stderr]
    outputs.append(caplog.text)
    stores = [p.read_bytes() for p in Path(tmp_path, ".igpreflight").iterdir() if p.is_file()]
    assert stores and any("Cannot parse access token" in text for text in outputs), outputs
    return outputs, stores


@pytest.mark.parametrize("removed", [None, *BOUNDARIES])
def test_an_echoed_token_never_leaves_even_with_one_boundary_removed(
    emu, media, tmp_path, caplog, monkeypatch, removed
):
    if removed is not None:
        take_away(monkeypatch, *BOUNDARIES[removed])
    outputs, stores = publish_with_echoes(emu, media, tmp_path, caplog)
    for text in outputs:
        assert FAKE_TOKEN not in text
    for data in stores:
        assert FAKE_TOKEN.encode() not in data


def test_without_any_boundary_the_token_would_leak(emu, media, tmp_path, caplog, monkeypatch):
    """The test above can fail: with every boundary gone, the echoed token shows."""
    for module, path in BOUNDARIES.values():
        take_away(monkeypatch, module, path)
    outputs, stores = publish_with_echoes(emu, media, tmp_path, caplog)
    assert any(FAKE_TOKEN in text for text in outputs) or any(
        FAKE_TOKEN.encode() in d for d in stores
    )

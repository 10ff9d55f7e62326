"""Manifest media given as URLs are fetched, probed and checked with the URL rules."""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler

import pytest
from click.testing import CliRunner
from loopback import serving
from PIL import Image

from igpreflight.cli import cli


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    with serving(partial(QuietHandler, directory=str(root))) as url:
        yield root, url


def manifest(tmp_path, media):
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": [{"id": "remote", "media": media}]}))
    return path


def test_remote_media_are_checked_like_local_files(tmp_path, served):
    root, base = served
    Image.new("RGB", (1080, 1600), "blue").save(root / "tall.jpg", quality=80)
    Image.new("RGB", (1080, 1350), "blue").save(root / "ok.jpg", quality=80)
    m = manifest(tmp_path, [f"{base}/tall.jpg", f"{base}/ok.jpg"])
    r = CliRunner().invoke(
        cli, ["check", "--manifest", str(m), "--allow-private", "--format", "json"]
    )
    data = json.loads(r.output)
    files = {f["path"].rsplit("/", 1)[-1]: f for f in data["files"]}
    assert [f["rule"] for f in files["tall.jpg"]["findings"]] == ["IMG003"]
    assert files["tall.jpg"]["facts"]["height"] == 1600
    assert files["ok.jpg"]["findings"] == []
    assert data["posts"][0]["media_type"] == "CAROUSEL"
    assert r.exit_code == 1


def test_remote_media_missing_is_url001(tmp_path, served):
    _, base = served
    m = manifest(tmp_path, [f"{base}/gone.jpg"])
    r = CliRunner().invoke(
        cli, ["check", "--manifest", str(m), "--allow-private", "--format", "json"]
    )
    rules = {f["rule"] for f in json.loads(r.output)["files"][0]["findings"]}
    assert {"FILE001", "URL001"} <= rules


def test_private_hosts_are_refused_without_allow_private(tmp_path, served):
    root, base = served
    Image.new("RGB", (1080, 1350), "blue").save(root / "ok.jpg")
    m = manifest(tmp_path, [f"{base}/ok.jpg"])
    r = CliRunner().invoke(cli, ["check", "--manifest", str(m), "--format", "json"])
    rules = {f["rule"] for f in json.loads(r.output)["files"][0]["findings"]}
    assert "URL006" in rules and r.exit_code == 1

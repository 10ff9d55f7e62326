"""examples/node/prepublish.mjs, run by the real `node` against the service on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from serve_support import REPO, SECRETS, keys_file, running

from fixtures.generate import make_image
from igpreflight.serve.settings import ServeSettings

NODE = shutil.which("node")
SCRIPT = REPO / "examples" / "node" / "prepublish.mjs"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("node")
    with pytest.MonkeyPatch.context() as mp:
        settings = ServeSettings(
            data_dir=str(folder / "data"),
            isolated=True,
            rate=0,
            keys_file=str(keys_file(folder, mp)),
        )
        with running(settings) as svc:
            yield svc


def run_node(service, post_file, key=SECRETS["IGPF_TEST_KEY_A"]):
    env = {**os.environ, "IGPREFLIGHT_URL": service.url, "IGPREFLIGHT_KEY": key}
    return subprocess.run(
        [NODE, str(SCRIPT), str(post_file)], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_valid_post_with_local_files(service, tmp_path):
    make_image(tmp_path / "photo.jpg", size=(1080, 1350))
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"id": "launch", "caption": "Launch #new", "media": ["photo.jpg"]}))
    done = run_node(service, post)
    assert done.returncode == 0, done.stderr
    assert "launch: ready to publish (0 errors, 0 warnings)" in done.stdout


def test_findings_are_shown_with_their_media_and_hint(service, tmp_path):
    make_image(tmp_path / "wide.png", size=(1200, 400), mode="RGBA")
    make_image(tmp_path / "ok.jpg", size=(1080, 1080))
    post = tmp_path / "post.json"
    post.write_text(
        json.dumps({"id": "c1", "media_type": "CAROUSEL", "media": ["ok.jpg", "wide.png"]})
    )
    done = run_node(service, post)
    assert done.returncode == 1, done.stderr
    assert "error   IMG003 media 2:" in done.stdout
    assert "hint:" in done.stdout
    # One error is "1 error", as igpreflight counts (the docs trial saw "1 warnings").
    assert "c1: not publishable as is (1 error, 3 warnings)" in done.stdout, done.stdout


def test_service_errors_are_one_line(service, tmp_path):
    make_image(tmp_path / "ok.jpg", size=(1080, 1080))
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"media": ["ok.jpg"]}))
    done = run_node(service, post, key="wrong-key-0123456789")
    assert done.returncode == 2
    assert done.stderr.strip() == ("prepublish: error: 401 Unauthorized: the API key is not known")

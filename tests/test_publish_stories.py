"""A STORIES post with several media publishes every one of them, in order, once."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


def test_every_story_of_a_post_is_published_in_order(emu, media, tmp_path):
    urls = [media.url_for(n) for n in ("feed.jpg", "reel.mp4", "square.jpg")]
    manifest = tmp_path / "posts.json"
    manifest.write_text(
        json.dumps({"post": [{"id": "day", "media_type": "STORIES", "media": urls}]})
    )
    env = {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
    }
    r = CliRunner().invoke(cli, ["publish", str(manifest), *FAST], env=env)
    assert r.exit_code == 0, r.output
    assert [p["media_type"] for p in emu.published] == ["STORIES"] * 3
    creates = emu.calls("POST", "/media")
    url_of = {
        c["response"]["id"]: c["params"].get("image_url") or c["params"].get("video_url")
        for c in creates
    }
    # one container per story (made ahead, in any order), published in the manifest's order
    assert len(creates) == 3
    assert [url_of[p["container_id"]] for p in emu.published] == urls
    assert "day#1" in r.output and "day#3" in r.output
    again = CliRunner().invoke(cli, ["publish", str(manifest), *FAST], env=env)
    assert again.exit_code == 0 and len(emu.published) == 3  # never twice

"""`igpreflight run`: check, fix, upload (moto) and publish (emulator) in one command,
each post stopping at the first stage it fails."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_video
from fixtures.s3server import fake_aws_env, running_moto
from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


def env(emu):
    return {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
    }


@pytest.fixture
def bucket(tmp_path, monkeypatch):
    fake_aws_env(monkeypatch, tmp_path)
    with running_moto() as endpoint:
        name = f"igpf-run-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
        yield ["--bucket", name, "--endpoint-url", endpoint, "--acl", "public-read"]


def test_run_fixes_uploads_and_publishes_and_stops_bad_posts(emu, tmp_path, bucket):
    src = tmp_path / "content"
    src.mkdir()
    Image.new("RGB", (1080, 1800), "orange").save(src / "tall.webp")  # IMG002 + IMG003
    Image.new("RGB", (1080, 1080), "teal").save(src / "square.png")
    make_video(
        src / "clip.webm",
        width=180,
        height=320,
        fps=30,
        duration=3.5,
        vcodec="libvpx-vp9",
        acodec="libopus",
        container="webm",
    )
    (src / "posts.json").write_text(
        json.dumps(
            {
                "post": [
                    {"id": "carousel", "caption": "two #a", "media": ["tall.webp", "square.png"]},
                    {"id": "reel", "media": ["clip.webm"], "thumb_offset": 1000},
                    {"id": "spam", "caption": "#x " * 31, "media": ["square.png"]},
                ]
            }
        )
    )
    before = {p.name: p.read_bytes() for p in src.iterdir() if p.is_file()}
    r = CliRunner().invoke(
        cli, ["run", str(src / "posts.json"), *FAST, *bucket, "--format", "json"], env=env(emu)
    )
    assert r.exit_code == 1, r.output  # one post stopped at check
    assert "spam: stopped at check: POST002" in r.stderr
    doc = json.loads(r.stdout)  # one document: published posts and the stopped one
    by_id = {p["id"]: p for p in doc["posts"]}
    assert by_id["spam"]["status"] == "stopped" and by_id["spam"]["stage"] == "check"
    assert by_id["carousel"]["status"] == by_id["reel"]["status"] == "published"
    assert doc["summary"]["posts"] == 3 and doc["summary"]["stopped"] == 1
    assert sorted(p["media_type"] for p in emu.published) == ["CAROUSEL", "REELS"]
    assert [p["caption"] for p in emu.published if p["media_type"] == "CAROUSEL"] == ["two #a"]
    # Instagram's own (emulated) checks accepted the fixed media: JPEG, in ratio, H.264/AAC MP4.
    creates = emu.calls("POST", "/media")
    urls = [c["params"].get("image_url") or c["params"].get("video_url") for c in creates]
    assert all(u and u.endswith((".jpg", ".mp4")) for u in urls if u)
    # The originals are untouched; the fixed files live under .igpreflight/run.
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.is_file()} == before
    assert (src / ".igpreflight" / "run" / "posts.json").is_file()

    # Re-running publishes nothing twice.
    again = CliRunner().invoke(cli, ["run", str(src / "posts.json"), *FAST, *bucket], env=env(emu))
    assert len(emu.published) == 2, again.output
    assert "published earlier" in again.stdout
    assert FAKE_TOKEN not in r.output + again.output


def test_run_stops_an_unfixable_post_at_fix(emu, tmp_path, bucket):
    src = tmp_path / "c"
    src.mkdir()
    make_video(src / "short.mp4", width=180, height=320, fps=30, duration=1.0)
    Image.new("RGB", (1080, 1350), "navy").save(src / "ok.jpg", quality=85)
    r = CliRunner().invoke(
        cli, ["run", str(src / "short.mp4"), str(src / "ok.jpg"), *FAST, *bucket], env=env(emu)
    )
    assert r.exit_code == 1
    assert "stopped at fix" in r.stderr and "short.mp4" in r.stderr
    assert len(emu.published) == 1


def test_run_and_publish_share_one_database_and_urls_alone_work(emu, tmp_path, bucket):
    from fixtures.graph_emulator import MediaServer

    www = tmp_path / "www"
    www.mkdir()
    Image.new("RGB", (1080, 1350), "olive").save(www / "ok.jpg", quality=85)
    src = tmp_path / "site"
    src.mkdir()
    Image.new("RGB", (1080, 1350), "navy").save(src / "local.jpg", quality=85)
    with MediaServer(www) as media:
        manifest = src / "posts.json"
        manifest.write_text(
            json.dumps({"post": [{"id": "remote", "media": [media.url_for("ok.jpg")]}]})
        )
        # Only URL media: nothing to fix, and no crash writing the derived manifest.
        r = CliRunner().invoke(cli, ["run", str(manifest), *FAST, *bucket], env=env(emu))
        assert r.exit_code == 0, r.output
        manifest.write_text(
            json.dumps(
                {
                    "post": [
                        {"id": "remote", "media": [media.url_for("ok.jpg")]},
                        {"id": "local", "media": ["local.jpg"]},
                    ]
                }
            )
        )
        r = CliRunner().invoke(cli, ["run", str(manifest), *FAST, *bucket], env=env(emu))
        assert r.exit_code == 0, r.output
        assert len(emu.published) == 2
        # publish on the user's manifest sees what run published: nothing twice.
        p = CliRunner().invoke(cli, ["publish", str(manifest), *FAST, *bucket], env=env(emu))
        assert p.exit_code == 0, p.output
        assert len(emu.published) == 2 and p.stdout.count("published earlier") == 2
    assert (src / ".igpreflight" / "publish.sqlite").is_file()


def test_run_deep_stops_a_clip_whose_pictures_do_not_decode(emu, tmp_path, bucket):
    """Damage in a clip's slice data passes the header check and a remux's structure
    proof; `run --deep` decodes every picture before anything is uploaded."""
    from tests.test_video_proof import _samples

    clip = make_video(tmp_path / "reel.mp4", width=360, height=640, fps=30, duration=4.0)
    data = bytearray(clip.read_bytes())
    offset, size = _samples(clip)[0]  # the first keyframe
    for k in range(size // 5, size, max(1, size // 40)):
        data[offset + k] ^= 0x24
    clip.write_bytes(bytes(data))
    r = CliRunner().invoke(cli, ["run", str(clip), "--deep", *FAST, *bucket], env=env(emu))
    assert r.exit_code == 1, r.output
    assert "stopped at fix" in r.stderr and "FILE001 does not decode" in r.stderr, r.stderr
    assert emu.published == []

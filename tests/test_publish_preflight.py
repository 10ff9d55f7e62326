"""`igpreflight publish` runs the preflight checks before any call: a post `check`
finds an error in is refused (fix-media, nothing uploaded or sent), uploads go
through the URL rules before a container, and the report says each thing once.

Real pieces on loopback: the Graph emulator, a media server, moto for S3."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.graph_emulator import MediaServer
from fixtures.s3server import fake_aws_env, running_moto
from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


def manifest(folder: Path, posts: list[dict]) -> Path:
    path = folder / "posts.json"
    path.write_text(json.dumps({"post": posts}))
    return path


def env(emu, **extra: str) -> dict[str, str]:
    return {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
        **extra,
    }


def invoke(args: list, environ: dict[str, str]):
    return CliRunner().invoke(cli, ["publish", *map(str, args)], env=environ)


def line_of(stdout: str, post_id: str) -> str:
    [line] = [x for x in stdout.splitlines() if x.startswith(f"{post_id}: ")]
    return line


def media_calls_for(emu, name: str) -> list[dict]:
    """POST /media calls whose image or video URL ends with `name`."""
    return [
        c
        for c in emu.calls("POST", "/media")
        if str(c["params"].get("image_url") or c["params"].get("video_url") or "").endswith(name)
    ]


@pytest.fixture
def s3(tmp_path, monkeypatch):
    """(endpoint, bucket) on a moto server."""
    fake_aws_env(monkeypatch, tmp_path)
    with running_moto() as endpoint:
        name = f"igpf-pf-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
        yield endpoint, name


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    listing = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listing.get("Contents", [])]


def test_local_post_failing_check_is_refused_before_upload_and_any_call(emu, s3, tmp_path):
    endpoint, bucket = s3
    Image.new("RGB", (1080, 1920), "orange").save(tmp_path / "story.jpg", quality=85)  # 9:16
    Image.new("RGB", (1080, 1350), "teal").save(tmp_path / "feed.jpg", quality=85)
    m = manifest(
        tmp_path,
        [
            {"id": "bad", "media_type": "IMAGE", "media": ["story.jpg"]},
            {"id": "good", "media_type": "IMAGE", "media": ["feed.jpg"]},
        ],
    )
    upload = ["--bucket", bucket, "--endpoint-url", endpoint, "--acl", "public-read"]
    r = invoke([m, *FAST, *upload], env(emu))
    assert r.exit_code == 1, r.stdout + r.stderr
    bad = line_of(r.stdout, "bad")
    assert bad.startswith("bad: failed [fix-media]") and "IMG003" in bad and "story.jpg" in bad
    assert "36003" not in bad  # no Graph error: Instagram never saw it
    assert "good: published" in r.stdout
    # the refused file was neither uploaded nor sent; the other post went through
    assert [k for k in bucket_keys(endpoint, bucket) if k.endswith("story.jpg")] == []
    assert [k for k in bucket_keys(endpoint, bucket) if k.endswith("feed.jpg")]
    assert media_calls_for(emu, "story.jpg") == []
    assert len(emu.calls("POST", "/media")) == 1 and len(emu.published) == 1

    doc = json.loads(invoke([m, *FAST, *upload, "--format", "json"], env(emu)).stdout)
    [refused] = [p for p in doc["posts"] if p["id"] == "bad"]
    assert refused["status"] == "failed" and refused["error"]["class"] == "fix-media"
    assert refused["error"]["rule"] == "IMG003" and refused["container_id"] is None
    assert len(emu.calls("POST", "/media")) == 1  # the rerun sent nothing for it either


def test_url_media_failing_check_are_refused_and_no_check_sends_them(emu, tmp_path):
    folder = tmp_path / "pub"
    folder.mkdir()
    frames = [Image.new("RGB", (1080, 1080), c) for c in ("red", "blue", "green")]
    frames[0].save(folder / "anim.webp", save_all=True, append_images=frames[1:], duration=100)
    Image.new("RGB", (1080, 1350), "teal").save(folder / "feed.jpg", quality=85)
    Image.new("RGB", (400, 1200), "gray").save(folder / "tall.jpg", quality=85)
    with MediaServer(folder) as ms:
        m = manifest(
            tmp_path,
            [
                {"id": "anim", "media_type": "IMAGE", "media": [ms.url_for("anim.webp")]},
                {
                    "id": "crowd",
                    "media_type": "IMAGE",
                    "media": [ms.url_for("feed.jpg")],
                    "collaborators": ["a", "b", "c", "d"],
                },
                {"id": "tall", "media_type": "IMAGE", "media": [ms.url_for("tall.jpg")]},
                {"id": "ok", "media_type": "IMAGE", "media": [ms.url_for("feed.jpg")]},
            ],
        )
        r = invoke([m, *FAST], env(emu))
        assert r.exit_code == 1, r.stdout + r.stderr
        assert "[fix-media]" in line_of(r.stdout, "anim") and "IMG002" in r.stdout
        assert "[fix-media]" in line_of(r.stdout, "crowd") and "POST019" in r.stdout
        assert "IMG003" in line_of(r.stdout, "tall")
        assert "ok: published" in r.stdout
        assert "1 published, 3 failed, 0 queued" in r.stdout
        # only the good post reached Graph
        [call] = emu.calls("POST", "/media")
        assert call["params"]["image_url"].endswith("/feed.jpg")
        assert "collaborators" not in call["params"]

        # --no-check: Graph itself rejects the tall image; its code is said once
        db = tmp_path / "nocheck.sqlite"
        tall_only = manifest(tmp_path, [{"id": "tall", "media": [ms.url_for("tall.jpg")]}])
        r2 = invoke([tall_only, *FAST, "--no-check", "--db", db], env(emu))
    assert r2.exit_code == 1, r2.stdout + r2.stderr
    tall = line_of(r2.stdout, "tall")
    assert tall.startswith("tall: failed [fix-media] 36003/2207009: ")
    assert tall.count("36003/2207009") == 1
    assert len(media_calls_for(emu, "tall.jpg")) == 1


def test_uploaded_url_failing_the_url_rules_fails_the_post_before_a_container(
    emu, s3, media, tmp_path
):
    endpoint, bucket = s3
    Image.new("RGB", (1080, 1350), "teal").save(tmp_path / "feed.jpg", quality=85)
    # a carousel whose first child is a URL and second a local file: every upload of
    # the post is done and proven before the first child's container
    m = manifest(
        tmp_path,
        [
            {
                "id": "priv",
                "media_type": "CAROUSEL",
                "media": [media.url_for("square.jpg"), "feed.jpg"],
            }
        ],
    )
    # --acl none on moto: the object is uploaded but not readable anonymously (URL001)
    upload = ["--bucket", bucket, "--endpoint-url", endpoint, "--acl", "none"]
    r = invoke([m, *FAST, *upload], env(emu))
    assert r.exit_code == 1, r.stdout + r.stderr
    line = line_of(r.stdout, "priv")
    assert line.startswith("priv: failed [fix-media]") and "URL001" in line
    assert [k for k in bucket_keys(endpoint, bucket) if k.endswith("feed.jpg")]  # uploaded
    assert emu.calls("POST", "/media") == []  # but no container, not even the first child


def test_unreachable_graph_host_is_named_not_the_media_url(emu, media, tmp_path):
    m = manifest(
        tmp_path, [{"id": "p", "media_type": "IMAGE", "media": [media.url_for("feed.jpg")]}]
    )
    r = invoke([m, *FAST], env(emu, IGPREFLIGHT_GRAPH_URL="http://127.0.0.1:1"))
    assert r.exit_code == 1, r.stdout + r.stderr
    line = line_of(r.stdout, "p")
    assert "http://127.0.0.1:1" in line and "Graph" in line
    assert media.url_for("feed.jpg") not in line


def test_bad_token_is_told_once_and_the_stopped_posts_listed(emu, media, tmp_path):
    posts = [
        {"id": f"p{i}", "media_type": "IMAGE", "media": [media.url_for("feed.jpg")]}
        for i in range(5)
    ]
    m = manifest(tmp_path, posts)
    r = invoke([m, *FAST], env(emu, IG_ACCESS_TOKEN="EAAG-not-the-right-token-0987654321"))
    assert r.exit_code == 1, r.stdout + r.stderr
    both = r.stdout + r.stderr
    assert both.count("IG_ACCESS_TOKEN") == 1 and both.count("Invalid OAuth") == 1
    assert "p0, p1, p2, p3, p4" in r.stderr
    for i in range(5):
        assert line_of(r.stdout, f"p{i}").startswith(f"p{i}: failed [reconnect-auth]")
    assert "0 published, 5 failed, 0 queued" in r.stdout
    assert emu.calls("POST", "/media") == []

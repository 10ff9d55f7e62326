"""`igpreflight publish` end to end against the emulator: output, exit codes, dry run,
the token kept out of every output, and a kill -9 in the middle of a batch."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


def manifest(tmp_path: Path, posts: list[dict]) -> Path:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": posts}))
    return path


def images(media, n: int, prefix: str = "p") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "media_type": "IMAGE",
            "media": [media.url_for("feed.jpg")],
            "caption": f"caption {prefix}{i}",
        }
        for i in range(n)
    ]


def env(emu, **extra: str) -> dict[str, str]:
    return {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
        **extra,
    }


def invoke(args: list[str], environ: dict[str, str]):
    return CliRunner().invoke(cli, ["publish", *map(str, args)], env=environ)


def test_publishes_a_batch_and_prints_media_ids(emu, media, tmp_path):
    posts = [
        *images(media, 1),
        {"id": "reel", "media_type": "REELS", "media": [media.url_for("reel.mp4")]},
        {
            "id": "car",
            "media": [media.url_for("feed.jpg"), media.url_for("square.mp4")],
            "caption": "two",
        },
    ]
    m = manifest(tmp_path, posts)
    r = invoke([m, *FAST], env(emu))
    assert r.exit_code == 0, r.output + r.stderr
    ids = [p["media_id"] for p in emu.published]
    for pid, media_id in zip(["p0", "reel", "car"], ids, strict=True):
        assert f"{pid}: published, media id {media_id}" in r.stdout
    assert "3 published, 0 failed, 0 queued" in r.stdout
    # the carousel's type was inferred from its two media
    assert emu.published[2]["media_type"] == "CAROUSEL"
    # the engine's database beside the manifest (no journal is written any more)
    assert (tmp_path / ".igpreflight" / "publish.sqlite").is_file()
    assert not (tmp_path / ".igpreflight" / "journal.sqlite").exists()


def test_json_output_and_rerun_skips_published(emu, media, tmp_path):
    m = manifest(tmp_path, images(media, 2))
    r = invoke([m, *FAST, "--format", "json"], env(emu))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"]["published"] == 2
    assert [p["id"] for p in doc["posts"]] == ["p0", "p1"]
    assert doc["posts"][0]["media_id"] == emu.published[0]["media_id"]
    assert doc["posts"][0]["error"] is None
    n = len(emu.requests)
    r2 = invoke([m, *FAST, "--format", "json"], env(emu))
    assert r2.exit_code == 0
    doc2 = json.loads(r2.stdout)
    assert all(p["already"] for p in doc2["posts"])
    assert len(emu.published) == 2
    assert emu.requests[n:] == []
    # a dry run reads the engine's database (without writing): nothing left to send
    plan = invoke([m, *FAST, "--dry-run"], env(emu))
    assert plan.exit_code == 0 and "p0 (IMAGE): already published" in plan.stdout, plan.stdout
    assert "media_publish" not in plan.stdout and emu.requests[n:] == []


def test_dry_run_makes_no_calls_and_redacts_the_token(emu, media, tmp_path):
    posts = [
        *images(media, 1),
        {
            "id": "car",
            "media_type": "CAROUSEL",
            "media": [media.url_for("feed.jpg"), media.url_for("square.mp4")],
            "caption": "two",
        },
    ]
    m = manifest(tmp_path, posts)
    r = invoke([m, *FAST, "--dry-run"], env(emu))
    assert r.exit_code == 0, r.stderr
    assert emu.requests == []
    assert not (tmp_path / ".igpreflight").exists()
    out = r.stdout
    assert FAKE_TOKEN not in out and "Bearer ***" in out
    base = f"{emu.url}/v25.0/{emu.user_id}"
    assert f"GET {base}/content_publishing_limit fields=quota_usage,config" in out
    assert f"POST {base}/media image_url={media.url_for('feed.jpg')}" in out
    assert "is_carousel_item=true" in out and "media_type=VIDEO" in out
    assert "children={car:1},{car:2}" in out
    assert f"POST {base}/media_publish creation_id={{car:parent}}" in out


def test_missing_token_is_a_usage_error(emu, media, tmp_path):
    m = manifest(tmp_path, images(media, 1))
    e = env(emu)
    del e["IG_ACCESS_TOKEN"]
    r = CliRunner().invoke(cli, ["publish", str(m)], env={**e, "IG_ACCESS_TOKEN": ""})
    assert r.exit_code == 2
    assert "IG_ACCESS_TOKEN" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert emu.requests == []


def test_local_file_without_upload_target_is_refused_before_any_call(emu, media_dir, tmp_path):
    (tmp_path / "a.jpg").write_bytes((media_dir / "feed.jpg").read_bytes())
    m = manifest(tmp_path, [{"id": "a", "media": ["a.jpg"]}])
    r = invoke([m, *FAST], env(emu))
    assert r.exit_code == 2
    assert "a.jpg" in r.stderr and "--bucket" in r.stderr
    assert emu.requests == []


def test_private_url_needs_allow_private(emu, media, tmp_path):
    m = manifest(tmp_path, images(media, 1))
    r = invoke([m], env(emu))
    assert r.exit_code == 2 and "URL006" in r.stderr
    assert emu.requests == []


def test_token_expiry_stops_the_batch_with_one_message(emu, media, tmp_path, caplog):
    emu.revoke_token(after_calls=4)
    m = manifest(tmp_path, images(media, 3))
    with caplog.at_level(logging.DEBUG):
        r = invoke([m, *FAST, "--verbose"], env(emu))
    assert r.exit_code == 1
    assert r.stderr.count("error: reconnect-auth") == 1
    assert "IG_ACCESS_TOKEN" in r.stderr
    # told once, on stderr with the posts it stopped; each post's line refers to it
    assert "reconnect the account" not in r.stdout and "p0, p1, p2" in r.stderr
    stopped = "failed [reconnect-auth] 190/463: publishing stopped for the account"
    assert r.stdout.count(stopped) == 3, r.stdout
    # 4 calls went through; once the token failed, no post of the account made a call
    assert len([x for x in emu.requests if x["status"] == 200]) == 4
    for text in (r.stdout, r.stderr, caplog.text):
        assert FAKE_TOKEN not in text
    for f in (tmp_path / ".igpreflight").iterdir():
        assert FAKE_TOKEN.encode() not in f.read_bytes()


def test_failure_exit_1_with_class_and_message(emu, media, tmp_path):
    posts = images(media, 1) + [
        {"id": "tall", "media_type": "IMAGE", "media": [media.url_for("tall.jpg")]}
    ]
    m = manifest(tmp_path, posts)
    # --no-check: let Graph itself reject it (by default preflight refuses it first)
    r = invoke([m, *FAST, "--no-check"], env(emu))
    assert r.exit_code == 1
    assert "p0: published" in r.stdout
    assert "tall: failed [fix-media] 36003/2207009" in r.stdout and "IMG003" in r.stdout


def _wait_for(pred, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def test_kill_9_mid_batch_then_rerun_publishes_each_post_once(emu, media, tmp_path):
    m = manifest(tmp_path, images(media, 5))
    args = [
        sys.executable,
        "-m",
        "igpreflight",
        "publish",
        str(m),
        *FAST,
        "--db",
        str(tmp_path / "q.sqlite"),
    ]
    environ = {**os.environ, **env(emu)}
    # The third media_publish is carried out, but its answer comes too late: the kill
    # lands after Instagram published and before the engine heard of it. Queued before
    # the run (two answered at once ahead of it), since a fault injected once two posts
    # were out could miss the third on a loaded machine and slow the fourth instead.
    emu.inject("media_publish", "slow", times=2, delay=0)
    emu.inject("media_publish", "slow", delay=30)
    proc = subprocess.Popen(args, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: len(emu.published) >= 3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(emu.published) == 3
    emu.pending_faults()  # the slow fault was consumed by the killed run

    rerun = subprocess.run(args, env=environ, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    captions = sorted(p["caption"] for p in emu.published)
    assert captions == [f"caption p{i}" for i in range(5)]  # every post exactly once
    assert "p2: published" in rerun.stdout and "shows PUBLISHED" in rerun.stdout
    third = emu.published[2]["container_id"]
    assert [c["params"]["creation_id"] for c in emu.calls("POST", "/media_publish")].count(
        third
    ) == 1
    assert FAKE_TOKEN not in rerun.stdout + rerun.stderr


def test_local_media_are_uploaded_then_published(emu, media_dir, tmp_path, monkeypatch):
    import uuid

    import boto3

    from fixtures.s3server import fake_aws_env, running_moto

    fake_aws_env(monkeypatch, tmp_path)
    for name in ("feed.jpg", "square.jpg"):
        (tmp_path / name).write_bytes((media_dir / name).read_bytes())
    m = manifest(tmp_path, [{"id": "car", "media": ["feed.jpg", "square.jpg"], "caption": "up"}])
    with running_moto() as endpoint:
        bucket = f"igpf-pub-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        args = [m, *FAST, "--bucket", bucket, "--endpoint-url", endpoint, "--acl", "public-read"]
        r = invoke(args, env(emu))
    assert r.exit_code == 0, r.stdout + r.stderr
    children = [c for c in emu.calls("POST", "/media") if c["params"].get("is_carousel_item")]
    urls = [c["params"]["image_url"] for c in children]
    assert all(u.startswith(f"{endpoint}/{bucket}/") for u in urls)
    assert len(emu.published) == 1


def test_dry_run_json_with_a_resumable_local_video(emu, media_dir, tmp_path):
    (tmp_path / "clip.mp4").write_bytes((media_dir / "reel.mp4").read_bytes())
    m = manifest(tmp_path, [{"id": "r", "media_type": "REELS", "media": ["clip.mp4"]}])
    r = invoke([m, "--dry-run", "--resumable", "--format", "json"], env(emu))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dry_run"] and doc["headers"] == {"Authorization": "Bearer ***"}
    [post] = [p for p in doc["posts"] if p["id"] == "r"]
    create, upload = post["calls"][0], post["calls"][1]
    assert create["params"] == {"upload_type": "resumable", "media_type": "REELS"}
    assert upload["headers"]["Authorization"] == "OAuth ***"
    assert upload["headers"]["file_size"] == str((tmp_path / "clip.mp4").stat().st_size)
    assert emu.requests == [] and FAKE_TOKEN not in r.stdout


def test_rerun_does_not_need_the_files_of_published_posts(emu, media, tmp_path):
    m = manifest(tmp_path, images(media, 1))
    assert invoke([m, *FAST], env(emu)).exit_code == 0
    # the post is now described by a local file that no longer exists
    m.write_text(json.dumps({"post": [{"id": "p0", "media": ["gone.jpg"]}]}))
    r = invoke([m, *FAST], env(emu))
    assert r.exit_code == 0, r.stderr
    assert "p0: published earlier" in r.stdout
    assert len(emu.published) == 1


def test_plain_publish_and_run_refuse_a_post_already_on_instagram(emu, media, tmp_path):
    theirs = emu.add_media(emu.user_id, "caption p0", age=600)  # posted from a phone
    m = manifest(tmp_path, images(media, 1))
    r = invoke([m, *FAST], env(emu))
    assert r.exit_code == 1 and f"already on Instagram ({theirs})" in r.stdout, r.stdout
    assert emu.published == []
    r = invoke([m, *FAST, "--dedupe-window", "0.1"], env(emu))  # 6 min: older than that
    assert r.exit_code == 0 and len(emu.published) == 1, r.stdout + r.stderr
    for command in ("publish", "run"):
        help_text = CliRunner().invoke(cli, [command, "--help"]).output
        assert "--dedupe-window" in help_text and "--allow-duplicate" in help_text


def test_a_scheduled_post_exits_0_and_waits_in_the_database(emu, media, tmp_path):
    later = {**images(media, 1)[0], "id": "later", "publish_at": "2099-01-01T09:00:00Z"}
    m = manifest(tmp_path, [*images(media, 1), later])
    r = invoke([m, *FAST, "--format", "json"], env(emu))
    assert r.exit_code == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert [p["status"] for p in doc["posts"]] == ["published", "scheduled"]
    assert doc["summary"]["scheduled"] == 1 and len(emu.published) == 1
    s = CliRunner().invoke(cli, ["status", str(m)], env=env(emu))
    assert "default/later: scheduled for 2099-01-01T09:00:00Z" in s.stdout, s.stdout

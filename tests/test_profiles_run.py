"""`igpreflight run --profile`: the check and fix stages of a run work under the profiles
(house rules stop a post at check, naming the profile; the media are fixed to pass every
profile), then publishing goes on as usual (moto for S3, the Graph emulator)."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.s3server import fake_aws_env, running_moto
from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


@pytest.fixture
def bucket(tmp_path, monkeypatch):
    fake_aws_env(monkeypatch, tmp_path)
    with running_moto() as endpoint:
        name = f"igpf-prof-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
        yield ["--bucket", name, "--endpoint-url", endpoint, "--acl", "public-read"]


def test_run_checks_and_fixes_under_the_profiles(emu, tmp_path, bucket, monkeypatch):
    src = tmp_path / "content"
    src.mkdir()
    Image.new("RGB", (1080, 1080), "teal").save(src / "square.jpg", quality=80)
    (src / "house.toml").write_text(
        'name = "acme"\nextends = "instagram"\n'
        'image.aspects = ["4:5"]\npost.required_hashtags = ["#acme"]\n'
    )
    (src / "posts.json").write_text(
        json.dumps(
            {
                "post": [
                    {"id": "good", "caption": "Spring #acme", "media": ["square.jpg"]},
                    {"id": "untagged", "caption": "Spring", "media": ["square.jpg"]},
                ]
            }
        )
    )
    monkeypatch.chdir(src)
    env = {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
    }
    r = CliRunner().invoke(
        cli,
        [
            "run",
            "posts.json",
            "--profile",
            "instagram,house.toml",
            *FAST,
            *bucket,
            "--format",
            "json",
        ],
        env=env,
    )
    assert r.exit_code == 1, r.output
    assert (
        "untagged: stopped at check: POST022 [acme] caption lacks the required hashtag #acme"
        in r.stderr
    )
    doc = json.loads(r.stdout)
    by_id = {p["id"]: p for p in doc["posts"]}
    assert by_id["good"]["status"] == "published" and by_id["untagged"]["status"] == "stopped"
    # The published image is the one fixed to the house's 4:5 (it was 1:1).
    (create,) = emu.calls("POST", "/media")
    fixed = next((src / ".igpreflight" / "run").rglob("square.jpg"))
    with Image.open(fixed) as im:
        assert im.size == (864, 1080)
    assert create["params"]["image_url"].endswith(".jpg")


def test_fix_to_s3_under_profiles_resumes(tmp_path, monkeypatch):
    """Object metadata names the profiles and a digest of their values (S3 allows 2 KB
    of it): a re-run with the same profiles skips the work, another profile redoes it."""
    fake_aws_env(monkeypatch, tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (1200, 100), "red").save(src / "wide.jpg", quality=80)
    with running_moto() as endpoint:
        name = f"igpf-prof-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        out = f"s3://{name}/out/"
        args = ["fix", "--isolated", str(src), "--out", out]
        first = CliRunner().invoke(cli, [*args, "--profile", "instagram,threads"])
        assert first.exit_code == 0, first.output
        head = boto3.client("s3", endpoint_url=endpoint).head_object(
            Bucket=name, Key="out/wide.jpg"
        )
        assert sum(len(k) + len(v) for k, v in head["Metadata"].items()) < 2048
        again = CliRunner().invoke(cli, [*args, "--profile", "instagram,threads"])
        assert "(already done)" in again.output
        other = CliRunner().invoke(cli, [*args, "--profile", "threads"])
        assert "(already done)" not in other.output and other.exit_code == 0

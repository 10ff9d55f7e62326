"""Re-runs over S3 redo only what the new options change: an output's metadata records
the options that shape its kind (an image's never names --extend), and `fix --dry-run`
reads that metadata (and a local --out's ledger) to say what a real run would do."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from fixtures.generate import make_image, make_video
from igpreflight.cli import cli
from tests.s3_support import s3server  # noqa: F401 - a fixture


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def lines(output: str) -> dict[str, str]:
    return {
        ln.split(" -> ")[0].rsplit("/", 1)[-1]: ln for ln in output.splitlines() if " -> " in ln
    }


@pytest.fixture(scope="module")
def bucket(s3server, tmp_path_factory):  # noqa: F811 - the fixture
    root = tmp_path_factory.mktemp("ledger")
    name = s3server.bucket()
    s3server.put(name, "in/a.png", make_image(root / "a.png", size=(800, 800)))
    clip = make_video(root / "v.mp4", width=320, height=568, duration=3.5, faststart=False)
    s3server.put(name, "in/v.mp4", clip)
    return name


def _state(s3server, bucket: str) -> dict:  # noqa: F811
    listed = s3server.client.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", ())
    return {o["Key"]: (o["ETag"], o["LastModified"]) for o in listed}


def test_s3_outputs_record_their_kinds_options_and_dry_run_reads_them(s3server, bucket):  # noqa: F811
    src, out = f"s3://{bucket}/in/", f"s3://{bucket}/out/"
    assert run("fix", src, "--out", out).exit_code == 0
    image = s3server.client.head_object(Bucket=bucket, Key="out/a.jpg")["Metadata"]
    video = s3server.client.head_object(Bucket=bucket, Key="out/v.mp4")["Metadata"]
    image_fix = json.loads(unquote(image["igpreflight-fix"]))
    video_fix = json.loads(unquote(video["igpreflight-fix"]))
    assert {"extend", "trim", "keep_hevc"}.isdisjoint(image_fix) and "background" in image_fix
    assert {"keep_png", "background"}.isdisjoint(video_fix) and "extend" in video_fix
    written = _state(s3server, bucket)
    time.sleep(1.1)  # LastModified has one-second resolution

    dry = run("fix", src, "--out", out, "--extend", "--dry-run")
    assert dry.exit_code == 0, dry.output
    seen = lines(dry.output)
    assert seen["a.png"].endswith(": converted (already done)")
    assert seen["v.mp4"].startswith(f"s3://{bucket}/in/v.mp4 -> {out}v.mp4: remuxed (dry run)")
    assert _state(s3server, bucket) == written  # a dry run writes nothing

    real = lines(run("fix", src, "--out", out, "--extend").output)
    assert "(already done)" in real["a.png"] and "(already done)" not in real["v.mp4"]
    again = run("fix", src, "--out", out, "--extend", "--dry-run").output
    assert again.count("(already done)") == 2, again


def test_s3_to_a_local_folder_dry_run_reads_its_ledger(bucket, tmp_path):
    src, out = f"s3://{bucket}/in/", tmp_path / "fixed"
    fresh = run("fix", src, "--out", out, "--dry-run")
    assert "(already done)" not in fresh.output and not out.exists()
    assert run("fix", src, "--out", out).exit_code == 0
    dry = run("fix", src, "--out", out, "--keep-png", "--dry-run").output
    seen = lines(dry)
    assert seen["v.mp4"].endswith(": remuxed (already done)"), dry
    assert "copied (dry run)" in seen["a.png"], dry  # --keep-png: a PNG would stay a PNG

"""`igpreflight upload` and `check-url` end to end against moto's S3 server on loopback."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from fixtures.s3server import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, fake_aws_env, running_moto
from igpreflight.cli import cli

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running_moto() as url:
        yield url


@pytest.fixture()
def bucket(endpoint, monkeypatch, tmp_path) -> str:
    fake_aws_env(monkeypatch, tmp_path)
    name = f"igpf-cli-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture()
def media(tmp_path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    for name in ("feed-ok.jpg", "reel-ok.mp4"):
        shutil.copyfile(MEDIA / name, folder / name)
    return folder


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def upload(endpoint: str, bucket: str, *args: object):
    return run("upload", "--bucket", bucket, "--endpoint-url", endpoint, *args)


def test_upload_checks_uploads_and_proves_each_url(endpoint, bucket, media):
    r = upload(
        endpoint, bucket, media, "--acl", "public-read", "--allow-private", "--format", "json"
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["version"] == 1 and doc["summary"]["uploaded"] == 2
    assert doc["summary"]["urls_passing"] == 2 and doc["summary"]["urls_failing"] == 0
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    jpg, mp4 = by_name["feed-ok.jpg"], by_name["reel-ok.mp4"]
    assert jpg["content_type"] == "image/jpeg" and mp4["content_type"] == "video/mp4"
    assert jpg["url"] == f"{endpoint}/{bucket}/{jpg['key']}"
    checks = {c["rule"]: c["status"] for c in mp4["url_check"]["checks"]}
    assert checks == {
        "URL001": "pass",
        "URL002": "pass",
        "URL003": "pass",
        "URL004": "pass",
        "URL005": "pass",
        "URL006": "skip",
    }
    assert mp4["url_check"]["measurements"]["bytes"] == (media / "reel-ok.mp4").stat().st_size

    again = upload(
        endpoint, bucket, media, "--acl", "public-read", "--allow-private", "--format", "json"
    )
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert doc["summary"]["skipped"] == 2 and doc["summary"]["uploaded"] == 0
    assert {f["key"] for f in doc["files"]} == {jpg["key"], mp4["key"]}


def test_text_output_maps_path_to_url_and_every_check(endpoint, bucket, media):
    r = upload(
        endpoint,
        bucket,
        media / "feed-ok.jpg",
        "--acl",
        "public-read",
        "--allow-private",
        "--prefix",
        "ig",
    )
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"{media / 'feed-ok.jpg'} -> {endpoint}/{bucket}/ig/")
    for rule in ("URL001", "URL002", "URL003", "URL004", "URL005", "URL006"):
        assert rule in r.stdout
    assert "1 uploaded" in r.stdout and "1 passing, 0 failing" in r.stdout


def test_file_failing_check_is_refused_unless_no_check(endpoint, bucket, tmp_path):
    webp = tmp_path / "photo.webp"
    shutil.copyfile(MEDIA / "photo.webp", webp)
    r = upload(endpoint, bucket, webp, "--acl", "public-read", "--allow-private")
    assert r.exit_code == 1
    assert "refused" in r.stdout and "IMG002" in r.stdout
    s3 = boto3.client("s3", endpoint_url=endpoint)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    # --no-check uploads it as what it is, and the URL check says Instagram won't take it
    r = upload(
        endpoint,
        bucket,
        webp,
        "--acl",
        "public-read",
        "--allow-private",
        "--no-check",
        "--format",
        "json",
    )
    assert r.exit_code == 1
    (entry,) = json.loads(r.stdout)["files"]
    assert entry["status"] == "uploaded" and entry["content_type"] == "image/webp"
    assert [f["rule"] for f in entry["url_check"]["findings"]] == ["URL002"]


def test_private_endpoint_is_refused_without_allow_private(endpoint, bucket, media):
    r = upload(endpoint, bucket, media / "feed-ok.jpg", "--acl", "public-read")
    assert r.exit_code == 1
    assert "URL006" in r.stdout and "refused" in r.stdout


def test_object_without_public_acl_fails_url001(endpoint, bucket, media):
    r = upload(endpoint, bucket, media / "feed-ok.jpg", "--allow-private")
    assert r.exit_code == 1
    assert "FAIL  URL001" in r.stdout and "403" in r.stdout


def test_presigned_url_short_lifetime_warns_and_strict_fails(endpoint, bucket, media):
    args = ("--presign", 3600, "--allow-private")
    r = upload(endpoint, bucket, media / "feed-ok.jpg", *args)
    assert r.exit_code == 0, r.output
    assert "warn  URL005" in r.stdout and "X-Amz-Signature=" in r.stdout
    r = upload(endpoint, bucket, media / "feed-ok.jpg", *args, "--strict")
    assert r.exit_code == 1
    r = upload(endpoint, bucket, media / "feed-ok.jpg", "--presign", 86400, "--allow-private")
    assert r.exit_code == 0 and "ok    URL005" in r.stdout


def test_report_written_atomically_to_output(endpoint, bucket, media, tmp_path):
    out = tmp_path / "upload.json"
    r = upload(
        endpoint,
        bucket,
        media,
        "--acl",
        "public-read",
        "--allow-private",
        "--format",
        "json",
        "-o",
        out,
    )
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["summary"]["files"] == 2
    assert r.stdout == ""


@pytest.mark.parametrize(
    "args,message",
    [
        (("--presign", 86400, "--public-base-url", "https://cdn.example.com"), "not both"),
        (("--presign", 0), "--presign"),
        (("--acl", "private"), "--acl"),
        (("--public-base-url", "cdn.example.com"), "https://"),
    ],
)
def test_usage_errors_exit_2(endpoint, bucket, media, args, message):
    r = upload(endpoint, bucket, media, *args)
    assert r.exit_code == 2 and message in r.output
    assert "Traceback" not in r.output


def test_missing_bucket_option_exits_2(media, monkeypatch, tmp_path):
    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.delenv("IGPREFLIGHT_BUCKET", raising=False)
    r = run("upload", media)
    assert r.exit_code == 2 and "--bucket" in r.output


def test_unknown_bucket_exits_2_with_one_line(endpoint, bucket, media):
    r = upload(endpoint, "igpf-does-not-exist", media, "--allow-private")
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0 and "does not exist" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_no_credentials_exits_2_with_one_line(endpoint, media, monkeypatch, tmp_path):
    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = upload(endpoint, "igpf-any", media)
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        "igpreflight: error: no AWS credentials found "
        "(set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )


def test_secrets_never_reach_output_or_logs(endpoint, bucket, media, caplog):
    caplog.set_level(logging.DEBUG)  # everything any logger lets through
    runs = [
        upload(endpoint, bucket, media, "--acl", "public-read", "--allow-private", "--verbose"),
        upload(
            endpoint, bucket, media, "--presign", 3600, "--allow-private", "-v", "--format", "json"
        ),
        upload(endpoint, "igpf-does-not-exist", media, "--allow-private", "-v"),
        upload(endpoint, bucket, media, "-v"),  # URL006 failures
    ]
    assert [r.exit_code for r in runs] == [0, 0, 2, 1]
    assert "igpreflight: info: uploading" in runs[0].stderr  # --verbose did log
    for r in runs:
        assert FAKE_SECRET_ACCESS_KEY not in r.stdout + r.stderr
    assert FAKE_SECRET_ACCESS_KEY not in caplog.text
    # SDK debug logging (request signing) is held back while our command runs
    assert not [rec for rec in caplog.records if rec.name.startswith(("botocore", "boto3"))]
    # the presigned URL names the access key id (as any presigned URL does), never the secret
    assert FAKE_ACCESS_KEY_ID in runs[1].stdout


def test_check_url_command(endpoint, bucket, media):
    r = upload(
        endpoint,
        bucket,
        media / "feed-ok.jpg",
        "--acl",
        "public-read",
        "--allow-private",
        "--format",
        "json",
    )
    url = json.loads(r.stdout)["files"][0]["url"]
    ok = run("check-url", url, "--local", media / "feed-ok.jpg", "--allow-private")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[0] == url and "1 passing, 0 failing" in ok.stdout
    wrong = run(
        "check-url", url, "--local", media / "reel-ok.mp4", "--allow-private", "--format", "json"
    )
    assert wrong.exit_code == 1
    doc = json.loads(wrong.stdout)
    assert doc["summary"] == {"urls": 1, "passing": 0, "failing": 1}
    assert {f["rule"] for f in doc["urls"][0]["findings"]} >= {"URL002", "URL003"}
    refused = run("check-url", url, "https://10.0.0.7/x.jpg")
    assert refused.exit_code == 1 and refused.stdout.count("FAIL  URL006") == 2
    mismatch = run("check-url", url, url, "--local", media / "feed-ok.jpg")
    assert mismatch.exit_code == 2 and "one --local FILE per URL" in mismatch.output


def test_verbose_log_scrubs_a_secret_that_slips_into_a_message(capsys):
    from igpreflight.redaction import register_secret
    from igpreflight.terminal import Terminal

    register_secret(FAKE_SECRET_ACCESS_KEY)
    with Terminal(verbosity=2).logging():
        logging.getLogger("igpreflight.test").debug("key=%s", FAKE_SECRET_ACCESS_KEY)
    err = capsys.readouterr().err
    assert "key=***" in err and FAKE_SECRET_ACCESS_KEY not in err


def test_unreachable_endpoint_exits_2_with_one_line(media, monkeypatch, tmp_path):
    import socket

    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # boto3's own knob: no retry back-off
    with socket.socket() as sock:  # a port that was just free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r = upload(f"http://127.0.0.1:{port}", "igpf-any", media / "feed-ok.jpg")
    assert r.exit_code == 2
    assert r.stderr.startswith("igpreflight: error: cannot reach the S3 endpoint")
    assert r.stderr.count("\n") == 1


def test_presign_with_temporary_credentials_keeps_its_token_and_warns(
    endpoint, bucket, media, monkeypatch
):
    token = "FwoGZXIvYXdzEFAKEsessionTOKEN0123456789"
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    r = upload(endpoint, bucket, media / "feed-ok.jpg", "--presign", 86400, "--allow-private")
    assert r.exit_code == 0, r.output
    assert f"X-Amz-Security-Token={token}" in r.stdout  # the URL works only with it
    assert "temporary credentials" in r.stdout and "warn  URL005" in r.stdout
    assert FAKE_SECRET_ACCESS_KEY not in r.stdout + r.stderr


def test_verbose_log_lines_show_a_file_name_escaped(endpoint, bucket, tmp_path):
    """`upload -v` logs `NAME refused: ...`; a name holding ESC, BEL or CR went to
    the terminal raw (this one retitles it, then the CR rewrites the line), where
    every other message shows it escaped."""
    webp = tmp_path / "t\x1b]0;owned\x07\r.webp"
    shutil.copyfile(MEDIA / "photo.webp", webp)
    r = upload(endpoint, bucket, webp, "--acl", "public-read", "--allow-private", "-v")
    assert r.exit_code == 1
    assert "t\\x1b]0;owned\\x07\\r.webp refused: IMG002" in r.stderr, r.stderr
    assert "\x1b" not in r.stderr and "\r" not in r.stderr and "\x07" not in r.stderr

"""Uploads to a real S3 protocol server (moto on loopback) through the one S3 client."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from fixtures.generate import make_video
from fixtures.s3server import checksum_refusing_proxy, fake_aws_env, running_moto
from igpreflight.model import Severity
from igpreflight.preflight.probe import probe
from igpreflight.preflight.urlcheck import check_url
from igpreflight.storage.s3 import S3Settings, StorageError, client
from igpreflight.storage.upload import (
    CACHE_CONTROL,
    UploadError,
    UploadTarget,
    object_key,
    safe_name,
    upload_file,
)

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running_moto() as url:
        yield url


@pytest.fixture(scope="module")
def module_client(endpoint, tmp_path_factory):
    """The process's client from boto3's normal chain (fake keys in the environment)
    for the module: building a client costs more than most of these tests."""
    with pytest.MonkeyPatch.context() as mp:
        fake_aws_env(mp, tmp_path_factory.mktemp("aws"))
        yield client(S3Settings(endpoint_url=endpoint))


@pytest.fixture()
def s3(module_client, endpoint):
    """A fresh bucket on the moto server, the client, and an upload target maker."""
    bucket = f"igpf-{uuid.uuid4().hex[:12]}"
    module_client.create_bucket(Bucket=bucket)

    def target(**fields) -> UploadTarget:
        return UploadTarget(**{"bucket": bucket, "endpoint_url": endpoint, **fields})

    return module_client, bucket, target


def up(path: Path, target: UploadTarget, **kwargs):
    """upload_file with the file's facts, as `stage_file` calls it."""
    return upload_file(path, target, probe(str(path)), **kwargs)


@pytest.fixture(scope="module")
def noise_png(tmp_path_factory) -> Path:
    """Incompressible noise: ~7 MB of PNG, above the 5 MiB S3 part minimum."""
    path = tmp_path_factory.mktemp("big") / "noise.png"
    Image.frombytes("RGB", (1536, 1536), os.urandom(1536 * 1536 * 3)).save(path, compress_level=0)
    return path


def _copy(name: str, tmp_path: Path, as_name: str | None = None) -> Path:
    dest = tmp_path / (as_name or name)
    shutil.copyfile(MEDIA / name, dest)
    return dest


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upload_puts_content_addressed_immutable_object(s3, endpoint, tmp_path):
    client, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path, "Summer Launch (final).JPG")
    r = up(src, target(prefix="/media/ig/"))
    sha = _sha(src)
    assert r.key == f"media/ig/{sha[:16]}/Summer-Launch-final.jpg"
    assert not r.skipped and r.sha256 == sha and r.bytes == src.stat().st_size
    assert r.content_type == "image/jpeg"
    head = client.head_object(Bucket=bucket, Key=r.key, ChecksumMode="ENABLED")
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == CACHE_CONTROL
    assert head["Metadata"]["sha256"] == sha
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(sha)).decode()
    body = client.get_object(Bucket=bucket, Key=r.key)["Body"].read()
    assert body == src.read_bytes()
    # the bucket URL for a custom endpoint is path-style, without a query
    assert r.url == f"{endpoint}/{bucket}/{r.key}"


def test_reupload_of_same_bytes_is_skipped(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    first = up(src, target())
    stamp = client.head_object(Bucket=bucket, Key=first.key)["LastModified"]
    seen: list[int] = []
    second = up(src, target(), progress=seen.append)
    assert second.skipped and second.key == first.key and second.url == first.url
    assert client.head_object(Bucket=bucket, Key=first.key)["LastModified"] == stamp
    assert sum(seen) == src.stat().st_size  # a skipped file still completes the bar
    # a file renamed keeps its bytes' address but gets its own key; a changed one a new one
    changed = tmp_path / "changed.jpg"
    changed.write_bytes(src.read_bytes() + b"\0")
    third = up(changed, target())
    assert not third.skipped and third.key.split("/")[0] != first.key.split("/")[0]


def test_object_with_wrong_content_type_is_replaced(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    first = up(src, target())
    # Someone put the same bytes there by hand, as octet-stream (the S3 default).
    client.put_object(
        Bucket=bucket,
        Key=first.key,
        Body=src.read_bytes(),
        ContentType="binary/octet-stream",
        Metadata={"sha256": first.sha256},
    )
    again = up(src, target())
    assert not again.skipped
    assert client.head_object(Bucket=bucket, Key=first.key)["ContentType"] == "image/jpeg"


def test_content_type_comes_from_content(s3, tmp_path):
    client, bucket, target = s3
    cases = {
        _copy("feed-ok.jpg", tmp_path): ("image/jpeg", "jpg"),
        _copy("alpha.png", tmp_path): ("image/png", "png"),
        _copy("png-named.jpg", tmp_path): ("image/png", "png"),  # a PNG named .jpg
        _copy("reel-ok.mp4", tmp_path): ("video/mp4", "mp4"),
        make_video(tmp_path / "clip.mov", 64, 64, duration=0.5, acodec=None): (
            "video/quicktime",
            "mov",
        ),
    }
    for path, (ctype, ext) in cases.items():
        r = up(path, target())
        assert r.content_type == ctype, path
        assert r.key.endswith(f"/{safe_name(path)}.{ext}")
        assert client.head_object(Bucket=bucket, Key=r.key)["ContentType"] == ctype


def test_large_file_goes_multipart_with_progress(s3, noise_png):
    client, bucket, target = s3
    big = noise_png
    size = big.stat().st_size
    seen: list[int] = []
    r = up(big, target(multipart_threshold=1024 * 1024), progress=seen.append)
    assert r.multipart and not r.skipped
    assert sum(seen) == size and len(seen) > 1
    head = client.head_object(Bucket=bucket, Key=r.key)
    assert re.search(r"-\d+\"?$", head["ETag"])  # a multipart ETag ends in -<parts>
    assert head["ContentLength"] == size and head["ContentType"] == "image/png"
    assert head["Metadata"]["sha256"] == _sha(big)
    # the multipart object is recognised too: no second upload
    assert up(big, target(multipart_threshold=1024 * 1024)).skipped


def test_public_read_object_is_fetched_anonymously_and_passes(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    r = up(src, target(acl="public-read"))
    got = httpx.get(r.url)  # no credentials at all
    assert got.status_code == 200 and got.content == src.read_bytes()
    assert got.headers["content-type"] == "image/jpeg"
    result = check_url(r.url, local_path=src, allow_private=True)
    assert result.ok and result.findings == [], result.findings


def test_private_object_fails_url001(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    r = up(src, target(acl="none"))
    result = check_url(r.url, local_path=src, allow_private=True)
    assert {f.rule for f in result.errors} == {"URL001"}
    assert "403" in result.errors[0].message
    # without --allow-private the loopback endpoint itself is refused
    assert {f.rule for f in check_url(r.url, local_path=src).errors} == {"URL006"}


def test_presigned_url_is_fetched_and_checked(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("reel-ok.mp4", tmp_path)
    day = 24 * 3600
    r = up(src, target(presign=day))
    assert "X-Amz-Signature=" in r.url and "X-Amz-Expires=86400" in r.url
    assert r.presign_expires_in == day
    got = httpx.get(r.url)
    assert got.status_code == 200 and got.content == src.read_bytes()
    result = check_url(r.url, local_path=src, allow_private=True, presign_expires_in=day)
    assert result.ok and result.findings == [], result.findings
    assert result.outcome("URL005").status == "pass"
    # an hour is too short for a container's life: URL005 warns (read from the URL)
    short = up(src, target(presign=3600))
    assert short.skipped
    result = check_url(short.url, local_path=src, allow_private=True)
    assert [(f.rule, f.severity) for f in result.findings] == [("URL005", Severity.WARNING)]


def test_public_base_url_is_joined_with_the_key(s3, tmp_path):
    client, bucket, target = s3
    src = _copy("with space.jpg", tmp_path)
    r = up(src, target(public_base_url="https://cdn.example.com/"))
    assert r.url == f"https://cdn.example.com/{r.key}"
    assert r.key.endswith("/with-space.jpg")


@pytest.mark.parametrize(
    "fields,says",
    [
        ({"presign": 0}, "--presign must be between 1 and 604800"),
        ({"presign": 8 * 24 * 3600}, "7 days"),  # over SigV4's 7 days
        ({"acl": "private-ish"}, "--acl must be one of public-read, none"),
        ({"presign": 86400, "public_base_url": "https://cdn.example.com"}, "not both"),
        ({"public_base_url": "cdn.example.com"}, "must start with https://"),
        ({"bucket": " "}, "--bucket must name a bucket"),
    ],
)
def test_a_target_that_cannot_work_is_refused_when_made(fields, says):
    """Before any file is read or any request made: the CLI's usage errors."""
    with pytest.raises(ValueError, match=says):
        UploadTarget(**{"bucket": "b", **fields})


def test_a_target_from_the_python_shorthand():
    assert UploadTarget.of("b") == UploadTarget("b")
    assert UploadTarget.of(None, {"bucket": "b", "presign": 60, "acl": None}) == UploadTarget(
        "b", presign=60
    )
    assert UploadTarget.of(None, {}) is None
    with pytest.raises(TypeError, match="bukket"):
        UploadTarget.of(None, {"bukket": "b"})
    with pytest.raises(TypeError, match="not both"):
        UploadTarget.of(UploadTarget("b"), {"prefix": "x"})


def test_missing_bucket_is_a_config_error(s3, tmp_path):
    client, _, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    with pytest.raises(UploadError) as info:
        up(src, target(bucket="igpf-no-such-bucket"))
    assert info.value.config and "does not exist" in str(info.value)


def test_no_credentials_is_a_config_error(endpoint, monkeypatch, tmp_path):
    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StorageError) as info:
        client(S3Settings(endpoint_url=endpoint))
    assert info.value.config and "no AWS credentials" in str(info.value)
    # an upload says the same, as an UploadError, before reading the file
    with pytest.raises(UploadError) as info:
        up(MEDIA / "feed-ok.jpg", UploadTarget("b", endpoint_url=endpoint))
    assert info.value.config and "no AWS credentials" in str(info.value)


def test_endpoint_from_environment(endpoint, monkeypatch, tmp_path):
    """AWS_ENDPOINT_URL_S3 (boto3's own variable) is honoured without an option."""
    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    bucket = f"igpf-{uuid.uuid4().hex[:12]}"
    client().create_bucket(Bucket=bucket)
    r = up(_copy("feed-ok.jpg", tmp_path), UploadTarget(bucket))
    assert r.url.startswith(f"{endpoint}/{bucket}/")


@pytest.mark.parametrize(
    "name,expected",
    [
        ("photo.jpg", "photo"),
        ("café ünïcode.jpg", "cafe-unicode"),
        ("../../etc/passwd", "passwd"),
        ("..jpg", "media"),
        ("  ###.png", "media"),
        ("a" * 200 + ".jpg", "a" * 80),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_object_key_layout():
    sha = "0123456789abcdef" * 4
    assert object_key("", sha, "x", "jpg") == "0123456789abcdef/x.jpg"
    assert object_key("/a//b/", sha, "x", "mp4") == "a/b/0123456789abcdef/x.mp4"
    assert object_key("../a/./b/..", sha, "x", "mov") == "a/b/0123456789abcdef/x.mov"


@pytest.mark.parametrize("threshold", [None, 1024 * 1024])
def test_storage_refusing_checksum_headers_gets_a_plain_upload(
    s3, endpoint, tmp_path, noise_png, threshold
):
    """Backblaze B2 answers 400 'Unsupported header x-amz-checksum-sha256'."""
    client, bucket, target = s3
    # multipart: refused at CreateMultipartUpload; single PUT: refused at PutObject
    src = noise_png if threshold else _copy("feed-ok.jpg", tmp_path)
    with checksum_refusing_proxy(endpoint) as b2:
        b2_target = target(endpoint_url=b2, multipart_threshold=threshold)
        seen: list[int] = []
        r = up(src, b2_target, progress=seen.append)
        assert r.checksum is None and not r.skipped
        assert sum(seen) <= src.stat().st_size  # the retry does not overrun the bar
        # stored as it should be, and recognised on the next run through the same proxy
        head = client.head_object(Bucket=bucket, Key=r.key)
        assert head["Metadata"]["sha256"] == r.sha256 and head["ContentType"] == r.content_type
        assert up(src, b2_target).skipped
    assert client.get_object(Bucket=bucket, Key=r.key)["Body"].read() == src.read_bytes()
    # through moto directly the storage verifies our SHA-256
    direct = up(_copy("carousel-1.jpg", tmp_path), target())
    assert direct.checksum == "SHA256"


def test_stage_file_refuses_uploads_and_proves(s3, tmp_path):
    from igpreflight.publish.stage import stage_file
    from igpreflight.states import UploadStatus

    client, bucket, target = s3
    webp = _copy("photo.webp", tmp_path)
    refused = stage_file(str(webp), str(webp), target())
    assert refused.status == UploadStatus.REFUSED and not refused.passed()
    assert "IMG002" in {f.rule for f in refused.findings}
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    jpg = _copy("feed-ok.jpg", tmp_path)
    done = stage_file("feed-ok.jpg", str(jpg), target(acl="public-read"), allow_private=True)
    assert done.status == UploadStatus.UPLOADED and done.passed(), done.to_dict()
    assert done.to_dict()["url_check"]["ok"] is True


def test_the_api_takes_an_upload_target_or_its_fields(s3, tmp_path):
    from igpreflight import UploadTarget as Exported
    from igpreflight import publish, upload
    from igpreflight.api.errors import UsageError

    _, bucket, target = s3
    src = _copy("feed-ok.jpg", tmp_path)
    given = target(acl="public-read")
    assert Exported is UploadTarget
    first = upload(src, given, allow_private=True)
    assert first.ok and first.files[0].upload.bucket == bucket
    fields = {"bucket": bucket, "endpoint_url": given.endpoint_url, "acl": "public-read"}
    again = upload(src, allow_private=True, **fields)  # the keyword shorthand
    assert again.ok and again.files[0].upload.skipped
    with pytest.raises(UsageError, match="--bucket"):
        upload(src)
    with pytest.raises(UsageError, match="bukket"):
        upload(src, bukket=bucket)
    (tmp_path / "posts.json").write_text('{"post": [{"id": "p", "media": ["feed-ok.jpg"]}]}')
    plan = publish(tmp_path / "posts.json", dry_run=True, upload=given)
    assert plan.ok
    with pytest.raises(UsageError, match="dry_rn"):
        publish(tmp_path / "posts.json", dry_rn=True)

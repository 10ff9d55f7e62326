"""S3-compatible stores that answer otherwise than AWS (fixtures/s3_quirks.py in front of
a real moto server on loopback): each quirk a user meets on MinIO, R2, B2, Ceph RGW,
Garage and friends gives the right verdict or one clear line, never a crash."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures import generate
from fixtures.s3_quirks import quirk_proxy
from igpreflight.cli import cli
from igpreflight.model import ImageFacts
from igpreflight.storage import s3
from igpreflight.storage.objects import list_media, probe_object
from tests.s3_support import s3server  # noqa: F401 - a fixture


def _noise_jpeg(width: int, height: int) -> bytes:
    """Incompressible pixels: a JPEG of several MB, like a camera's."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        out, "JPEG", quality=92
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def bucket(s3server, tmp_path_factory) -> str:  # noqa: F811 - the fixture
    name = s3server.bucket()
    root = tmp_path_factory.mktemp("quirks")
    s3server.put(name, "in/cam/photo.jpg", _noise_jpeg(2400, 1600))
    s3server.put(name, "in/ok one.jpg", generate.make_image(root / "ok.jpg", size=(1080, 1350)))
    wide = generate.make_image(root / "wide.png", size=(2000, 800))
    s3server.put(name, "in/odd/a+b 100% été.png", wide)  # '+', '%', a space, unicode
    return name


@pytest.fixture
def keep_settings() -> Iterator[None]:
    """`--endpoint-url` becomes the process's setting: put the test server's back."""
    saved = s3.current_settings()
    yield
    s3.configure(saved)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


PROBE_PEAK = """
import sys, tracemalloc
from igpreflight.storage import s3
from igpreflight.storage.objects import probe_object
settings = s3.S3Settings(endpoint_url=sys.argv[1])
info = s3.ObjectInfo(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
tracemalloc.start()
probe_object(info, settings)  # once before the count: imports and the client's tables
tracemalloc.reset_peak()
before = tracemalloc.get_traced_memory()[0]
facts = probe_object(info, settings)
print(tracemalloc.get_traced_memory()[1] - before, getattr(facts, "width", facts))
"""


def test_a_store_that_ignores_range_gives_the_verdict_in_bounded_memory(s3server, bucket):  # noqa: F811
    """A ranged GET answered 200 with the whole object was read whole (memory the size of
    the object, twice at once) and then called FILE001 'changed while it was read'.
    The probe runs in a process of its own, so only its memory is counted."""
    with quirk_proxy(s3server.endpoint, "ignore-range") as proxy:
        settings = s3.S3Settings(endpoint_url=proxy.url)
        info = list_media(f"s3://{bucket}/in/cam/photo.jpg", settings=settings)[1][0]
        assert info.size > 3_000_000
        args = [proxy.url, bucket, info.key, str(info.size), info.etag]
        done = subprocess.run(
            [sys.executable, "-c", PROBE_PEAK, *args], capture_output=True, text=True, check=True
        )
        ranged = proxy.gets("photo.jpg")
    peak, width = done.stdout.split(maxsplit=1)
    assert width.strip() == "2400", done.stdout
    assert ranged and all(status == 200 for _, _, status, _ in ranged)  # the quirk was on
    assert int(peak) < info.size / 2, (peak, info.size)
    # the probe in this process too: ImageFacts, not FILE001
    with quirk_proxy(s3server.endpoint, "ignore-range") as proxy:
        facts = probe_object(info, s3.S3Settings(endpoint_url=proxy.url))
    assert isinstance(facts, ImageFacts) and (facts.width, facts.height) == (2400, 1600)


def test_a_store_that_ignores_range_checks_a_prefix_from_the_cli(s3server, bucket, keep_settings):  # noqa: F811
    with quirk_proxy(s3server.endpoint, "ignore-range") as proxy:
        r = run("check", f"s3://{bucket}/in/", "--endpoint-url", proxy.url, "--format", "json")
    assert "FILE001" not in r.output and "changed while it was read" not in r.output
    assert '"width": 2400' in r.output


@pytest.mark.parametrize("threshold", [None, 1024 * 1024])
def test_a_store_answering_501_to_checksum_headers_gets_a_plain_upload(
    s3server,  # noqa: F811
    bucket,
    tmp_path,
    threshold,
):
    """Ceph RGW and Garage answer checksum headers with AWS's own 501 NotImplemented ('A
    header you provided implies functionality that is not implemented'), which names no
    header: every upload failed, where B2's 400 naming the header got a plain retry."""
    from igpreflight.preflight.probe import probe
    from igpreflight.storage.upload import UploadTarget, upload_file

    src = tmp_path / "photo.jpg"
    src.write_bytes(_noise_jpeg(1600, 1000))
    with quirk_proxy(s3server.endpoint, "not-implemented-checksum") as proxy:
        target = UploadTarget(bucket, "up", endpoint_url=proxy.url, multipart_threshold=threshold)
        done = upload_file(src, target, probe(src))
        refused = [e for e in proxy.log if e[2] == 501]
    assert refused, "the quirk was not met"
    assert done.checksum is None and not done.skipped and done.multipart == bool(threshold)
    stored = s3server.client.get_object(Bucket=bucket, Key=done.key)
    assert stored["Body"].read() == src.read_bytes()
    assert stored["Metadata"]["sha256"] == done.sha256


def test_a_store_whose_head_has_no_content_length_checks_one_object(
    s3server,  # noqa: F811
    bucket,
    keep_settings,
):
    """A HEAD answered chunked, without Content-Length: `check s3://b/one.jpg` took the
    object's size as 0 and said FILE001 'zero bytes' of a good photo."""
    with quirk_proxy(s3server.endpoint, "no-head-length") as proxy:
        settings = s3.S3Settings(endpoint_url=proxy.url)
        info = list_media(f"s3://{bucket}/in/ok one.jpg", settings=settings)[1][0]
        r = run("check", f"s3://{bucket}/in/ok one.jpg", "--endpoint-url", proxy.url)
    listed = s3server.client.head_object(Bucket=bucket, Key="in/ok one.jpg")["ContentLength"]
    assert info.size == listed > 0
    assert r.exit_code == 0 and "zero bytes" not in r.output, r.output


def test_a_throttled_listing_is_retried_until_the_store_answers(s3server, bucket, keep_settings):  # noqa: F811
    """Three 503 SlowDown answers in a row (a store throttling a batch) ended check with
    exit 2: boto3's default gives a request 3 attempts."""
    with quirk_proxy(s3server.endpoint, "slowdown", times=3) as proxy:
        r = run("check", f"s3://{bucket}/in/", "--endpoint-url", proxy.url)
        throttled = [e for e in proxy.log if e[2] == 503]
    assert len(throttled) == 3
    assert r.exit_code == 1 and "3 files: 1 error" in r.output, r.output  # the wide PNG


@pytest.mark.parametrize(
    ("quirk", "said"),
    [
        ("redirect", "redirects the requests for bucket"),
        ("skewed", "this machine's clock differs from the S3 endpoint's"),
    ],
)
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_store_that_refuses_every_request_is_one_clear_line(
    s3server,  # noqa: F811
    bucket,
    keep_settings,
    quirk,
    said,
    command,
):
    """A 307 to another endpoint said 'maximum recursion depth exceeded' (botocore asks
    the redirected bucket's region, and that is redirected too), and a clock 15 minutes
    off said AWS's text; both after usage text, as if the command had been mistyped."""
    out = ["--out", f"s3://{bucket}/out/"] if command == "fix" else []
    with quirk_proxy(s3server.endpoint, quirk) as proxy:
        r = run(command, f"s3://{bucket}/in/", *out, "--endpoint-url", proxy.url)
    assert r.exit_code == 2
    assert r.output.startswith("igpreflight: error: ") and said in r.output, r.output
    assert len(r.output.splitlines()) == 1 and "recursion" not in r.output, r.output


def test_a_store_that_drops_user_metadata_is_said_after_the_report(s3server, bucket, keep_settings):  # noqa: F811
    """A store that keeps no x-amz-meta-* made every re-run fix and write the whole batch
    again, each line saying 'converted' as if for the first time."""
    args = ("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/dropped/")
    with quirk_proxy(s3server.endpoint, "drop-metadata") as proxy:
        first = run(*args, "--endpoint-url", proxy.url)
        again = run(*args, "--endpoint-url", proxy.url)
    assert first.exit_code == again.exit_code == 0, again.output
    assert "without igpreflight's metadata" not in first.output  # nothing was there yet
    assert "3 outputs under --out already held an object without igpreflight's metadata" in (
        again.output
    )
    assert "does not keep object metadata" in again.output and "(already done)" not in again.output
    kept = run(*args, "--endpoint-url", s3server.endpoint)  # the store itself keeps it
    assert kept.output.count("(already done)") == 3 and "igpreflight's metadata" not in kept.output


@pytest.mark.parametrize("quirk", ["unquoted-etag", "ignore-encoding"])
def test_odd_etags_and_raw_listings_still_resume(s3server, bucket, keep_settings, quirk):  # noqa: F811
    """ETags without quotes and keys listed raw (no EncodingType) name the same objects
    and the same source hashes: a re-run skips every file."""
    args = ("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/{quirk}/")
    with quirk_proxy(s3server.endpoint, quirk) as proxy:
        first = run(*args, "--endpoint-url", proxy.url)
        again = run(*args, "--endpoint-url", proxy.url)
    assert first.exit_code == 0 and "a+b 100% été.jpg" in first.output, first.output
    assert again.output.count("(already done)") == 3, again.output


def test_a_large_object_from_a_store_that_ignores_range_downloads_whole(
    s3server,  # noqa: F811
    bucket,
    tmp_path,
    monkeypatch,
):
    """Objects from the multipart size up are fetched by parallel ranged GETs: a store
    that ignores Range answered each part with the whole object, written at the part's
    offset, and fix or check --deep went on with a corrupt, larger copy of the source.
    (The multipart size is lowered so that a 12 MB object takes that path.)"""
    data = os.urandom(12 * 1024 * 1024)
    s3server.put(bucket, "big/clip.bin", data)
    monkeypatch.setattr(s3, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    info = s3.ObjectInfo(bucket, "big/clip.bin", len(data), "")
    with quirk_proxy(s3server.endpoint, "ignore-range") as proxy:
        s3.download(info, tmp_path / "clip.bin", s3.S3Settings(endpoint_url=proxy.url))
        whole = [e for e in proxy.gets("clip.bin") if e[3] == len(data)]
    assert len(whole) >= 2  # the ranged parts were answered whole
    assert (tmp_path / "clip.bin").read_bytes() == data


@pytest.mark.parametrize("quirk", ["html-500", "empty-500"])
def test_an_object_the_store_fails_to_serve_is_file003_not_a_bad_file(
    s3server,  # noqa: F811
    bucket,
    keep_settings,
    monkeypatch,
    quirk,
):
    """A GET answered 500 (an HTML page or no body) after every retry was FILE001
    'cannot read the file as media ... to do: replace the file', and fix called the
    photo unfixable: the file is fine, the store failed. AWS_MAX_ATTEMPTS=1 (boto3's
    own variable, which the client honours) spares the test the retries' backoff."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    one = f"s3://{bucket}/in/ok one.jpg"
    with quirk_proxy(s3server.endpoint, quirk, times=1000) as proxy:
        checked = run("check", one, "--endpoint-url", proxy.url)
        fixed = run("fix", one, "--out", f"s3://{bucket}/{quirk}/", "--endpoint-url", proxy.url)
        failed = [e for e in proxy.log if e[2] == 500]
    assert failed and checked.exit_code == fixed.exit_code == 1
    assert "FILE003" in checked.output and "FILE001" not in checked.output, checked.output
    assert "the storage failed to serve object 'in/ok one.jpg'" in checked.output
    assert "to do: run again later" in checked.output
    assert "failed: FILE003" in fixed.output and "unfixable" not in fixed.output, fixed.output

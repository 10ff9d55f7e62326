"""`check s3://...`: listing any number of keys, header-only probing by ranged GETs,
s3:// paths in every report format. A real S3 protocol server (moto) on loopback."""

from __future__ import annotations

import io
import json
import os
import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures import generate
from fixtures.s3server import FAKE_SECRET_ACCESS_KEY
from igpreflight.cli import cli
from igpreflight.preflight.probe import probe
from igpreflight.storage import s3
from igpreflight.storage.objects import list_media, probe_object
from igpreflight.storage.ranged import RangedReader
from igpreflight.storage.s3uri import S3Uri
from tests.s3_support import s3server  # noqa: F401 - a fixture

pytest_plugins: list[str] = []


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _noise_jpeg(path: Path, size: tuple[int, int]) -> Path:
    """Incompressible pixels: a JPEG of several MB, like a camera's."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("s3media")
    return {
        "ok": generate.make_image(root / "ok.jpg", size=(1080, 1350)),
        "tall": generate.make_image(root / "tall.jpg", size=(1080, 1400)),
        "png": generate.make_image(root / "p.png", size=(900, 900)),
        # A camera-size JPEG with its EOI 64 KB from the end, and a clip whose
        # moov sits after 2 MB of media data: both must be probed from a few GETs.
        "photo": _noise_jpeg(root / "photo.jpg", (2400, 1600)),
        "tail": generate.make_video(
            root / "tail.mp4", width=640, height=360, duration=4, faststart=False, bitrate="6M"
        ),
    }


@pytest.fixture(scope="module")
def bucket(s3server, media):  # noqa: F811 - the fixture
    name = s3server.bucket()
    layout = {
        "shoot/été 2026/ok.jpg": media["ok"],
        "shoot/été 2026/tall one.jpg": media["tall"],
        "shoot/deep/er/still/p.png": media["png"],
        "shoot/cam/photo.jpg": media["photo"],
        "shoot/reels/moov at end.mp4": media["tail"],
        "shoot/broken.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
        "shoot/notes.txt": b"not media: skipped in a prefix",
        "shoot/.igpreflight/hidden.jpg": media["ok"].read_bytes(),
        "elsewhere/ok.jpg": media["ok"],
    }
    for key, source in layout.items():
        s3server.put(name, key, source)
    return name


def test_prefix_checks_every_media_object_in_key_order(bucket):
    r = run("check", f"s3://{bucket}/shoot/", "--format", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output)
    paths = [f["path"] for f in doc["files"]]
    assert paths == [
        f"s3://{bucket}/shoot/broken.jpg",
        f"s3://{bucket}/shoot/cam/photo.jpg",
        f"s3://{bucket}/shoot/deep/er/still/p.png",
        f"s3://{bucket}/shoot/reels/moov at end.mp4",
        f"s3://{bucket}/shoot/été 2026/ok.jpg",
        f"s3://{bucket}/shoot/été 2026/tall one.jpg",
    ]
    rules = {f["path"].rsplit("/", 1)[1]: [x["rule"] for x in f["findings"]] for f in doc["files"]}
    assert rules["broken.jpg"] == ["FILE001"]  # one line, and the batch went on
    assert "IMG003" in rules["tall one.jpg"]
    assert "VID004" in rules["moov at end.mp4"]  # moov after mdat, read from the tail
    assert rules["ok.jpg"] == []


def test_every_report_format_names_s3_uris(bucket):
    prefix = f"s3://{bucket}/shoot/"
    text = run("check", prefix).output
    assert f"s3://{bucket}/shoot/été 2026/tall one.jpg" in text
    github = run("check", prefix, "--format", "github").output
    assert f"file=s3%3A//{bucket}/shoot/broken.jpg,title=FILE001" in github
    sarif = json.loads(run("check", prefix, "--format", "sarif").output)
    # An object is a logical location: code scanning refuses a whole upload with a
    # location URI whose scheme (s3) is not the checkout's (file).
    names = {
        loc["logicalLocations"][0]["fullyQualifiedName"]
        for res in sarif["runs"][0]["results"]
        for loc in res["locations"]
    }
    assert f"s3://{bucket}/shoot/été 2026/tall one.jpg" in names
    assert all(
        "physicalLocation" not in loc for r in sarif["runs"][0]["results"] for loc in r["locations"]
    )
    junit = ET.fromstring(run("check", prefix, "--format", "junit").output)
    names = {case.get("name") for case in junit.iter("testcase")}
    assert any(n and f"s3://{bucket}/shoot/reels/moov at end.mp4" in n for n in names), names


def test_one_object_and_several_paths(bucket, media, tmp_path):
    local = generate.make_image(tmp_path / "here.jpg", size=(1080, 1080))
    r = run("check", f"s3://{bucket}/shoot/notes.txt", f"s3://{bucket}/elsewhere", local)
    # A key named on the command line is checked whatever its name (FILE001);
    # a URI without a trailing / that is no object is a prefix.
    assert f"s3://{bucket}/shoot/notes.txt" in r.output and "FILE001" in r.output
    assert f"s3://{bucket}/elsewhere/ok.jpg" in r.output
    assert str(local) in r.output
    assert r.exit_code == 1


def test_headers_only_from_ranged_gets(bucket, media):
    for key, name in (("shoot/reels/moov at end.mp4", "tail"), ("shoot/cam/photo.jpg", "photo")):
        info = next(o for o in list_media(f"s3://{bucket}/{key}")[1])
        with RangedReader(info) as f:
            from igpreflight.preflight.probe import probe_stream

            facts = probe_stream(info.uri, f, info.size)
        assert info.size > 1_000_000
        assert f.fetched < info.size / 4, (name, f.fetched, info.size)
        local = probe(media[name])
        assert replace(facts, path="") == replace(local, path="")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_large_png_is_probed_from_its_head_and_its_end(s3server, tmp_path):  # noqa: F811
    """A 5 MB PNG is 80 IDAT chunks of 64 KB; walking every chunk header over ranged
    GETs read the whole file, a GET per chunk (240 for a 15 MB screenshot). Its end
    is read instead, which still finds an eXIf chunk placed after the pixels, and a
    truncated PNG still gets the local file's reason."""
    out = io.BytesIO()
    Image.frombytes("RGB", (1300, 1300), os.urandom(1300 * 1300 * 3)).save(out, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6
    whole = out.getvalue()
    assert whole.count(b"IDAT") >= 60
    png = whole[:-12] + _chunk(b"tEXt", b"Comment\0after the pixels") + whole[-12:]
    png = png[:-12] + _chunk(b"eXIf", exif.tobytes()[6:]) + png[-12:]  # no "Exif\0\0"
    cases = {"late-exif.png": png, "cut.png": png[: len(png) // 2]}
    name = s3server.bucket()
    for key, data in cases.items():
        s3server.put(name, key, data)
        (tmp_path / key).write_bytes(data)
    for key, data in cases.items():
        info = next(o for o in list_media(f"s3://{name}/{key}")[1])
        with RangedReader(info) as f:
            from igpreflight.preflight.probe import probe_stream

            facts = probe_stream(info.uri, f, info.size)
        local = probe(tmp_path / key)
        assert replace(facts, path="") == replace(local, path="")
        if key == "late-exif.png":
            assert facts.orientation == 6
            assert f.requests <= 3 and f.fetched < len(data) / 4, (f.requests, f.fetched)
        else:
            assert facts.reason.startswith("truncated PNG")


def test_listing_pages_through_any_number_of_keys(s3server, media, monkeypatch):  # noqa: F811
    name = s3server.bucket()
    for i in range(7):
        s3server.put(name, f"many/{i:03d}.jpg", b"x")
    monkeypatch.setattr(s3, "PAGE_SIZE", 2)  # 4 LIST requests
    _, found = list_media(f"s3://{name}/many/")
    assert [o.key for o in found] == [f"many/{i:03d}.jpg" for i in range(7)]


def test_object_gone_after_listing_is_one_file001(bucket, s3server):  # noqa: F811
    info = s3.ObjectInfo(bucket, "shoot/vanished.jpg", 1000, "0123")
    facts = probe_object(info)
    assert facts.reason.startswith("cannot read") and facts.path.endswith("vanished.jpg")


def test_setup_errors_are_one_line_exit_2_without_secrets(bucket, s3server, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the lines are the test, not boto3's retries
    r = run("check", "s3://no-such-bucket-igpf/x/")
    assert r.exit_code == 2 and "does not exist" in r.output
    r = run("check", f"s3://{bucket}/nothing-here/")
    assert r.exit_code == 2 and "no such object or prefix" in r.output
    r = run("check", "s3:///key")
    assert r.exit_code == 2
    r = run("check", f"s3://{bucket}/shoot/", "--endpoint-url", "http://127.0.0.1:9")
    assert r.exit_code == 2 and "cannot reach the S3 endpoint" in r.output
    assert FAKE_SECRET_ACCESS_KEY not in r.output


def test_uri_parsing():
    assert S3Uri.parse("s3://b/a/b.jpg") == S3Uri("b", "a/b.jpg")
    assert S3Uri.parse("s3://b").is_prefix and S3Uri.parse("s3://b/p/").is_prefix
    assert str(S3Uri("b", "p/").child("x/y.jpg")) == "s3://b/p/x/y.jpg"
    with pytest.raises(ValueError):
        S3Uri.parse("s3://")


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif", ".tif"}


def test_third_party_images_in_a_bucket_get_the_local_findings(s3server, corpus_dir, tmp_path):  # noqa: F811
    """Real cameras' and libraries' files (the shared corpus, not our generator), each
    checked from ranged GETs, get exactly the findings a check of the local file gets."""
    name = s3server.bucket()
    files = sorted(
        p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    assert len(files) > 40
    for path in files:
        s3server.client.upload_file(str(path), name, f"c/{path.relative_to(corpus_dir)}")

    def findings(doc: dict, prefix: str) -> dict[str, list]:
        out = {}
        for f in doc["files"]:
            assert f["path"].startswith(prefix), f["path"]
            out[f["path"][len(prefix) :]] = sorted(
                (x["rule"], x["message"]) for x in f.get("findings", [])
            )
        return out

    remote = json.loads(run("check", f"s3://{name}/c/", "--format", "json").output)
    local = json.loads(run("check", *files, "--format", "json").output)
    got = findings(remote, f"s3://{name}/c/")
    want = findings(local, f"{corpus_dir}/")
    assert len(got) == len(files) and got == want

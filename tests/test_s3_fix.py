"""`fix` with s3:// in and out on moto: layout, re-check before write, object-metadata
resume (no ledger), changed sources and options redone, kill -9 then re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import generate
from igpreflight.cli import cli
from igpreflight.scale.shard import Shard
from tests.s3_support import s3server  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fixmedia")
    return {
        "ok": generate.make_image(root / "ok.jpg", size=(1080, 1350)),
        "wide": generate.make_image(root / "wide.png", size=(2000, 600)),
        "webp": generate.make_image(root / "w.webp", size=(800, 800)),
        "tail": generate.make_video(
            root / "tail.mp4", width=96, height=160, duration=3.5, faststart=False
        ),
    }


LAYOUT = {
    "in/été 2026/ok.jpg": "ok",
    "in/été 2026/wide shot.png": "wide",
    "in/a/b/c/w.webp": "webp",
    "in/reels/moov at end.mp4": "tail",
    "in/broken.jpg": b"\xff\xd8\xff\xe0 not a jpeg",
}
OUTPUTS = {
    "out/été 2026/ok.jpg",
    "out/été 2026/wide shot.jpg",
    "out/a/b/c/w.jpg",
    "out/reels/moov at end.mp4",
}


@pytest.fixture()
def bucket(s3server, media):  # noqa: F811
    name = s3server.bucket()
    for key, what in LAYOUT.items():
        s3server.put(name, key, what if isinstance(what, bytes) else media[what])
    return name


def _state(s3server, bucket, prefix):  # noqa: F811
    pages = s3server.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: (o["ETag"], o["LastModified"]) for p in pages for o in p.get("Contents", ())}


def test_prefix_to_prefix_then_rerun_writes_nothing(s3server, bucket):  # noqa: F811
    originals = _state(s3server, bucket, "in/")
    r = run("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", "--format", "json")
    assert r.exit_code == 1, r.output  # the corrupt object is unfixable, the rest went on
    doc = json.loads(r.output)
    by_source = {f["path"]: f for f in doc["files"]}
    broken = by_source[f"s3://{bucket}/in/broken.jpg"]
    assert broken["status"] == "unfixable" and broken["reason"].startswith("FILE001")
    assert set(s3server.keys(bucket, "out/")) == OUTPUTS
    assert _state(s3server, bucket, "in/") == originals  # originals untouched
    head = s3server.client.head_object(Bucket=bucket, Key="out/été 2026/wide shot.jpg")
    meta = head["Metadata"]
    assert meta["igpreflight-source-hash"] == "etag:" + originals["in/été 2026/wide shot.png"][
        0
    ].strip('"')
    assert meta["igpreflight-status"] == "converted" and len(meta["igpreflight-options"]) == 16
    assert (
        json.loads(__import__("urllib.parse").parse.unquote(meta["igpreflight-fix"]))["aspect"]
        == "crop"
    )
    assert head["ContentType"] == "image/jpeg"
    # Every output passes check.
    assert run("check", f"s3://{bucket}/out/").exit_code == 0

    written = _state(s3server, bucket, "out/")
    time.sleep(1.1)  # LastModified has one-second resolution
    again = run("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/")
    assert again.output.count("(already done)") == len(OUTPUTS), again.output
    assert _state(s3server, bucket, "out/") == written  # nothing rewritten

    # A changed source is redone; other options redo everything.
    s3server.put(
        bucket,
        "in/a/b/c/w.webp",
        generate.make_image(
            Path(os.environ.get("TMPDIR", "/tmp")) / f"w2-{bucket}.webp", size=(700, 900)
        ),
    )
    third = run("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/")
    lines = {ln.split(" -> ")[0]: ln for ln in third.output.splitlines() if " -> " in ln}
    assert "(already done)" not in lines[f"s3://{bucket}/in/a/b/c/w.webp"]
    assert "(already done)" in lines[f"s3://{bucket}/in/été 2026/ok.jpg"]
    fourth = run("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", "--aspect", "pad")
    assert "(already done)" not in fourth.output


def test_local_to_s3_and_s3_to_local_with_review(s3server, bucket, media, tmp_path):  # noqa: F811
    src = tmp_path / "shoot"
    (src / "sub dir").mkdir(parents=True)
    (src / "sub dir" / "x.webp").write_bytes(media["webp"].read_bytes())
    (src / "ok.jpg").write_bytes(media["ok"].read_bytes())
    dry = run("fix", src, "--out", f"s3://{bucket}/up/", "--dry-run")
    assert dry.exit_code == 0 and "(dry run)" in dry.output
    assert s3server.keys(bucket, "up/") == []
    r = run("fix", src, "--out", f"s3://{bucket}/up/")
    assert r.exit_code == 0, r.output
    assert s3server.keys(bucket, "up/") == ["up/ok.jpg", "up/sub dir/x.jpg"]
    head = s3server.client.head_object(Bucket=bucket, Key="up/sub dir/x.jpg")
    assert head["Metadata"]["igpreflight-source-hash"].startswith("sha256:")
    assert "(already done)" in run("fix", src, "--out", f"s3://{bucket}/up/").output

    out = tmp_path / "fixed"
    review = tmp_path / "review.html"
    r = run("fix", f"s3://{bucket}/in/a/", "--out", out, "--report", review)
    assert r.exit_code == 0, r.output
    assert (out / "b" / "c" / "w.jpg").is_file()
    page = review.read_text()
    assert f"s3://{bucket}/in/a/b/c/w.webp" in page and page.count("data:image/jpeg") >= 2
    assert "(already done)" in run("fix", f"s3://{bucket}/in/a/", "--out", out).output


def test_misuse_is_exit_2(bucket):
    assert run("fix", f"s3://{bucket}/in/", "--in-place").exit_code == 2
    assert run("fix", f"s3://{bucket}/in/", "--out", "o", "--shard", "2/2").exit_code == 2
    assert run("fix", f"s3://{bucket}/in/", "--scheduler", "tcp://x:1").exit_code == 2
    r = run("fix", f"s3://{bucket}/in/a/", "--out", f"s3://{bucket}/in/")
    assert r.exit_code == 2 and "contains the input" in r.output


def test_shards_are_disjoint_and_complete(bucket):
    seen: list[str] = []
    for i in range(3):
        r = run("check", f"s3://{bucket}/in/", "--shard", f"{i}/3", "--format", "json")
        seen += [f["path"] for f in json.loads(r.output)["files"]]
    assert sorted(seen) == sorted(f"s3://{bucket}/{k}" for k in LAYOUT)
    # Names that could meet on one output (a.png, a.jpg -> a.jpg) share a shard.
    for n in (2, 5, 16):
        assert Shard.parse(f"0/{n}").owns("x/a.png") == Shard.parse(f"0/{n}").owns("x/a.jpg")


def test_shards_of_several_prefixes_write_what_one_run_writes(s3server, media):  # noqa: F811
    """Two prefixes into one --out: shoot/a.png and more/a.png would both become a.jpg,
    and one run names the second a.png.jpg. Shards took each input by its whole URI,
    so the two could fall in different shards, each of which wrote a.jpg: the union
    of the shards lost an output. They now go by the place under --out."""
    name = s3server.bucket()
    inputs = []
    for prefix in ("shoot", "more"):
        for stem in "abcdef":
            s3server.put(name, f"{prefix}/{stem}.png", media["wide"])
        inputs.append(f"s3://{name}/{prefix}/")
    out = f"s3://{name}/out/"

    def outputs(*extra: str) -> dict[str, str]:
        r = run("fix", *inputs, "--out", out, "--dry-run", "--format", "json", *extra)
        assert r.exit_code == 0, r.output
        return {f["path"]: f["output"] for f in json.loads(r.output)["files"]}

    whole = outputs()
    assert len(set(whole.values())) == 12
    shards = [outputs("--shard", f"{i}/4") for i in range(4)]
    assert sum(len(s) for s in shards) == 12
    assert {k: v for s in shards for k, v in s.items()} == whole


def test_kill_9_mid_run_then_rerun_completes(s3server, tmp_path, media):  # noqa: F811
    name = s3server.bucket()
    keys = [f"many/{i:02d} photo.png" for i in range(12)]
    for key in keys:
        s3server.put(name, key, media["wide"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "igpreflight",
        "fix",
        f"s3://{name}/many/",
        "--out",
        f"s3://{name}/done/",
        "--jobs",
        "1",
    ]
    s3server.kill_once_written(cmd, env, name, "done/")
    partial = s3server.keys(name, "done/")
    assert 0 < len(partial) < len(keys)
    # No broken object: whatever is there is complete and passes.
    assert run("check", f"s3://{name}/done/").exit_code == 0
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("(already done)") == len(partial)
    assert len(s3server.keys(name, "done/")) == len(keys)
    assert run("check", f"s3://{name}/done/").exit_code == 0


def test_s3_to_a_folder_killed_mid_run_resumes_from_its_ledger(s3server, tmp_path):  # noqa: F811
    """Objects into a local --out keep the folder's ledger, but it was written only when
    the whole batch ended: after kill -9 the next run found no record and redid every
    output already there. Each task's results are recorded as it comes back."""
    name = s3server.bucket()
    for i in range(48):
        png = generate.make_image(tmp_path / f"src{i}.png", size=(1000 + i, 400))
        s3server.put(name, f"shoot/{i:02d}.png", png)
    out = tmp_path / "fixed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "igpreflight", "fix", f"s3://{name}/shoot/", "--out", str(out)]
    cmd += ["--jobs", "1"]  # tasks of at most 32 files, one at a time
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.jpg"))) < 34:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(out.glob("*.jpg"))) < 48, "the run ended before it was killed"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("(already done)") >= 32, r.stdout  # the first task's files
    assert len(list(out.glob("*.jpg"))) == 48
    assert run("check", out).exit_code == 0


def test_two_runs_at_once_on_one_s3_prefix_leave_whole_outputs(s3server, bucket):  # noqa: F811
    """S3 has no folder lock: two runs on one --out s3:// prefix may both write an
    output, each PUT whole, with the same bytes and metadata; nothing is broken, and
    a third run finds everything done."""
    import threading

    from igpreflight import fix

    results: list = []

    def one_run() -> None:
        results.append(fix([f"s3://{bucket}/in/"], f"s3://{bucket}/twice/"))

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join(120)
    assert len(results) == 2
    assert set(s3server.keys(bucket, "twice/")) == {k.replace("out/", "twice/") for k in OUTPUTS}
    assert run("check", f"s3://{bucket}/twice/").exit_code == 0
    third = fix([f"s3://{bucket}/in/"], f"s3://{bucket}/twice/")
    assert sum(f.resumed for f in third.files) == len(OUTPUTS)


def test_objects_are_judged_as_local_files_are(s3server, tmp_path):  # noqa: F811
    """A compliant-looking object is decoded whole before it is copied (a corrupt scan
    is FILE001 and nothing is written), and a broken EXIF block is dropped, as `fix`
    does for a local file; a sound compliant object is still copied server-side."""
    from igpreflight import fix
    from tests.crafted import corrupt_exif, corrupt_jpeg_scan

    good = generate.make_image(tmp_path / "good.jpg", size=(1080, 1080))
    name = s3server.bucket()
    s3server.put(name, "in/scan.jpg", corrupt_jpeg_scan(good, tmp_path / "scan.jpg"))
    s3server.put(name, "in/exif.jpg", corrupt_exif(good, tmp_path / "exif.jpg"))
    s3server.put(name, "in/good.jpg", good)
    local = fix([tmp_path / "scan.jpg", tmp_path / "exif.jpg", good], tmp_path / "out")
    remote = fix([f"s3://{name}/in/"], f"s3://{name}/out/")
    statuses = {Path(r.source).name: r.status.value for r in remote.files}
    assert statuses == {"scan.jpg": "unfixable", "exif.jpg": "converted", "good.jpg": "copied"}
    assert statuses == {Path(r.source).name: r.status.value for r in local.files}
    assert s3server.keys(name, "out/") == ["out/exif.jpg", "out/good.jpg"]
    copied = s3server.client.get_object(Bucket=name, Key="out/good.jpg")["Body"].read()
    assert copied == good.read_bytes()


def test_a_store_that_refuses_checksum_headers_like_b2(s3server, bucket):  # noqa: F811
    """Backblaze B2 answers 400 to boto3's default checksum headers: listing, ranged
    GETs, PUT, server-side copy and HEAD all go through such an endpoint."""
    from fixtures.s3server import checksum_refusing_proxy
    from igpreflight.storage import s3

    settings = s3.current_settings()  # --endpoint-url is the process's setting from now on
    with checksum_refusing_proxy(s3server.endpoint) as b2:
        try:
            args = (f"s3://{bucket}/in/été 2026/", "--out", f"s3://{bucket}/b2/")
            r = run("fix", *args, "--endpoint-url", b2)
            assert r.exit_code == 0, r.output
            assert "copied" in r.output and "converted" in r.output
            assert s3server.keys(bucket, "b2/") == ["b2/ok.jpg", "b2/wide shot.jpg"]
            assert run("check", f"s3://{bucket}/b2/", "--endpoint-url", b2).exit_code == 0
            assert run("fix", *args, "--endpoint-url", b2).output.count("(already done)") == 2
        finally:
            s3.configure(settings)


def test_python_api_takes_s3_uris(bucket):
    from igpreflight import check, fix

    result = fix([f"s3://{bucket}/in/a/"], f"s3://{bucket}/api/")
    assert result.ok and [f.output for f in result.files] == [f"s3://{bucket}/api/b/c/w.jpg"]
    assert not check([f"s3://{bucket}/api/"], shard="0/1").errors

"""`check --deep s3://...` decodes every object as it decodes a local file: fetched to
a temporary file within the disk budget, decoded, removed; the same findings as the
local check, on this machine and on a Dask cluster. (It once said `ok` for a damaged
JPEG at an s3:// key, with exit 0 and nothing on stderr.)"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.generate import make_image, make_video
from igpreflight.cli import cli
from igpreflight.storage import objects, staging
from tests.crafted import corrupt_jpeg_scan, damaged_aac_entry
from tests.s3_support import s3server  # noqa: F401 - a fixture


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def findings(output: str) -> dict[str, list[tuple[str, str]]]:
    doc = json.loads(output)
    return {
        Path(f["path"]).name: [(x["rule"], x["message"]) for x in f["findings"]]
        for f in doc["files"]
    }


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deep")
    good = make_image(root / "good.jpg", size=(1080, 1080))
    corrupt_jpeg_scan(good, root / "bad.jpg")
    clip = make_video(root / "clip.mov", width=64, height=64, duration=3.5)
    damaged_aac_entry(clip, root / "bad.mov")
    return root


@pytest.fixture(scope="module")
def bucket(s3server, local) -> str:  # noqa: F811 - the fixture
    name = s3server.bucket()
    for path in local.iterdir():
        s3server.put(name, f"media/{path.name}", path)
    return name


@pytest.fixture
def own_tmp(tmp_path, monkeypatch) -> Path:
    """The process's temporary folder, watched: every fetched copy must be gone after."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_deep_check_of_objects_finds_what_the_local_one_finds(bucket, local, own_tmp) -> None:
    headers_only = run("check", f"s3://{bucket}/media/", "--format", "json")
    assert headers_only.exit_code == 0, headers_only.output  # the damage is in the data
    r = run("check", "--deep", f"s3://{bucket}/media/", "--format", "json")
    assert r.exit_code == 1, r.output
    remote = findings(r.output)
    here = run("check", "--deep", local, "--format", "json")
    assert remote == findings(here.output)
    assert remote["good.jpg"] == [] and "FILE001" not in dict(remote["clip.mov"])
    (rule, message), *_ = remote["bad.jpg"]
    assert rule == "FILE001" and "does not decode" in message and "block row" in message
    (rule, message), *_ = remote["bad.mov"]
    assert rule == "FILE001" and "sampling rate index" in message
    # Every fetched copy removed; the process's staging folder holds its lock alone.
    assert [p.name for p in own_tmp.rglob("*") if p.is_file()] == [staging.LOCK]


def test_deep_check_on_a_dask_cluster(bucket, local) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        dask = ("--engine", "dask", "--scheduler", cluster.scheduler_address)
        r = run("check", "--deep", f"s3://{bucket}/media/", "--format", "json", *dask)
    assert r.exit_code == 1, r.output
    assert findings(r.output) == findings(run("check", "--deep", local, "--format", "json").output)


def test_an_object_larger_than_the_free_disk_is_a_clear_finding(bucket, monkeypatch) -> None:
    monkeypatch.setattr(objects, "DISK_MARGIN", 1 << 60)
    r = run("check", "--deep", f"s3://{bucket}/media/good.jpg", "--format", "json")
    (message,) = [m for _, m in findings(r.output)["good.jpg"]]
    assert r.exit_code == 1 and "not decoded: it needs" in message and "TMPDIR" in message


def test_the_disk_budget_holds_one_big_object_at_a_time() -> None:
    gate = objects.ByteGate(100)
    inside: list[int] = []
    peak: list[int] = []

    def hold(size: int) -> None:
        with gate.hold(size):
            inside.append(size)
            peak.append(gate.held)
            time.sleep(0.05)
            inside.remove(size)

    threads = [threading.Thread(target=hold, args=(n,)) for n in (60, 60, 150, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(peak) <= 150  # the 150-byte object went alone; the others fit in 100
    assert gate.held == 0

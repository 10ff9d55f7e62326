"""Odd S3 keys: `//`, `./`, `../`, very long and unicode names. S3 takes any key; a
folder tree does not. `check` reads every one of them; `fix`, which mirrors keys under
--out, skips the ones that have no place there with a line that says why, and the
batch goes on (it once ended whole with exit 2 on one `//`)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fixtures.generate import make_image
from igpreflight.cli import cli
from igpreflight.storage.objects import key_problem, name_problem
from tests.s3_support import s3server  # noqa: F401 - a fixture

LONG = "l" * 300 + ".jpg"  # a fine S3 key segment, too long for a file name
ODD = {
    "in/a//double.jpg": "empty segment",
    "in/./dot.jpg": "'.' segment",
    "in/../up.jpg": "'..' segment",
}
GOOD = ["in/ok.jpg", "in/été ü/ünï.jpg", f"in/{LONG}"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def bucket(s3server, tmp_path_factory):  # noqa: F811 - the fixture
    image = make_image(tmp_path_factory.mktemp("keys") / "ok.jpg", size=(1080, 1350))
    name = s3server.bucket()
    for key in [*ODD, *GOOD, "in/.hidden.jpg"]:
        s3server.put(name, key, image)
    return name


def test_check_reads_every_key_and_skips_only_hidden_names(bucket) -> None:
    r = run("check", f"s3://{bucket}/in/", "--format", "json")
    assert r.exit_code == 0, r.output
    paths = {f["path"] for f in json.loads(r.output)["files"]}
    assert paths == {f"s3://{bucket}/{key}" for key in [*ODD, *GOOD]}


@pytest.mark.parametrize("to_s3", [True, False], ids=["to-s3", "to-folder"])
def test_fix_skips_keys_without_a_place_and_goes_on(bucket, s3server, tmp_path, to_s3) -> None:  # noqa: F811
    out = f"s3://{bucket}/fixed/" if to_s3 else str(tmp_path / "fixed")
    r = run("fix", f"s3://{bucket}/in/", "--out", out, "--format", "json")
    assert r.exit_code == 1, r.output  # some inputs were not fixed
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    files = {f["path"].split("/", 3)[3]: f for f in json.loads(r.output)["files"]}
    for key, why in ODD.items():
        assert files[key]["status"] == "skipped" and why in files[key]["reason"], files[key]
        assert files[key]["output"] is None
    for key in ("in/ok.jpg", "in/été ü/ünï.jpg"):
        assert files[key]["status"] == "copied", files[key]
    long = files[f"in/{LONG}"]
    if to_s3:  # a key may be longer than a file name: it is written
        assert long["status"] == "copied", long
        written = s3server.keys(bucket, "fixed/")
        assert sorted(written) == sorted(["fixed/ok.jpg", "fixed/été ü/ünï.jpg", f"fixed/{LONG}"])
    else:
        assert long["status"] == "skipped" and "255 bytes" in long["reason"], long
        found = sorted(
            p.relative_to(tmp_path / "fixed").as_posix()
            for p in (tmp_path / "fixed").rglob("*.jpg")
        )
        assert found == ["ok.jpg", "été ü/ünï.jpg"]
    text = run("fix", f"s3://{bucket}/in/", "--out", out, "--dry-run").output
    assert f"s3://{bucket}/in/../up.jpg: skipped: its key has a '..' segment" in text, text


def test_an_output_key_past_s3s_limit_is_skipped(bucket, s3server) -> None:  # noqa: F811
    key = "in2/" + "k" * 1000 + ".jpg"  # 1008 bytes: a key S3 takes
    s3server.put(
        bucket, key, s3server.client.get_object(Bucket=bucket, Key="in/ok.jpg")["Body"].read()
    )
    out = "o" * 40 + "/"
    r = run("fix", f"s3://{bucket}/in2/", "--out", f"s3://{bucket}/{out}", "--format", "json")
    (only,) = json.loads(r.output)["files"]
    assert r.exit_code == 1 and only["status"] == "skipped", r.output
    assert "would be 1045 bytes long; S3 allows 1024" in only["reason"]


def test_key_rules() -> None:
    assert key_problem("a/b.jpg") is None and key_problem("été/ü.jpg") is None
    assert "empty segment" in key_problem("/a.jpg")
    assert "'..' segment" in key_problem("a/../b.jpg")
    assert name_problem("x/" + "é" * 128 + ".jpg", s3_out=False)  # 256 bytes, 128 letters
    assert name_problem("x/" + "é" * 120 + ".jpg", s3_out=False) is None
    assert name_problem("é" * 600, s3_out=True)  # 1200 bytes

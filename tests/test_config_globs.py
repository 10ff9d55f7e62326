"""Configuration globs without a slash (`"*.png" = [...]`) match the file name only,
wherever the file is: in any folder, and for s3:// objects in any prefix of any
bucket, never the bucket's name or the whole path. (A mutation audit found that
matching them against the whole path, or the bucket, went unnoticed.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli
from tests.s3_support import s3server  # noqa: F401 - a fixture

CONFIG = '[per-file-ignores]\n"*.png" = ["IMG012"]\n\n[roles]\n"*-story.jpg" = "story"\n'
# name -> (size, format); folders named like the globs must not make them match
FILES = {
    "a/b/deep.png": ((1080, 1350), "PNG"),  # IMG012 (PNG) ignored by "*.png"
    "top.png": ((1080, 1350), "PNG"),
    "a.png/inside.jpg": ((1080, 1920), "JPEG"),  # 9:16 as a feed post: IMG003
    "x-story.jpg/feed.jpg": ((1080, 1920), "JPEG"),  # a folder, not the name: feed
    "c/d/s-story.jpg": ((1080, 1920), "JPEG"),  # 9:16 as a story: passes
}


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def make(root: Path) -> Path:
    for name, (size, fmt) in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (120, 90, 60)).save(path, fmt)
    return root


def verdicts(output: str) -> dict[str, tuple[str, set[str]]]:
    doc = json.loads(output)
    out = {}
    for f in doc["files"]:
        rel = f["path"].split("in/", 1)[1]
        out[rel] = (f["as"], {x["rule"] for x in f["findings"]})
    return out


EXPECTED = {
    "a/b/deep.png": ("feed", set()),
    "top.png": ("feed", set()),
    "a.png/inside.jpg": ("feed", {"IMG003"}),
    "x-story.jpg/feed.jpg": ("feed", {"IMG003"}),
    "c/d/s-story.jpg": ("story", set()),
}


def test_globs_without_a_slash_match_local_file_names_at_any_depth(tmp_path, monkeypatch):
    make(tmp_path / "in")
    (tmp_path / "igpreflight.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    r = run("check", "--format", "json", "in")
    assert verdicts(r.output) == EXPECTED
    assert json.loads(r.output)["summary"]["ignored"] == 2
    fixed = json.loads(run("fix", "in", "--out", "out", "--format", "json").output)
    status = {f["path"].split("in/", 1)[1]: f["status"] for f in fixed["files"]}
    # the story is copied as it is, the feed 9:16 files cropped; IMG012 off: PNGs kept
    assert status == {
        "a/b/deep.png": "copied",
        "top.png": "copied",
        "a.png/inside.jpg": "converted",
        "x-story.jpg/feed.jpg": "converted",
        "c/d/s-story.jpg": "copied",
    }


@pytest.fixture(scope="module")
def story_bucket(s3server, tmp_path_factory):  # noqa: F811 - the fixture
    """A bucket whose own name matches "*-story.jpg": matching it would be a bug."""
    name = f"igpf-{uuid.uuid4().hex[:8]}-story.jpg"
    s3server.client.create_bucket(Bucket=name)
    root = make(tmp_path_factory.mktemp("globs"))
    for rel in FILES:
        s3server.put(name, f"in/{rel}", root / rel)
    return name


def test_globs_without_a_slash_match_object_names_not_buckets(story_bucket, tmp_path, monkeypatch):
    (tmp_path / "igpreflight.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    r = run("check", "--format", "json", f"s3://{story_bucket}/in/")
    assert verdicts(r.output) == EXPECTED
    out = f"s3://{story_bucket}/out/"
    fixed = json.loads(
        run("fix", f"s3://{story_bucket}/in/", "--out", out, "--format", "json").output
    )
    status = {f["path"].split("/in/", 1)[1]: f["status"] for f in fixed["files"]}
    assert status["c/d/s-story.jpg"] == "copied" and status["a/b/deep.png"] == "copied"
    assert status["x-story.jpg/feed.jpg"] == "converted"

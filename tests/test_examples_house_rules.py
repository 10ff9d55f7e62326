"""examples/house-rules, a content repository with a house profile, checked and fixed
as a user would: `igpreflight check . --manifest posts.toml` and `igpreflight fix`.
Its findings are held here, so the example and the docs that cite it stay true."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from igpreflight.cli import cli
from igpreflight.profiles import from_toml

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "house-rules"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example (fix writes beside it), as the working directory."""
    copy = tmp_path / "house-rules"
    shutil.copytree(EXAMPLE, copy)
    monkeypatch.chdir(copy)
    monkeypatch.setenv("IGPREFLIGHT_X264_PRESET", "ultrafast")
    return copy


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_reports_each_house_rule_under_its_profile(repo: Path) -> None:
    r = run("check", ".", "--manifest", "posts.toml", "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.output)
    errors = {
        (file["path"], f["rule"], f.get("profile"))
        for file in data["files"]
        for f in file["findings"]
        if f["severity"] == "error"
    }
    posts = {(p["id"], f["rule"], f["profile"]) for p in data["posts"] for f in p["findings"]}
    assert errors == {
        ("feed/square.jpg", "IMG003", "acme"),
        ("reels/landscape.mp4", "VID007", "acme"),
    }
    assert posts == {("teaser", "POST022", "acme")}
    messages = [f["message"] for p in data["posts"] for f in p["findings"]]
    assert messages == [
        "caption lacks the required hashtag #acme",
        "caption has the forbidden hashtag #ad",
    ]


def test_fix_crops_to_the_house_ratio_and_refuses_what_it_cannot(repo: Path) -> None:
    r = run("fix", ".", "--out", "fixed")
    assert r.exit_code == 1  # the landscape clip is unfixable
    lines = r.output.splitlines()
    assert "feed/square.jpg -> fixed/feed/square.jpg: converted (crop centre 320x400" in r.output
    (clip,) = [line for line in lines if line.startswith("reels/landscape.mp4")]
    assert "unfixable: 960x540 brought into the aspect range is 304x540" in clip
    assert "below the minimum 540x960" in clip
    again = run("check", "fixed")
    assert again.exit_code == 0, again.output


def test_the_house_profile_is_listed_and_shown(repo: Path) -> None:
    listing = run("profiles").output
    assert (
        "acme            Instagram: house profile, extends instagram (brand/house.toml)" in listing
    )
    shown = run("profiles", "show", "acme").output
    profile = from_toml(shown)
    assert profile.post.required_hashtags == ("#acme",) and profile.extends == "instagram"
    assert "ACME brand guide, section 4" in shown

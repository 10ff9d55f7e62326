"""A file checked in several roles (walked, and listed in a manifest) shows each of its
findings once in GitHub annotations and SARIF, as in JUnit: it was one identical
annotation, and one identical code-scanning alert, per role."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli

OFFICIAL = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """sq.webp: walked (feed) and in a carousel, WEBP in both. wide.jpg: walked and in
    a story, too wide for each by a different rule, too large in both."""
    Image.new("RGB", (1080, 1080), "teal").save(tmp_path / "sq.webp")
    Image.new("RGB", (3000, 300), "teal").save(tmp_path / "wide.jpg")
    (tmp_path / "posts.toml").write_text(
        '[[post]]\nid = "c"\nmedia_type = "CAROUSEL"\nmedia = ["sq.webp", "sq.webp"]\n'
        '[[post]]\nid = "s"\nmedia_type = "STORIES"\nmedia = ["wide.jpg"]\n'
    )
    monkeypatch.chdir(tmp_path)
    return ["check", ".", "--manifest", "posts.toml", "--format"]


def findings(repo: list[str], fmt: str) -> str:
    result = CliRunner().invoke(cli, [*repo, fmt])
    assert result.exit_code == 1, result.output
    return result.output


def test_github_annotates_a_finding_of_several_roles_once(repo: list[str]) -> None:
    lines = [line for line in findings(repo, "github").splitlines() if "file=" in line]
    shown = sorted(
        (line.split("file=")[1].split(",")[0], line.split("title=")[1].split("::")[0], line)
        for line in lines
    )
    assert [(f, rule) for f, rule, _ in shown] == [
        ("sq.webp", "IMG002"),
        ("wide.jpg", "IMG003"),
        ("wide.jpg", "IMG004"),
        ("wide.jpg", "IMG011"),
    ]
    messages = [unquote(line.split("::", 2)[2]) for *_, line in shown]
    assert messages[0].startswith("as feed, carousel-item: format WEBP")
    assert messages[1].startswith("as feed: aspect ratio")
    assert messages[2].startswith("as feed, story: width 3000 px")
    assert messages[3].startswith("as story: aspect ratio")


def test_sarif_has_one_alert_per_finding_of_a_file_whatever_its_roles(repo: list[str]) -> None:
    log = json.loads(findings(repo, "sarif"))
    jsonschema.Draft4Validator(OFFICIAL).validate(log)
    results = [
        r
        for r in log["runs"][0]["results"]
        if "logicalLocations" not in r["locations"][0]  # the posts' own findings aside
    ]
    got = sorted(
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"])
        for r in results
    )
    assert got == [
        ("sq.webp", "IMG002"),
        ("wide.jpg", "IMG003"),
        ("wide.jpg", "IMG004"),
        ("wide.jpg", "IMG011"),
    ]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["IMG002"]["properties"]["as"] == "feed+carousel-item"
    assert by_rule["IMG002"]["message"]["text"].startswith("as feed, carousel-item: ")
    assert by_rule["IMG004"]["properties"]["as"] == "feed+story"
    fingerprints = [r["partialFingerprints"]["igpreflightFinding/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)

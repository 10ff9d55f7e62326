"""Every report names files the way the repository does: relative to the working
directory, without `./` (`check .` once annotated `./posts/x.webp`, which GitHub
matches to no file of a pull request); CI formats make an absolute path under the
working directory relative too. SARIF did so already and still does."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli
from igpreflight.pathnames import shown_path
from igpreflight.report.locate import CI_ROOT_VARIABLES, ci_path


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "posts").mkdir()
    Image.new("RGB", (1080, 1080), (20, 80, 140)).save(tmp_path / "posts" / "x.webp")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("given", [".", "./", "./posts", "posts//", "./posts/x.webp"])
def test_every_format_names_the_file_without_dot_slash(repo: Path, given: str) -> None:
    want = "posts/x.webp"
    github = run("check", "--format", "github", given).output
    assert f"::error file={want},title=IMG002::" in github, github
    junit = ET.fromstring(run("check", "--format", "junit", given).output)
    assert [c.get("file") for c in junit.iter("testcase")] == [want]
    assert [c.get("name") for c in junit.iter("testcase")] == [want]
    doc = json.loads(run("check", "--format", "json", given).output)
    assert [f["path"] for f in doc["files"]] == [want]
    assert run("check", "--format", "text", given).output.startswith(f"{want}  (image")
    sarif = json.loads(run("check", "--format", "sarif", given).output)
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == want
    fixed = json.loads(run("fix", given, "--dry-run", "--format", "json").output)
    assert [f["path"] for f in fixed["files"]] == [want]


def test_the_html_review_names_the_file_as_given_without_dot_slash(repo: Path) -> None:
    r = run("fix", ".", "--out", "../fixed", "--report", "../review.html")
    assert r.exit_code == 0, r.output
    page = (repo.parent / "review.html").read_text(encoding="utf-8")
    assert 'data-source="posts/x.webp"' in page and "./posts" not in page


def test_an_absolute_path_stays_absolute_except_where_ci_matches_files(repo: Path) -> None:
    absolute = str(repo / "posts" / "x.webp")
    doc = json.loads(run("check", "--format", "json", absolute).output)
    assert doc["files"][0]["path"] == absolute  # as the user gave it
    assert "::error file=posts/x.webp," in run("check", "--format", "github", absolute).output
    assert ci_path("/elsewhere/a.jpg") == "/elsewhere/a.jpg"  # outside: nothing to match
    assert ci_path("s3://b/./a.jpg") == "s3://b/./a.jpg"


@pytest.mark.parametrize("variable", CI_ROOT_VARIABLES)
def test_a_step_in_a_subfolder_names_files_from_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # A GitHub step with `working-directory: posts` (GitLab: `cd posts`) annotated
    # `x.webp`, which GitHub matched to no file of the pull request: the runner, the
    # SARIF upload and GitLab's JUnit reader all read paths from the repository's root.
    monkeypatch.setenv(variable, str(repo))
    monkeypatch.chdir(repo / "posts")
    want = "posts/x.webp"
    for given in ("x.webp", "./x.webp", str(repo / "posts" / "x.webp")):
        github = run("check", "--format", "github", given).output
        assert f"::error file={want},title=IMG002::" in github, github
        junit = ET.fromstring(run("check", "--format", "junit", given).output)
        assert [c.get("file") for c in junit.iter("testcase")] == [want]
        sarif = json.loads(run("check", "--format", "sarif", given).output)
        (result,) = sarif["runs"][0]["results"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == want
    # the alert is the same one whichever folder the step ran in (code scanning
    # matches results across runs by fingerprint)
    monkeypatch.chdir(repo)
    from_root = json.loads(run("check", "--format", "sarif", "posts").output)["runs"][0]
    monkeypatch.chdir(repo / "posts")
    from_posts = json.loads(run("check", "--format", "sarif", ".").output)["runs"][0]
    assert [r["partialFingerprints"] for r in from_root["results"]] == [
        r["partialFingerprints"] for r in from_posts["results"]
    ]
    # reports for people keep the name as given
    assert run("check", "x.webp").output.startswith("x.webp  (image")
    assert json.loads(run("check", "--format", "json", "x.webp").output)["files"][0]["path"] == (
        "x.webp"
    )
    # outside the repository: nothing to match, the absolute path stays
    outside = repo.parent / f"{repo.name}-elsewhere.jpg"
    assert ci_path(str(outside)) == outside.as_posix()
    assert ci_path("../../" + outside.name) == outside.as_posix()


def test_shown_path_keeps_what_changes_meaning() -> None:
    assert shown_path("./a//b/./c.jpg") == "a/b/c.jpg"
    assert shown_path("../shared/x.jpg") == "../shared/x.jpg"  # `..` kept (symlinks)
    assert shown_path("a/../b.jpg") == "a/../b.jpg"
    assert shown_path("s3://bucket//k.jpg") == "s3://bucket//k.jpg"
    assert shown_path("-dash.jpg") == "-dash.jpg"


@pytest.mark.parametrize("options", [["--shard", "0/1"], []])
def test_fix_names_outputs_under_out_as_given_with_any_driver(repo: Path, options) -> None:
    """The docs trial's `fix ... --out fixed/` printed `/tmp/.../fixed/x.jpg` through
    the engine's driver (--shard, --engine dask, s3:// inputs) and `fixed/x.jpg`
    through the local one; both now name it as the user spelled --out."""
    done = run("fix", "posts", "--out", "./fixed/", "--format", "json", *options)
    assert done.exit_code == 0, done.output
    [fixed] = json.loads(done.output)["files"]
    assert fixed["output"] == "fixed/x.jpg"
    assert (repo / "fixed" / "x.jpg").is_file()
    again = run("fix", "posts", "--out", "./fixed/", *options)
    assert "posts/x.webp -> fixed/x.jpg: converted (already done)" in again.output

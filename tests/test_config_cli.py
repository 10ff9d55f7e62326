"""Project configuration through the CLI: [tool.igpreflight] in pyproject.toml or an
igpreflight.toml, found from the working directory upwards; --select, --ignore,
--config, --isolated; CLI over file; bad keys and codes are usage errors (exit 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli
from igpreflight.config import FORMATS
from igpreflight.report import RENDERERS


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def jpeg(path: Path, size: tuple[int, int] = (1080, 1350)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 80, 40)).save(path, quality=90)
    return path


def webp(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (1080, 1080), (20, 80, 140)).save(path, "WEBP")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A content repo: a WebP (IMG002 error) in posts/, the working directory below it."""
    webp(tmp_path / "posts" / "a.webp")
    (tmp_path / "posts" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "posts" / "sub")
    return tmp_path


def test_pyproject_found_upwards_ignores_a_rule_and_counts_it(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "content"\n\n[tool.igpreflight]\nignore = ["IMG002"]\n'
    )
    r = run("check", "--format", "json", project / "posts")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["ignored"] == 1 and data["summary"]["errors"] == 0
    assert "IMG002" not in r.output  # reported nowhere
    text = run("check", project / "posts")
    assert text.exit_code == 0 and "1 ignored" in text.output, text.output
    for fmt in ("sarif", "junit", "github"):
        out = run("check", "--format", fmt, project / "posts").output
        assert '"ruleId": "IMG002"' not in out and "title=IMG002" not in out, fmt
    # --isolated reads no file: the rule is back
    assert run("check", "--isolated", project / "posts").exit_code == 1


def test_igpreflight_toml_wins_and_cli_wins_over_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.igpreflight]\nignore = ["IMG002"]\n')
    (project / "posts" / "igpreflight.toml").write_text('select = ["VID"]\n')
    r = run("check", "--format", "json", project / "posts")
    assert r.exit_code == 0 and json.loads(r.output)["summary"]["ignored"] == 1
    # --select replaces the file's selection; --ignore removes from it
    assert run("check", "--select", "IMG002", project / "posts").exit_code == 1
    assert run("check", "--select", "IMG", "--ignore", "IMG002", project / "posts").exit_code == 0
    other = project / "elsewhere.toml"
    other.write_text("select = ['IMG']\n")
    assert run("check", "--config", other, project / "posts").exit_code == 1


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("selct = ['IMG002']\n", "'selct'"),
        ("ignore = ['IMG999']\n", "'IMG999'"),
        ("[per-file-ignores]\n'a/**' = ['NOPE1']\n", "'NOPE1'"),
        ("[roles]\n'stories/**' = 'storie'\n", "'storie'"),
        ("jobs = 0\n", "jobs"),
        ("format = 'xml'\n", "'xml'"),
        ("strict = 'yes'\n", "strict"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_usage_error_naming_it(
    project: Path, content: str, named: str
) -> None:
    (project / "igpreflight.toml").write_text(content)
    r = run("check", project / "posts")
    assert r.exit_code == 2, r.output
    assert named in r.output and "igpreflight.toml" in r.output, r.output


def test_a_broken_pyproject_with_our_table_is_an_error_not_passed_over(project: Path) -> None:
    # A TOML slip anywhere in the file once dropped [tool.igpreflight] without a word:
    # `strict = true` was gone and a warning passed CI and the pre-commit hook.
    jpeg(project / "posts" / "wide.jpg", (2000, 1500))  # IMG004: a warning only
    pyproject = project / "pyproject.toml"
    pyproject.write_text("[tool.igpreflight]\nstrict = true\n\n[tool.black\nline-length = 99\n")
    r = run("check", project / "posts" / "wide.jpg")
    assert r.exit_code == 2, r.output
    assert "pyproject.toml" in r.output and "invalid TOML" in r.output, r.output
    pyproject.write_text("[tool.igpreflight\nstrict = true\n")  # the header itself broken
    assert run("check", project / "posts" / "wide.jpg").exit_code == 2
    # another tool's broken file without our table is still not ours to judge
    pyproject.write_text("[tool.black\nline-length = 99\n[tool.igpreflight-extra]\n")
    assert run("check", project / "posts" / "wide.jpg").exit_code == 0


def test_unknown_code_on_the_command_line_is_a_usage_error(project: Path) -> None:
    r = run("check", "--ignore", "IMG002,XYZ9", project / "posts")
    assert r.exit_code == 2 and "'XYZ9'" in r.output and "--ignore" in r.output, r.output
    r = run("check", "--config", project / "missing.toml", project / "posts")
    assert r.exit_code == 2 and "missing.toml" in r.output


def test_per_file_ignores_and_roles_by_glob(tmp_path: Path, monkeypatch) -> None:
    jpeg(tmp_path / "legacy" / "old" / "tall.jpg", (800, 1600))  # 1:2, IMG003
    jpeg(tmp_path / "posts" / "tall.jpg", (800, 1600))
    jpeg(tmp_path / "stories" / "s.jpg", (1080, 1920))  # 9:16: a story, not a feed post
    (tmp_path / "igpreflight.toml").write_text(
        '[per-file-ignores]\n"legacy/**" = ["IMG003"]\n\n[roles]\n"stories/**" = "story"\n'
    )
    monkeypatch.chdir(tmp_path)
    data = json.loads(run("check", "--format", "json", ".").output)
    found = {
        os.path.normpath(f["path"]): ({x["rule"] for x in f["findings"]}, f["as"])
        for f in data["files"]
    }
    assert "IMG003" not in found["legacy/old/tall.jpg"][0]
    assert "IMG003" in found["posts/tall.jpg"][0]
    assert found["stories/s.jpg"] == (set(), "story")  # 9:16 passes as a story
    assert data["summary"]["ignored"] == 1
    # an explicit --as wins over the roles table
    r = run("check", "--as", "feed", "--format", "json", "stories")
    assert json.loads(r.output)["files"][0]["as"] == "feed" and r.exit_code == 1


def test_strict_format_and_jobs_from_the_file(tmp_path: Path, monkeypatch) -> None:
    jpeg(tmp_path / "wide.jpg", (2000, 1500))  # IMG004 warning only
    monkeypatch.chdir(tmp_path)
    assert run("check", "wide.jpg").exit_code == 0
    (tmp_path / "igpreflight.toml").write_text('strict = true\nformat = "json"\njobs = 1\n')
    r = run("check", "wide.jpg")
    assert r.exit_code == 1  # the warning fails with strict
    assert json.loads(r.output)["summary"]["warnings"] == 1  # the file's format
    assert run("check", "--format", "text", "wide.jpg").output.startswith("wide.jpg")


def test_config_formats_are_checks_formats() -> None:
    assert set(FORMATS) == set(RENDERERS)


def test_fix_follows_the_configuration(tmp_path: Path, monkeypatch) -> None:
    jpeg(tmp_path / "in" / "wide.jpg", (2000, 1000))  # 2:1: IMG003, fixed by a crop
    jpeg(tmp_path / "in" / "stories" / "s.jpg", (1080, 1920))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "igpreflight.toml").write_text(
        'ignore = ["IMG003", "IMG004"]\n[roles]\n"in/stories/**" = "story"\n'
    )
    r = run("fix", "in", "--out", "out", "--format", "json")
    assert r.exit_code == 0, r.output
    status = {Path(f["path"]).name: f["status"] for f in json.loads(r.output)["files"]}
    assert status == {"wide.jpg": "copied", "s.jpg": "copied"}, status
    with Image.open(tmp_path / "out" / "wide.jpg") as im:
        assert im.size == (2000, 1000)  # not cropped: the rule is off
    r = run("fix", "--isolated", "in", "--out", "out2", "--format", "json")
    status = {Path(f["path"]).name: f["status"] for f in json.loads(r.output)["files"]}
    assert status["wide.jpg"] == "converted" and status["s.jpg"] == "converted"


HASHTAGS = " ".join(f"#tag{i}" for i in range(35))


def test_publish_dry_run_is_honest_and_follows_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IG_ACCESS_TOKEN", "IG_USER_ID", "IGPREFLIGHT_BUCKET", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    jpeg(tmp_path / "a.jpg")
    (tmp_path / "posts.toml").write_text(
        f'[[post]]\nid = "spam"\ncaption = "{HASHTAGS}"\nmedia = ["a.jpg"]\n\n'
        '[[post]]\nid = "ok"\ncaption = "fine"\nmedia = ["a.jpg"]\n'
    )
    monkeypatch.chdir(tmp_path)
    size = (tmp_path / "a.jpg").stat().st_size
    # no token, no user id, no bucket: a dry run needs none of them
    r = run("publish", "posts.toml", "--dry-run")
    assert r.exit_code == 1, r.output  # as `publish` would: the spam post fails
    assert f"would upload a.jpg ({size:,} bytes)" in r.output
    assert "POST002" in r.output and "refused" in r.output
    real = run("publish", "posts.toml", "--bucket", "b", "--graph-url", "http://127.0.0.1:9")
    assert real.exit_code == 2  # no token: the real publish is a usage error...
    (tmp_path / "igpreflight.toml").write_text('ignore = ["POST002", "POST004"]\n')
    r = run("publish", "posts.toml", "--dry-run")
    assert r.exit_code == 0 and "POST002" not in r.output, r.output  # ...the config applies


def test_run_dry_run_follows_the_configuration(tmp_path: Path, monkeypatch) -> None:
    for name in ("IG_ACCESS_TOKEN", "IG_USER_ID", "IGPREFLIGHT_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    jpeg(tmp_path / "stories" / "s.jpg", (1080, 1920))
    (tmp_path / "igpreflight.toml").write_text('[roles]\n"stories/**" = "story"\n')
    monkeypatch.chdir(tmp_path)
    r = run("run", "stories", "--dry-run", "--format", "json")
    assert r.exit_code == 0, r.output
    assert '"media_type": "STORIES"' in r.output and "would upload" in r.output
    r = run("run", "stories", "--dry-run", "--format", "json", "--isolated")
    assert r.exit_code == 0 and '"media_type": "IMAGE"' in r.output, r.output

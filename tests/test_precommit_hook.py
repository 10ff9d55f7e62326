"""The shipped pre-commit hook, run by the real `pre-commit` tool the way the docs say
(docs/ci.md): their `.pre-commit-config.yaml` in a throwaway content repo, pointed at a
git snapshot of this checkout, pinned with `pre-commit autoupdate`, then run.

The hook's virtualenv is built once (pip-installing igpreflight and its dependencies
from the package index, about 45 s) and reused by every run of the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from igpreflight.commands.precommit import hook_extensions
from tests.repo_snapshot import GIT_ENV, ROOT, git, snapshot_repo

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
CI_PAGE = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "pre-commit-config.yaml"


def _hook() -> dict:
    (hook,) = [h for h in HOOKS if h["id"] == "igpreflight-check"]
    return hook


def _readme_config() -> str:
    (block,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", CI_PAGE, re.S) if "igpreflight-check" in b
    ]
    return block


def test_hook_definition_covers_the_media_extensions() -> None:
    hook = _hook()
    assert hook["entry"].split()[:2] == ["igpreflight", "check"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["verbose"] is True  # a passing hook's warnings are shown
    files = re.compile(hook["files"])
    assert hook["entry"].split()[-1] == "--pre-commit"  # staged names stay file names
    for ext in hook_extensions():
        assert files.search(f"assets/photo.{ext}"), ext
        assert files.search(f"assets/PHOTO.{ext.upper()}"), ext
    for name in ("src/app.ts", "README.md", "photo.jpg.txt", "jpg", "notes.jpgx"):
        assert not files.search(name), name


def test_readme_and_example_configs_agree() -> None:
    readme = yaml.safe_load(_readme_config())["repos"]
    example = yaml.safe_load(EXAMPLE.read_text())["repos"]
    assert [(r["repo"], r["rev"]) for r in readme] == [(r["repo"], r["rev"]) for r in example]
    assert [h["id"] for r in example for h in r["hooks"]] == ["igpreflight-check"]


def _content_repo(root: Path) -> None:
    root.mkdir()
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(root / "good.jpg", quality=90)
    Image.new("RGB", (2000, 1500), (200, 180, 40)).save(root / "wide.jpg", quality=90)
    Image.new("RGB", (400, 1600), (20, 80, 140)).save(root / "tall.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (90, 160, 60)).save(root / "square.webp", quality=90)
    git("init", "-q", cwd=root)
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "media", cwd=root)


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A git snapshot of this checkout and a PRE_COMMIT_HOME that the module's tests
    share, so the hook's virtualenv is built once."""
    root = tmp_path_factory.mktemp("hook")
    return snapshot_repo(root / "igpreflight"), root / "pre-commit-home"


def _pre_commit(home: Path, content: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(home),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }
    env.pop("IGPREFLIGHT_FFMPEG", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=content,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


def test_readme_hook_pins_with_autoupdate_and_runs(
    tmp_path: Path, hook_home: tuple[Path, Path]
) -> None:
    source, home = hook_home
    content = tmp_path / "content"
    _content_repo(content)
    config = _readme_config().replace("https://github.com/OWNER/igpreflight", str(source))
    (content / ".pre-commit-config.yaml").write_text(config)

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return _pre_commit(home, content, *args)

    # `rev: main` works as written; `pre-commit autoupdate` pins it to the commit sha.
    done = pre_commit("autoupdate")
    assert done.returncode == 0, done.stdout
    (repo,) = yaml.safe_load((content / ".pre-commit-config.yaml").read_text())["repos"]
    assert repo["rev"] == git("rev-parse", "HEAD", cwd=source)

    passing = pre_commit("run", "--files", "good.jpg", "wide.jpg")
    assert passing.returncode == 0, passing.stdout
    assert re.search(r"igpreflight check.*Passed", passing.stdout), passing.stdout
    # the hook passed and its warning is still on screen (the hook is verbose)
    assert "wide.jpg" in passing.stdout and "IMG004" in passing.stdout, passing.stdout

    failing = pre_commit("run", "--files", "tall.jpg", "square.webp")
    out = failing.stdout
    assert failing.returncode == 1, out
    assert re.search(r"igpreflight check.*Failed", out), out
    assert "tall.jpg" in out and "IMG003" in out, out  # 1:4 is taller than 4:5
    assert "square.webp" in out and "IMG002" in out, out  # WebP is not accepted
    assert "good.jpg" not in out

    # the content repo's configuration holds for the hook too
    (content / "pyproject.toml").write_text('[tool.igpreflight]\nignore = ["IMG002"]\n')
    configured = pre_commit("run", "--files", "square.webp")
    assert configured.returncode == 0, configured.stdout
    assert "1 ignored" in configured.stdout and "IMG002" not in configured.stdout


def _pinned_config(source: Path, extra: str = "") -> str:
    rev = git("rev-parse", "HEAD", cwd=source)
    return (
        f"repos:\n  - repo: {source}\n    rev: {rev}\n"
        f"    hooks:\n      - id: igpreflight-check\n{extra}"
    )


def test_staged_names_are_file_names_even_with_a_leading_dash(
    tmp_path: Path, hook_home: tuple[Path, Path]
) -> None:
    # pre-commit appends the staged names with no `--`: `-oops.webp` at the root was
    # read as `-o ops.webp`, so the report went to a new file and the WebP passed.
    source, home = hook_home
    content = tmp_path / "content"
    content.mkdir()
    Image.new("RGB", (1080, 1080), (90, 160, 60)).save(content / "-oops.webp")
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(content / "-q.jpg", quality=90)
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(content / "good.jpg", quality=90)
    (content / ".pre-commit-config.yaml").write_text(_pinned_config(source))
    git("init", "-q", cwd=content)
    git("add", "-A", cwd=content)

    done = _pre_commit(home, content, "run", "--all-files")
    out = done.stdout
    assert done.returncode == 1, out
    assert "-oops.webp  (image as feed: WEBP" in out and "IMG002" in out, out
    assert "-q.jpg  (image as feed: JPEG" in out, out
    assert not (content / "ops.webp").exists()  # no report written over a media name


def test_files_pattern_of_the_repository_narrows_without_feeding_other_files(
    tmp_path: Path, hook_home: tuple[Path, Path]
) -> None:
    # `files: ^posts/` (the example config's "only some folders") replaces the hook's
    # extension pattern: README.md was then checked as media and failed (FILE001).
    source, home = hook_home
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts" / "README.md").write_text("# what to post this week\n")
    (content / "posts" / "notes.txt").write_text("caption ideas\n")
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(content / "posts" / "a.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (90, 160, 60)).save(content / "elsewhere.webp")
    config = _pinned_config(source, "        files: ^posts/\n")
    (content / ".pre-commit-config.yaml").write_text(config)
    git("init", "-q", cwd=content)
    git("add", "-A", cwd=content)

    done = _pre_commit(home, content, "run", "--all-files")
    out = done.stdout
    assert done.returncode == 0, out
    assert "posts/a.jpg  (image as feed: JPEG" in out, out
    assert "README" not in out and "notes.txt" not in out and "FILE001" not in out, out
    assert "elsewhere.webp" not in out  # outside posts/: not the hook's

    (content / "posts" / "a.jpg").unlink()
    git("add", "-A", cwd=content)
    only_text = _pre_commit(home, content, "run", "--all-files")  # no media left at all
    assert only_text.returncode == 0, only_text.stdout
    assert "0 files: 0 errors" in only_text.stdout, only_text.stdout

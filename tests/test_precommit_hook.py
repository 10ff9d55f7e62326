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

import yaml
from PIL import Image

from igpreflight.formats import media_extensions
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
    for ext in media_extensions() - {"ts"}:
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


def test_readme_hook_pins_with_autoupdate_and_runs(tmp_path: Path) -> None:
    source = snapshot_repo(tmp_path / "igpreflight")
    content = tmp_path / "content"
    _content_repo(content)
    config = _readme_config().replace("https://github.com/OWNER/igpreflight", str(source))
    (content / ".pre-commit-config.yaml").write_text(config)
    env = {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }
    env.pop("IGPREFLIGHT_FFMPEG", None)

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", *args],
            cwd=content,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )

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

"""The shipped pre-commit hook, run by the real `pre-commit` tool against a throwaway repo.

`pre-commit try-repo` snapshots this repository's working tree, builds the hook's
virtualenv (pip-installing igpreflight and its dependencies from the package
index, about 45 s) and runs the hook on the files given. The good and the bad
run each need their own environment, so they run side by side.
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

from igpreflight.formats import media_extensions

REPO = Path(__file__).resolve().parents[1]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
GIT_ENV = {
    "GIT_AUTHOR_NAME": "igpreflight tests",
    "GIT_AUTHOR_EMAIL": "tests@igpreflight.invalid",
    "GIT_COMMITTER_NAME": "igpreflight tests",
    "GIT_COMMITTER_EMAIL": "tests@igpreflight.invalid",
}


def _hook() -> dict:
    (hook,) = [h for h in HOOKS if h["id"] == "igpreflight-check"]
    return hook


def test_hook_definition_covers_the_media_extensions() -> None:
    hook = _hook()
    assert hook["entry"].split()[:2] == ["igpreflight", "check"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for ext in media_extensions() - {"ts"}:
        assert files.search(f"assets/photo.{ext}"), ext
        assert files.search(f"assets/PHOTO.{ext.upper()}"), ext
    for name in ("src/app.ts", "README.md", "photo.jpg.txt", "jpg", "notes.jpgx"):
        assert not files.search(name), name


def _content_repo(root: Path) -> None:
    root.mkdir()
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(root / "good.jpg", quality=90)
    Image.new("RGB", (400, 1600), (20, 80, 140)).save(root / "tall.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (90, 160, 60)).save(root / "square.webp", quality=90)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "media"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(
    subprocess.run(["git", "-C", str(REPO), "rev-parse"], capture_output=True).returncode != 0,
    reason="try-repo needs this project to be a git checkout",
)
def test_try_repo_passes_a_good_image_and_fails_bad_ones(tmp_path: Path) -> None:
    content = tmp_path / "content"
    _content_repo(content)

    def start(name: str, files: list[str]) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            **GIT_ENV,
            "PRE_COMMIT_HOME": str(tmp_path / f"pre-commit-home-{name}"),
            "PRE_COMMIT_COLOR": "never",
            "NO_COLOR": "1",
        }
        env.pop("IGPREFLIGHT_FFMPEG", None)
        cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "igpreflight-check"]
        return subprocess.Popen(
            [*cmd, "--verbose", "--files", *files],
            cwd=content,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    good = start("good", ["good.jpg"])
    bad = start("bad", ["tall.jpg", "square.webp"])
    good_out, _ = good.communicate(timeout=600)
    bad_out, _ = bad.communicate(timeout=600)

    assert good.returncode == 0, good_out
    assert re.search(r"igpreflight check.*Passed", good_out), good_out
    assert bad.returncode == 1, bad_out
    assert re.search(r"igpreflight check.*Failed", bad_out), bad_out
    assert "tall.jpg" in bad_out and "IMG003" in bad_out, bad_out  # 1:4 is taller than 4:5
    assert "square.webp" in bad_out and "IMG002" in bad_out, bad_out  # WebP is not accepted
    assert "good.jpg" not in bad_out

"""A git repository holding this checkout's files as they are now (branch main, one
commit): what pre-commit clones and what GitHub checks out as `github.action_path`,
so tests of the hook and the action use the working tree, not the last commit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "igpreflight tests",
    "GIT_AUTHOR_EMAIL": "tests@igpreflight.invalid",
    "GIT_COMMITTER_NAME": "igpreflight tests",
    "GIT_COMMITTER_EMAIL": "tests@igpreflight.invalid",
}


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip()


def files_of_checkout() -> list[str]:
    """Tracked and new (not ignored) files of this checkout; without git, every file."""
    try:
        listed = git("ls-files", "-z", "-co", "--exclude-standard", cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts
        ]
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def snapshot_repo(dest: Path) -> Path:
    """Copy the checkout's files to `dest` and commit them there on branch main."""
    for name in files_of_checkout():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest

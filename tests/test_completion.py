"""Shell completion as the docs document it (docs/terminal.md; click's _IGPREFLIGHT_COMPLETE)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TERMINAL_PAGE = (ROOT / "docs" / "terminal.md").read_text(encoding="utf-8")


def _igpreflight(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from igpreflight.launch import main; main()"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_readme_completion_lines_produce_scripts_that_complete() -> None:
    modes = re.findall(r"_IGPREFLIGHT_COMPLETE=(\w+)_source igpreflight", TERMINAL_PAGE)
    assert set(modes) == {"bash", "zsh", "fish"}
    for shell in modes:
        script = _igpreflight({"_IGPREFLIGHT_COMPLETE": f"{shell}_source"})
        assert "_IGPREFLIGHT_COMPLETE" in script, shell
    words = {"COMP_WORDS": "igpreflight ch", "COMP_CWORD": "1"}
    out = _igpreflight({"_IGPREFLIGHT_COMPLETE": "bash_complete", **words})
    assert out.split() == ["plain,check", "plain,check-url"]
    words = {"COMP_WORDS": "igpreflight check --as s", "COMP_CWORD": "3"}
    out = _igpreflight({"_IGPREFLIGHT_COMPLETE": "bash_complete", **words})
    assert out.split() == ["plain,story"]

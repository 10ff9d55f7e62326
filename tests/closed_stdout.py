"""Run the real command with file descriptor 1 closed, as `igpreflight ... >&-` does
(or a daemon that spawns it with no stdout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLOSE_STDOUT = ["sh", "-c", 'exec "$@" >&-', "sh"]


def run_without_stdout(
    *args: str, cwd: Path, input: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m igpreflight ARGS >&-`: its exit code and stderr."""
    done = subprocess.run(
        [*CLOSE_STDOUT, sys.executable, "-m", "igpreflight", *args],
        input=input,
        stderr=subprocess.PIPE,
        cwd=cwd,
        timeout=120,
        env=dict(os.environ),
    )
    return subprocess.CompletedProcess(done.args, done.returncode, None, done.stderr.decode())


NOT_WRITTEN = "igpreflight: error: stdout is closed: the report was not written\n"

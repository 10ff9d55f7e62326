"""The API never prints: the docs trial's `publish()` from a plain script (no logging
configured) wrote "post default/bad1 failed: refused by preflight..." on stderr, the
engine's log warning reaching Python's last-resort handler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import logging
from igpreflight import publish

result = publish("posts.toml", graph_url="http://127.0.0.1:9", allow_private=True)
print(result.outcomes[0].status.value)
logging.getLogger("caller").warning("the caller's own warning")
"""


def test_publish_from_a_script_without_logging_prints_nothing(tmp_path: Path) -> None:
    # A media URL nothing answers: preflight refuses the post before any Graph call.
    (tmp_path / "posts.toml").write_text(
        '[[post]]\nid = "bad1"\nmedia = ["http://127.0.0.1:9/a.jpg"]\ncaption = "x"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "IG_ACCESS_TOKEN": "token-for-a-quiet-test", "IG_USER_ID": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "failed"
    # Only the caller's own record reaches the last-resort handler.
    assert done.stderr == "the caller's own warning\n"

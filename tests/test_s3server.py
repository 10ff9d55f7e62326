"""`python -m fixtures.s3server`: a local S3 a newcomer can try upload with, as the
README shows: start it, copy its export lines into a shell, upload."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.repo_snapshot import ROOT


def test_s3server_prints_exports_that_upload_works_with(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "fixtures.s3server", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in server.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("# then"):
                break
        shell = {**env}
        for line in lines:
            words = shlex.split(line)
            if words[:1] == ["unset"]:
                for name in words[1:]:
                    shell.pop(name, None)
            elif words[:1] == ["export"]:
                name, _, value = words[1].partition("=")
                shell[name] = value
        assert shell["AWS_ENDPOINT_URL_S3"].startswith("http://127.0.0.1:"), lines
        Image.new("RGB", (1080, 1350), (200, 80, 40)).save(tmp_path / "a.jpg", quality=90)
        done = subprocess.run(
            [sys.executable, "-m", "igpreflight", "upload", "a.jpg", "--allow-private"]
            + ["--acl", "public-read"],
            cwd=tmp_path,
            env=shell,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "uploaded: s3://igpreflight-demo/" in done.stdout
        assert "1 passing, 0 failing" in done.stdout  # served back over HTTP, bytes equal
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0

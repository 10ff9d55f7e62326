"""Accounts files and manifests are read to a bound: devices, FIFOs, folders and huge
files are one usage-error line, never an endless read or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from igpreflight.boundedread import InputError, read_bounded
from igpreflight.preflight.manifest import MAX_MANIFEST_BYTES, ManifestError, load_manifest
from igpreflight.publish.accounts import AccountError, load_accounts

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "igpreflight", *args],
        capture_output=True,
        input=stdin,
        timeout=60,  # a hang (a FIFO read) or a 4 GB read would blow this
        env={**os.environ, "IG_ACCESS_TOKEN": "t0k3n-for-tests", "IG_USER_ID": "1", **(env or {})},
    )


def one_error_line(done: subprocess.CompletedProcess, says: str) -> None:
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("igpreflight: error: "), err
    assert says in errors[0], err


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    (tmp_path / "a.jpg").write_bytes((MEDIA / "feed-ok.jpg").read_bytes())
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": [{"id": "a", "account": "brand", "media": ["a.jpg"]}]}))
    return path


def _bad_accounts(tmp_path: Path) -> list[tuple[str, str]]:
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as f:
        f.truncate(3 * 1024**3)  # 3 GB, sparse: its size alone refuses it
    cases = [
        ("/dev/zero", "is not a regular file"),
        (str(tmp_path), "is a folder"),
        (str(huge), "is larger than 1 MB"),
    ]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "accounts.fifo"
        os.mkfifo(fifo)  # no writer: a blocking read would wait forever
        cases.append((str(fifo), "is not a regular file"))
    return cases


def test_an_accounts_file_that_is_not_a_small_file_is_a_usage_error(tmp_path, manifest):
    for where, says in _bad_accounts(tmp_path):
        with pytest.raises(AccountError, match=says):
            load_accounts(where)
        one_error_line(cli("publish", str(manifest), "--accounts", where), says)
        one_error_line(cli("publish", str(manifest), env={"IGPREFLIGHT_ACCOUNTS": where}), says)
    one_error_line(cli("worker", "--until-idle", "--accounts", "/dev/zero"), "not a regular")


@needs_fifo
def test_a_fifo_that_never_ends_is_read_to_the_bound_only(tmp_path):
    """The writer is stopped by the reader closing the pipe once it holds limit + 1
    bytes: what it managed to write is the pipe's buffer past that, not the stream."""
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    written = [0]

    def endless() -> None:
        try:
            with open(fifo, "wb", buffering=0) as out:
                while True:
                    written[0] += out.write(b"x" * 65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    with pytest.raises(InputError, match="larger than 100000 bytes"):
        read_bounded(fifo, 100_000, "manifest")
    writer.join(10)
    assert not writer.is_alive() and written[0] < 100_000 + 4 * 1024 * 1024


@needs_fifo
def test_a_manifest_through_a_fifo_is_read(tmp_path):
    """`check --manifest <(generate)`: a pipe with a writer is read to its end."""
    (tmp_path / "a.jpg").write_bytes((MEDIA / "feed-ok.jpg").read_bytes())
    fifo = tmp_path / "posts.json"
    os.mkfifo(fifo)
    doc = json.dumps({"post": [{"id": "a", "media": ["a.jpg"]}]}).encode()

    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(doc)

    threading.Thread(target=write, daemon=True).start()
    (post,) = load_manifest(fifo)
    assert post.id == "a" and post.media[0].problem is None


def test_a_manifest_that_is_a_device_a_folder_or_too_big_is_a_usage_error(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_MANIFEST_BYTES + 1)
    for where, says in (
        ("/dev/zero", "is larger than 16 MB"),
        (str(tmp_path), "is a folder"),
        (str(big), "is larger than 16 MB"),
    ):
        with pytest.raises(ManifestError, match=says):
            load_manifest(where)
        one_error_line(cli("check", "--manifest", where), says)
    endless = b"[" + b" " * (MAX_MANIFEST_BYTES + 10)
    one_error_line(cli("check", "--manifest", "-", stdin=endless), "stdin is larger than 16 MB")

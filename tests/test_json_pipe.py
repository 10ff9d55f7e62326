"""`igpreflight check --manifest - --format json` as another language drives it: a
real process, JSON written to its stdin and the report read from its stdout, with
the environments such callers run it in (a locale that is not UTF-8, a container's
PYTHONUNBUFFERED=1) and the mistakes they make (nothing written, stdin closed, a BOM,
bytes that are not UTF-8, a reader that stops early)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from igpreflight.api.errors import ManifestError
from tests.closed_stdout import NOT_WRITTEN, run_without_stdout

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
CHECK = [sys.executable, "-m", "igpreflight", "check", "--manifest", "-", "--format", "json"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(MEDIA / "feed-ok.jpg", tmp_path / "a.jpg")
    return tmp_path


def pipe(folder: Path, stdin: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        CHECK,
        input=stdin,
        capture_output=True,
        cwd=folder,
        timeout=120,
        env={**os.environ, **env},
    )


def started(folder: Path, **env: str) -> subprocess.Popen[bytes]:
    """`check --manifest -` running, every pipe the test's to write, read or close."""
    return subprocess.Popen(
        CHECK,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=folder,
        env={**os.environ, **env},
    )


def one_error(done: subprocess.CompletedProcess[bytes]) -> str:
    """The one error line of a usage error (exit 2), never an internal error."""
    err = done.stderr.decode()
    lines = [line for line in err.splitlines() if line.startswith("igpreflight: error: ")]
    assert done.returncode == 2 and len(lines) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


def manifest(caption: str) -> bytes:
    doc = {"post": [{"media": ["a.jpg"], "caption": caption}]}
    return json.dumps(doc, ensure_ascii=False).encode()  # as JSON.stringify writes it


def test_a_utf8_caption_is_read_as_utf8_whatever_the_locale_says(folder):
    """600 emoji are 600 characters (POST001 allows 2200); read through a Latin-1
    stdin they were 2400 characters of mojibake, and a caption that fits was refused
    (or, shorter, passed as mojibake)."""
    caption = "\U0001f600" * 600
    for env in ({}, {"PYTHONIOENCODING": "latin-1"}, {"PYTHONIOENCODING": "cp1252"}):
        done = pipe(folder, manifest(caption), **env)
        assert done.returncode == 0, (env, done.stdout[-600:], done.stderr)
        assert json.loads(done.stdout)["summary"]["errors"] == 0


def test_a_bom_is_dropped_and_bytes_that_are_not_utf8_are_one_clear_line(folder):
    bom = pipe(folder, b"\xef\xbb\xbf" + manifest("hello"))
    assert bom.returncode == 0, bom.stderr
    latin1 = pipe(folder, manifest("caf\u00e9").replace("\u00e9".encode(), b"\xe9"))
    assert "stdin is not UTF-8 text (byte 0xe9 on line 1)" in one_error(latin1)


@pytest.mark.parametrize("stdin", [b"", b" \n\t "])
def test_nothing_on_stdin_says_so(folder, stdin):
    assert "stdin is empty" in one_error(pipe(folder, stdin))


@pytest.mark.parametrize("cut", [1, 20, 28])
def test_a_manifest_cut_short_says_so(folder, cut):
    """A writer that closed stdin early got "Expecting property name enclosed in double
    quotes" or "Unterminated string starting at", as if a character were wrong."""
    doc = b'{"post": [{"media": ["a.jpg"]}]}'
    assert "the JSON ends before it is complete" in one_error(pipe(folder, doc[:cut]))
    assert "invalid JSON: Extra data" in one_error(pipe(folder, doc + b"}"))


def test_a_closed_stdin_is_a_usage_error_not_a_bug(folder):
    done = subprocess.run(
        CHECK,
        capture_output=True,
        cwd=folder,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),  # the child starts with no file descriptor 0
    )
    assert "stdin is closed" in one_error(done)


def test_a_json_file_that_is_not_utf8_is_refused_not_given_replacement_characters(folder):
    """It was decoded with errors="replace": the caption went on with U+FFFD in it."""
    from igpreflight import check

    path = folder / "posts.json"
    path.write_bytes(manifest("caf\u00e9").replace("\u00e9".encode(), b"\xe9"))
    with pytest.raises(ManifestError, match=r"posts.json is not UTF-8 text \(byte 0xe9"):
        check(manifest=path)
    path.write_bytes(b"\xef\xbb\xbf" + manifest("caf\u00e9"))
    assert not check(manifest=path).errors


def test_a_reader_that_stops_early_never_sees_exit_0_even_unbuffered(folder):
    """With PYTHONUNBUFFERED=1 the report went to the pipe in one write that came
    back short when the reader closed its end: the rest was dropped and the command
    exited 0, as if the report had been read. Now it exits 1 quietly, as it does
    buffered, and a reader that reads it all gets it all."""
    posts = [{"id": f"{i:0200d}", "media": ["a.jpg"]} for i in range(1000)]
    doc = json.dumps({"post": posts}).encode()
    for env in ({"PYTHONUNBUFFERED": "1"}, {"PYTHONUNBUFFERED": ""}):
        whole = pipe(folder, doc, **env)
        assert whole.returncode == 0 and len(json.loads(whole.stdout)["posts"]) == 1000
        assert len(whole.stdout) > 4 * 65536  # more than a pipe holds
        proc = started(folder, **env)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(doc)
        proc.stdin.close()
        assert proc.stdout.read(10) == b'{\n  "versi'
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 1, env
        assert err == b"", err


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_usage_error_exits_2_when_the_reader_of_stderr_is_gone(folder, unbuffered):
    """The error line hit a closed pipe: it raised out of the boundary (exit 1) or
    failed the flush at exit (exit 120), so the caller could not tell a bad manifest."""
    proc = started(folder, PYTHONUNBUFFERED=unbuffered)
    assert proc.stderr is not None
    proc.stderr.close()
    out, _ = proc.communicate(b'{"post": [', timeout=120)
    assert proc.returncode == 2 and out == b""


def test_a_closed_stdout_is_exit_1_not_a_silent_pass(folder):
    """Started with no file descriptor 1, the report went nowhere and the command
    exited 0: the caller read "no errors". Now it exits 1 and says why on stderr."""
    doc = b'{"post": [{"media": ["a.jpg"]}]}'
    done = run_without_stdout(*CHECK[3:], cwd=folder, input=doc)
    assert done.returncode == 1 and done.stderr == NOT_WRITTEN

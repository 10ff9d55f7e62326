"""POST021: lone UTF-16 surrogates and NUL in a post's text are refused before
anything is queued, and every report shows them escaped instead of crashing."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
HALF = "\ud83d"  # the first half of an emoji, as JavaScript's "😀".slice(0, 1) leaves it


def _manifest(folder: Path, posts: list[dict], name: str = "posts.json") -> Path:
    """Written as JSON does it: the surrogate as the escape \\ud83d (ensure_ascii)."""
    path = folder / name
    path.write_text(json.dumps({"post": posts}))
    return path


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(MEDIA / "feed-ok.jpg", tmp_path / "a.jpg")
    return tmp_path


def _post21(report) -> dict[str, list[str]]:
    return {p.post.id: [f.message for f in p.findings if f.rule == "POST021"] for p in report.posts}


def test_every_text_field_is_checked_and_clean_text_passes(folder):
    from igpreflight import check

    tag = {"username": f"ana{HALF}", "x": 0.5, "y": 0.5}
    posts = [
        {"id": "caption", "caption": f"hi {HALF}", "media": ["a.jpg"]},
        {"id": "nul", "caption": "a\x00b", "media": ["a.jpg"]},
        {"id": "alt", "alt_text": f"x{HALF}", "media": ["a.jpg"]},
        {"id": "collab", "collaborators": ["ok", f"b{HALF}"], "media": ["a.jpg"]},
        {"id": "tag", "media": [{"path": "a.jpg", "user_tags": [tag]}]},
        {"id": "product", "product_tags": [{"product_id": "1\x00"}], "media": ["a.jpg"]},
        {"id": "place", "location_id": f"7{HALF}", "media": ["a.jpg"]},
        {"id": "audio", "audio_name": f"song{HALF}", "media": ["a.jpg"]},
        {"id": "child", "media": [{"path": "a.jpg", "alt_text": f"{HALF}"}, "a.jpg"]},
        {"id": f"id{HALF}", "media": ["a.jpg"]},
        {"id": "fine", "caption": "Launch day 😀 #新 café \u200d\U0001f469", "media": ["a.jpg"]},
    ]
    found = _post21(check(manifest=_manifest(folder, posts)))
    expected = {
        "caption": "caption holds a lone UTF-16 surrogate \\ud83d at character 4",
        "nul": "caption holds a NUL character \\u0000 at character 2",
        "alt": "alt_text holds a lone UTF-16 surrogate",
        "collab": "collaborator #2 holds",
        "tag": "user tag #1 of media #1 (username) holds",
        "product": "product tag #1 (product_id) holds a NUL character",
        "place": "location_id holds",
        "audio": "audio_name holds",
        "child": "alt_text of media #1 holds",
        f"id{HALF}": "the post id holds a lone UTF-16 surrogate \\ud83d at character 3",
    }
    for post_id, start in expected.items():
        assert len(found[post_id]) == 1 and found[post_id][0].startswith(start), found[post_id]
        assert HALF not in found[post_id][0] and "\x00" not in found[post_id][0]
    assert found["fine"] == []


def test_the_rule_is_registered_like_the_others():
    from igpreflight.catalog import RULES
    from igpreflight.model import Severity

    info = RULES["POST021"]
    assert info.severity is Severity.ERROR and not info.fixable
    assert (info.graph_code, info.graph_subcode) == (None, None)
    listed = CliRunner().invoke(cli, ["rules", "--format", "json"])
    assert "POST021" in listed.output
    explained = CliRunner().invoke(cli, ["explain", "POST021"])
    assert explained.exit_code == 0 and "surrogate" in explained.output


def test_toml_and_stdin_reach_the_rule_too(folder):
    """TOML cannot spell a surrogate (tomllib refuses \\ud83d: a usage error), but it
    can spell NUL; JSON on stdin can spell both."""
    toml = folder / "posts.toml"
    toml.write_text('[[post]]\nid = "t"\ncaption = "a\\u0000b"\nmedia = ["a.jpg"]\n')
    r = CliRunner().invoke(cli, ["check", "--manifest", str(toml)])
    assert r.exit_code == 1 and "POST021" in r.output and "\\u0000" in r.output
    toml.write_text('[[post]]\nid = "t"\ncaption = "a\\ud83d"\nmedia = ["a.jpg"]\n')
    r = CliRunner().invoke(cli, ["check", "--manifest", str(toml)])
    assert r.exit_code == 2 and "not a Unicode scalar value" in r.output
    doc = json.dumps({"post": [{"id": "s", "caption": f"a{HALF}", "media": ["a.jpg"]}]})
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", "--manifest", "-"],
        input=doc.encode(),
        capture_output=True,
        cwd=folder,
        timeout=120,
    )
    assert done.returncode == 1 and b"POST021" in done.stdout and b"Traceback" not in done.stderr


def test_a_path_or_url_holding_such_a_character_is_file001_and_the_batch_goes_on(folder):
    from igpreflight import check

    posts = [
        {"id": "nulpath", "media": ["a\x00.jpg"]},
        {"id": "badurl", "media": [f"https://cdn.example.com/a{HALF}.jpg"]},
        {"id": "ok", "media": ["a.jpg"]},
    ]
    report = check(manifest=_manifest(folder, posts))
    messages = {f.path: [x.message for x in f.findings] for f in report.files}
    assert any("the path holds a NUL character" in m for ms in messages.values() for m in ms)
    assert any("the URL holds a lone UTF-16 surrogate" in m for ms in messages.values() for m in ms)
    assert any(f.path.endswith("a.jpg") and not f.findings for f in report.files)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_every_check_format_prints_the_finding_escaped(folder, fmt):
    """A real process writing to a pipe (strict UTF-8): no traceback, the character
    shown as \\ud83d, and the document still parses (JSON gives the id back as is)."""
    posts = [{"id": f"p{HALF}", "caption": f"x{HALF}\x00", "media": ["a.jpg"]}]
    m = _manifest(folder, posts)
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", "--manifest", str(m), "--format", fmt],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
    out = done.stdout.decode("utf-8")  # strict: would fail on an encoded surrogate
    assert "POST021" in out and "\\ud83d" in out and "\x00" not in out
    if fmt == "json":
        (post,) = json.loads(out)["posts"]
        assert post["id"] == f"p{HALF}"  # the escape reads back as the same text
    elif fmt == "sarif":
        json.loads(out)
    elif fmt == "junit":
        ET.fromstring(out.split("\n", 1)[1])


def test_the_html_review_shows_such_text_escaped(tmp_path):
    """The fix review page of a real fix, its finding messages and names holding a
    lone surrogate (what os.fsdecode makes of a name that is not UTF-8)."""
    from dataclasses import replace

    from igpreflight import fix
    from igpreflight.report.html import render_fix_report

    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGBA", (600, 900), "teal").save(src / "a.png")
    (result,) = fix([src], tmp_path / "out").files
    odd = os.fsdecode(b"bad\xff.png")
    before = [replace(f, message=f"{f.message} ({HALF})") for f in result.before]
    report = tmp_path / "review.html"
    render_fix_report([replace(result, source=str(src / odd), before=before)], report)
    page = report.read_bytes().decode("utf-8")  # strict
    assert "bad\\udcff.png" in page and "(\\ud83d)" in page


def _env(emu) -> dict[str, str]:
    return {
        "IG_ACCESS_TOKEN": FAKE_TOKEN,
        "IG_USER_ID": emu.user_id,
        "IGPREFLIGHT_GRAPH_URL": emu.url,
    }


FAST = ["--first-wait", "0.05", "--max-wait", "0.2", "--allow-private"]


@pytest.mark.parametrize("command", ["publish", "run"])
def test_publish_and_run_refuse_that_post_before_any_call_and_go_on(
    emu, media, tmp_path, command, caplog
):
    posts = [
        {
            "id": "half",
            "media_type": "IMAGE",
            "caption": f"launch {HALF}",
            "media": [media.url_for("feed.jpg")],
        },
        {"id": f"odd{HALF}", "media_type": "IMAGE", "media": [media.url_for("square.jpg")]},
        {
            "id": "ok",
            "media_type": "IMAGE",
            "caption": "launch 😀",
            "media": [media.url_for("feed.jpg")],
        },
    ]
    m = _manifest(tmp_path, posts)
    r = CliRunner().invoke(cli, [command, str(m), *FAST], env=_env(emu))
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    # publish reports them failed [fix-media] on stdout; run says they stopped at
    # check, on stderr
    said = r.stdout + r.stderr
    (half,) = [line for line in said.splitlines() if "half" in line and "POST021" in line]
    assert "\\ud83d" in half and ("[fix-media]" in half or "stopped at check" in half)
    assert [line for line in said.splitlines() if "odd\\ud83d" in line and "POST021" in line]
    assert "ok: published" in r.stdout
    [call] = emu.calls("POST", "/media")  # nothing was sent for the refused posts
    assert call["params"]["caption"] == "launch 😀"
    # publish logs each post's end, naming it as the report does, escaped: UTF-8 can
    # carry the records (run stops the post at check, before publishing logs anything)
    assert ("odd\\ud83d" in caplog.text) == (command == "publish")
    caplog.text.encode("utf-8")


def test_a_log_file_takes_a_record_naming_a_lone_surrogate(tmp_path, capsys):
    """A UTF-8 log file (a service's, a journal) fails on a raw lone surrogate, prints
    "--- Logging error ---" and loses the record; our loggers escape it first."""
    handler = logging.FileHandler(tmp_path / "igp.log", encoding="utf-8")
    log = logging.getLogger("igpreflight.publish")
    log.addHandler(handler)
    try:
        log.warning("post %s failed", f"default/odd{HALF}")
    finally:
        log.removeHandler(handler)
        handler.close()
    assert (tmp_path / "igp.log").read_text() == "post default/odd\\ud83d failed\n"
    assert "Logging error" not in capsys.readouterr().err


def test_one_line_escapes_what_a_terminal_acts_on_and_keeps_the_rest() -> None:
    from igpreflight.textcheck import one_line

    assert one_line("new\nline\r\t.webp") == "new\\nline\\r\\t.webp"
    assert one_line("a\x1b[31m\x07\x7f\x9b") == "a\\x1b[31m\\x07\\x7f\\x9b"
    assert one_line("gpj.\u202eexe") == "gpj.\\u202eexe"  # a bidi override reorders the name
    keep = "café 👩\u200d💻 é ü 中文 \\n"  # emoji joiners, accents (NFD too), a real backslash
    assert one_line(keep) == keep

"""The terminal module: progress that never passes its total, lines above the bar,
colour rules, -q, and the same seen through a real pseudo-terminal."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pty_run import run_on_pty

from fixtures import generate
from igpreflight.cli import COMMANDS, cli
from igpreflight.redaction import register_secret
from igpreflight.terminal import CI_VARIABLES, Terminal
from igpreflight.terminal_color import color_enabled, paint_report

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN  # noqa: E402

pytest_plugins = ("publish_support",)

COUNTER = re.compile(r"\] (\d+)/(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SGR = re.compile(r"\x1b\[[0-9;]*m")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _interactive_env(monkeypatch):
    for name in (*CI_VARIABLES, "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")


def counters(text: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in COUNTER.findall(text)]


def test_an_item_reported_twice_counts_once_and_the_count_stops_at_the_total():
    out = FakeTty()
    with Terminal(stream=out).progress() as bar:
        bar.start(3)
        for item in ["a", "b", "a", "c", "b"]:
            bar(item)
        bar.advance(5)  # whatever a caller adds, the bar shows at most its total
    seen = counters(out.getvalue())
    assert seen[-1] == (3, 3) and all(n <= total for n, total in seen)
    assert out.getvalue().endswith("\r\x1b[K")  # taken off the screen when closed


def test_lines_are_printed_above_the_bar_which_is_drawn_again_below():
    out = FakeTty()
    term = Terminal(stream=out, verbosity=1, color="never")
    with term.progress(2) as bar, term.logging():
        bar("one.jpg")
        logging.getLogger("igpreflight.publish").info("post %s published", "p1")
        term.warning("something to know")
    text = out.getvalue()
    log_at = text.index("igpreflight: info: post p1 published\n")
    # the bar was cleared before the line, and drawn again after it
    assert text[log_at - 4 : log_at] == "\r\x1b[K"
    assert text[log_at:].split("\n")[1].startswith("[##########..........] 1/2 one.jpg")
    assert "igpreflight: warning: something to know\n" in text


def test_nothing_is_drawn_on_a_pipe_or_with_quiet_and_quiet_keeps_errors_only():
    pipe, quiet = Terminal(stream=io.StringIO()), Terminal(stream=FakeTty(), quiet=True)
    for term in (pipe, quiet):
        with term.progress(2) as bar:
            bar("a")
            bar.status("waiting")
        term.warning("a warning")
        term.error("an error")
    assert (
        pipe.stream.getvalue() == "igpreflight: warning: a warning\nigpreflight: error: an error\n"
    )
    assert ANSI.sub("", quiet.stream.getvalue()) == "igpreflight: error: an error\n"


def test_messages_and_log_lines_are_redacted():
    register_secret("s3cr3t-token-value")
    out = io.StringIO()
    term = Terminal(stream=out, verbosity=2)
    with term.logging():
        logging.getLogger("igpreflight.graph").debug("GET ?access_token=s3cr3t-token-value")
    term.error("bad token s3cr3t-token-value")
    assert "s3cr3t" not in out.getvalue() and out.getvalue().count("***") == 2


def test_a_message_naming_a_file_is_one_inert_line():
    """stderr's messages name files too (a missing --config, a path click refuses):
    a newline or escape sequence in the name is shown escaped, never acted on."""
    out = io.StringIO()
    Terminal(stream=out).error("--config /tmp/no\nsuch\x1b]0;owned\x07.toml: no such file")
    assert out.getvalue() == (
        "igpreflight: error: --config /tmp/no\\nsuch\\x1b]0;owned\\x07.toml: no such file\n"
    )


def test_colour_follows_the_flag_then_no_color_then_the_terminal(monkeypatch):
    tty, pipe = FakeTty(), io.StringIO()
    assert color_enabled("auto", tty) and not color_enabled("auto", pipe)
    assert color_enabled("always", pipe) and not color_enabled("never", tty)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_enabled("auto", tty) and color_enabled("always", tty)
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no effect (no-color.org)
    assert color_enabled("auto", tty)
    monkeypatch.setenv("TERM", "dumb")
    assert not color_enabled("auto", tty)


def test_report_colours_only_severity_and_status_words():
    text = "a.jpg  (image)\n  error   IMG003 too wide\n  ok\nb.jpg -> out/b.jpg: converted (x)\n"
    painted = paint_report(text, True)
    assert "\x1b[1;31merror\x1b[0m" in painted and "\x1b[32mok\x1b[0m" in painted
    assert "\x1b[32mconverted\x1b[0m" in painted and ANSI.sub("", painted) == text
    assert paint_report(text, False) == text


# ---- through a real pseudo-terminal ----------------------------------------------------


def test_fix_counter_never_passes_its_total_on_a_terminal_even_when_resuming(tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        generate.make_image(src / f"wide{i}.jpg", size=(400, 100))
    generate.make_image(src / "ok.jpg", size=(400, 500))
    (src / "broken.jpg").write_bytes(b"not an image at all")  # settled before execution
    for run in ("first", "resumed"):
        r = run_on_pty(["fix", str(src), "--out", str(tmp_path / "out")])
        seen = counters(r.stderr)
        assert seen, f"{run}: no progress was drawn: {r.stderr!r}"
        assert all(n <= total == 5 for n, total in seen), (run, seen)
        assert seen[-1] == (5, 5), (run, seen)
        # stdout is piped: the report only, no bar, no escape codes
        assert "\r" not in r.stdout and "\x1b" not in r.stdout
        assert r.stdout.rstrip().splitlines()[-1].startswith("5 files:")


def _manifest(tmp_path: Path, media, n: int) -> Path:
    posts = [
        {"id": f"p{i}", "media_type": "IMAGE", "media": [media.url_for("feed.jpg")]}
        for i in range(n)
    ]
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": posts}))
    return path


def test_publish_shows_its_waits_and_puts_log_lines_above_the_bar(emu, media, tmp_path):
    env = {"IG_ACCESS_TOKEN": FAKE_TOKEN, "IG_USER_ID": emu.user_id}
    args = ["publish", str(_manifest(tmp_path, media, 2)), "--graph-url", emu.url]
    args += ["--allow-private", "--first-wait", "2.5", "--max-wait", "2.5", "-v"]
    r = run_on_pty(args, env=env)
    assert r.returncode == 0, r.stderr
    stderr = SGR.sub("", r.stderr)  # colours off; the bar's clear-line codes stay
    # while Instagram processes a container the bar says so, with the seconds waited
    assert "post p0: Instagram is processing 1 container" in stderr
    assert re.search(r"processing 1 container \(\d+ s\)", stderr)
    seen = counters(stderr)
    assert seen[-1] == (2, 2) and all(n <= total for n, total in seen)
    # -v log lines start on a line of their own (the bar cleared first) and end it
    logs = [m.start() for m in re.finditer(r"igpreflight: info: ", stderr)]
    assert logs, stderr
    for at in logs:
        assert at == 0 or stderr[at - 1] == "\n" or stderr[at - 4 : at] == "\r\x1b[K"
        assert "] " not in stderr[at : stderr.index("\n", at)]  # no bar inside
    assert FAKE_TOKEN not in r.stderr + r.stdout
    assert "\x1b" not in r.stdout and r.stdout.endswith("2 published, 0 failed, 0 queued\n")


def test_quiet_on_a_terminal_draws_nothing_but_errors(tmp_path: Path):
    generate.make_image(tmp_path / "wide.jpg", size=(400, 100))
    r = run_on_pty(["fix", str(tmp_path), "--out", str(tmp_path / "out"), "-q"])
    assert r.returncode == 0 and r.stderr == ""
    assert "1 file" in r.stdout


def test_colour_on_stdout_follows_color_and_no_color(tmp_path: Path):
    generate.make_image(tmp_path / "wide.jpg", size=(400, 100))  # an error: IMG003
    check = ["check", str(tmp_path)]
    piped = run_on_pty([*check, "--color", "always"])
    assert "\x1b[1;31merror\x1b[0m" in piped.stdout  # forced, even into a pipe
    on_tty = run_on_pty(check, stdout_tty=True)
    assert "\x1b[1;31merror\x1b[0m" in on_tty.stderr  # stdout shares the pty here
    no_color = run_on_pty(check, stdout_tty=True, env={"NO_COLOR": "1"})
    assert "error" in no_color.stderr and "\x1b[1;31m" not in no_color.stderr
    never = run_on_pty([*check, "--color", "never"], stdout_tty=True)
    assert "\x1b[1;31m" not in never.stderr
    assert "\x1b" not in run_on_pty(check).stdout  # auto, piped: plain


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_quiet_verbose_and_color(command):
    r = CliRunner().invoke(cli, [command, "--help"])
    assert r.exit_code == 0
    for flag in ("-q, --quiet", "-v, --verbose", "--color [auto|always|never]"):
        assert flag in r.output, (command, flag)


def test_one_error_prefix_for_usage_config_and_refusals(tmp_path: Path):
    runner = CliRunner()
    cases = [
        ["check", "--no-such-option"],
        ["check", str(tmp_path / "missing.jpg")],
        ["fix", str(tmp_path)],  # neither --out nor --in-place
        ["explain", "NOPE"],
        ["publish", str(_empty_manifest(tmp_path))],  # no token in the environment
    ]
    for args in cases:
        r = runner.invoke(cli, args, env={"IG_ACCESS_TOKEN": "", "IG_USER_ID": ""})
        assert r.exit_code in (1, 2), (args, r.output)
        errors = [line for line in r.stderr.splitlines() if "rror" in line]
        assert errors and all(line.startswith("igpreflight: error: ") for line in errors), (
            args,
            r.stderr,
        )
        assert r.stdout == "", (args, r.stdout)  # nothing but a report goes to stdout


def _empty_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"post": [{"id": "a", "media": ["https://example.com/a.jpg"]}]}))
    return path


def test_run_tells_its_stages_before_publishing(tmp_path: Path, monkeypatch):
    from igpreflight import run

    for name in ("IG_ACCESS_TOKEN", "IG_USER_ID"):
        monkeypatch.delenv(name, raising=False)
    generate.make_image(tmp_path / "wide.jpg", size=(400, 100))
    stages: list[str] = []
    run([tmp_path / "wide.jpg"], out=tmp_path / "out", dry_run=True, on_stage=stages.append)
    assert stages == ["checking 1 post", "fixing the media of 1 post"]


def test_a_file_name_with_control_characters_is_shown_escaped_on_one_line(tmp_path: Path):
    """A file name may hold a newline or an escape sequence (this one retitles the
    terminal); printed raw, it split the report's line and reprogrammed the terminal
    of the person reading it (click strips escapes only on a pipe). The text reports
    and the bar show it escaped; JSON keeps the real name."""
    src = tmp_path / "in"
    src.mkdir()
    generate.make_image(src / "new\nline.webp", size=(400, 400))
    generate.make_image(src / "t\x1b]0;owned\x07.jpg", size=(400, 500))
    for args in (["check", str(src)], ["fix", str(src), "--out", str(tmp_path / "out")]):
        r = run_on_pty([*args, "--color", "never"], stdout_tty=True)
        shown = r.stdout + r.stderr  # one terminal: the report, and the bar naming each file
        assert "\x07" not in shown and "\x1b]" not in shown and "new\n" not in shown, shown
        assert "new\\nline.webp" in shown and "t\\x1b]0;owned\\x07.jpg" in shown, shown
    report = CliRunner().invoke(cli, ["check", "--format", "json", str(src)]).output
    assert {Path(f["path"]).name for f in json.loads(report)["files"]} == {
        "new\nline.webp",
        "t\x1b]0;owned\x07.jpg",
    }

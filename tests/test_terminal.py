"""The terminal module: progress that never passes its total, lines above the bar,
colour rules, -q, and the same seen through a real pseudo-terminal."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from pty_run import run_on_pty

from fixtures import generate
from igpreflight.redaction import register_secret
from igpreflight.terminal import CI_VARIABLES, Terminal, color_enabled, paint_report

COUNTER = re.compile(r"\] (\d+)/(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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

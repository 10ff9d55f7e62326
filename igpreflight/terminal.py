"""The terminal: every message, log line and progress bar igpreflight writes to stderr.

One `Terminal` per process (`TERMINAL`, set up once by the CLI's -q/-v/--color)
decides four things, so no command decides them differently:

- progress: a bar on stderr only when stderr is a terminal, no CI variable is set
  and --quiet is not given; a bar counts distinct items and never passes its total;
- colour: --color always|never, or auto: the stream is a terminal, NO_COLOR is
  unset or empty and TERM is not `dumb`;
- loudness: -q keeps errors only; -v adds the library's INFO log, -vv its DEBUG;
- one prefix for every message: `igpreflight: error: ...`.

Messages and log records are printed above the progress bar, never into it, and
pass the redaction filter. stdout is never written here: it carries the report only.
Colour (when and how) lives in `terminal_color.py`, the bar in `terminal_progress.py`;
their names are importable from here.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from igpreflight.redaction import REDACTOR, redact
from igpreflight.terminal_color import ColorMode, color_enabled, paint, paint_report
from igpreflight.terminal_progress import CLEAR_LINE, Progress
from igpreflight.textcheck import one_line

PROG = "igpreflight"
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "TF_BUILD")
# Loggers that may see requests, signatures or credentials at DEBUG level.
SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "httpx", "httpcore")


def is_interactive(stream: TextIO) -> bool:
    """True when a progress line may be drawn on `stream`: a terminal, outside CI."""
    if any(os.environ.get(name) for name in CI_VARIABLES):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Terminal:
    """stderr as igpreflight uses it; see the module docstring."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        verbosity: int = 0,
        color: ColorMode | str = ColorMode.AUTO,
        stream: TextIO | None = None,
    ) -> None:
        self.quiet = quiet
        self.verbosity = verbosity
        self.color = ColorMode(color)
        self._stream = stream
        self._lock = threading.RLock()
        self._bar: Progress | None = None  # the bar on screen, if any

    @property
    def stream(self) -> TextIO:
        """stderr as it is now (test runners swap sys.stderr)."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def interactive(self) -> bool:
        return not self.quiet and is_interactive(self.stream)

    def colors(self, stream: TextIO | None = None) -> bool:
        """Whether text for `stream` (stderr by default) is coloured."""
        return color_enabled(self.color, stream if stream is not None else self.stream)

    # ---- lines ------------------------------------------------------------------------

    def write_line(self, line: str) -> None:
        """One line on stderr, above the progress bar (which is drawn again below it)."""
        with self._lock:
            out = self.stream
            bar = self._bar
            try:
                if bar is not None and bar.drawn:
                    out.write(CLEAR_LINE)
                out.write(line + "\n")
                if bar is not None and bar.drawn:
                    out.write(bar.line())
                out.flush()
            except BrokenPipeError:
                self._reader_gone(out)

    def _reader_gone(self, out: TextIO) -> None:
        """The reader of stderr closed its pipe: nothing more can be said, but the
        command must still end with its own exit code. The error line raised out of
        the boundary instead (exit 1), or stayed buffered until the flush at exit
        failed (exit 120), where a usage error is 2; later lines now go nowhere."""
        if out is sys.stderr:
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for good

    def message(self, level: str, text: str) -> None:
        """`igpreflight: LEVEL: text`, redacted, on one line (a file name's newline or
        escape sequence is shown escaped); --quiet keeps errors only."""
        if self.quiet and level != "error":
            return
        shown = one_line(redact(text))
        self.write_line(f"{PROG}: {paint(level, level, self.colors())}: {shown}")

    def error(self, text: str) -> None:
        self.message("error", text)

    def warning(self, text: str) -> None:
        self.message("warning", text)

    def note(self, text: str) -> None:
        self.message("note", text)

    # ---- progress ---------------------------------------------------------------------

    def progress(
        self,
        total: float | None = None,
        *,
        label: str = "",
        unit: str = "",
        describe: Callable[[Any], str] = str,
    ) -> Progress:
        """A progress bar (drawn only when interactive); close it, or use it in `with`."""
        return Progress(self, total, label=label, unit=unit, describe=describe)

    @property
    def bar(self) -> Progress | None:
        """The progress bar on screen, if any."""
        return self._bar

    # ---- logging ----------------------------------------------------------------------

    @contextmanager
    def logging(self, logger: str = PROG) -> Iterator[None]:
        """While a command runs: `logger`'s records on stderr (none by default: the
        report says what happened; INFO with -v, DEBUG with -vv; none with -q), and
        the SDK loggers held at WARNING (their DEBUG carries request signatures)."""
        log = logging.getLogger(logger)
        saved = {name: logging.getLogger(name).level for name in (logger, *SDK_LOGGERS)}
        for name in SDK_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        handler: logging.Handler
        if self.verbosity > 0 and not self.quiet:
            handler = TerminalHandler(self)
            log.setLevel(logging.DEBUG if self.verbosity > 1 else logging.INFO)
        else:
            handler = logging.NullHandler()  # no stray warnings through logging.lastResort
        log.addHandler(handler)
        try:
            yield
        finally:
            log.removeHandler(handler)
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)


class TerminalHandler(logging.Handler):
    """Log records as `igpreflight: info: message key=value ...` above the bar, redacted
    and on one inert line (control characters escaped), as every message is."""

    FIELDS = (
        "http_status",
        "code",
        "subcode",
        "is_transient",
        "fbtrace_id",
        "container_id",
        "post_id",
        "error_class",
    )

    def __init__(self, term: Terminal) -> None:
        super().__init__()
        self.term = term
        self.addFilter(REDACTOR)

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        fields = [
            f"{k}={getattr(record, k)}" for k in self.FIELDS if getattr(record, k, None) is not None
        ]
        text = " ".join([record.getMessage(), *fields])
        style = {"warning": "warning", "error": "error", "critical": "error"}.get(level, "dim")
        # A file name in a record (`%s refused`) may hold ESC or CR: shown escaped.
        return f"{PROG}: {paint(level, style, self.term.colors())}: {one_line(redact(text))}"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.term.write_line(self.format(record))
        except Exception:  # noqa: BLE001 - logging never breaks the command
            self.handleError(record)


TERMINAL = Terminal()
"""The process's terminal; the CLI configures it with `configure`."""


def configure(
    *, quiet: bool = False, verbosity: int = 0, color: ColorMode | str = ColorMode.AUTO
) -> Terminal:
    """Set the process's terminal from the command line's -q/-v/--color."""
    TERMINAL.quiet = quiet
    TERMINAL.verbosity = verbosity
    TERMINAL.color = ColorMode(color)
    return TERMINAL


def error(text: str) -> None:
    """`igpreflight: error: text` on stderr: the one error prefix."""
    TERMINAL.error(text)


__all__ = [
    "CI_VARIABLES",
    "TERMINAL",
    "ColorMode",
    "Progress",
    "Terminal",
    "TerminalHandler",
    "color_enabled",
    "configure",
    "error",
    "is_interactive",
    "paint",
    "paint_report",
]

"""The `igpreflight` command: a click group assembled from igpreflight.commands.*.

Commands parse options, call the library, render, and choose the exit code
(0 ok, 1 findings/failures, 2 usage or configuration error). Each command's
module is imported only when that command runs, so a pre-commit `check` does
not pay for boto3 and the Graph client.
"""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
from typing import Any

import click

from igpreflight._version import __version__
from igpreflight.collector import command_chosen

# name -> "module:attribute", in the order `--help` lists them.
COMMANDS: dict[str, str] = {
    "check": "igpreflight.commands.check:check",
    "fix": "igpreflight.commands.fix:fix",
    "upload": "igpreflight.commands.upload:upload",
    "check-url": "igpreflight.commands.check_url:check_url_command",
    "publish": "igpreflight.commands.publish:publish",
    "worker": "igpreflight.commands.durable:worker",
    "status": "igpreflight.commands.durable:status",
    "run": "igpreflight.commands.run:run",
    "rules": "igpreflight.commands.rules:rules_command",
    "explain": "igpreflight.commands.rules:explain",
    "profiles": "igpreflight.commands.profiles:profiles_command",
    "serve": "igpreflight.commands.serve:serve",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        found = super().resolve_command(ctx, args)
        command_chosen()  # the collector, off while the command loaded, resumes
        return found

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's main, with every failure on stderr as one `igpreflight: error: ...`
        line (commands.boundary): usage and setup errors exit 2, never a traceback."""
        # What we print may hold text no UTF-8 encoder takes (a lone surrogate from a
        # JSON manifest, a file name that is not UTF-8): show it as \ud83d, never crash.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        sys.stdout = whole_writes(sys.stdout) if sys.stdout is not None else NoReader()
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        from igpreflight.commands.boundary import run_guarded

        run_guarded(lambda: super(LazyGroup, self).main(*args, standalone_mode=False, **kwargs))


def whole_writes(stream: Any) -> Any:
    """`stream` (stdout) with a buffered writer under it when it has none.

    Under PYTHONUNBUFFERED=1 (or `python -u`, common in containers) stdout writes
    straight to its file, and a write that the reader cut short by closing the pipe
    (`| head`, a Node parent that destroyed the stream) comes back short without an
    error: the rest of the report was dropped and the command exited 0 as if it had
    been read. A buffered writer writes until all is written or the pipe is gone,
    and then raises BrokenPipeError, which click ends quietly with exit 1, as it
    does without PYTHONUNBUFFERED.
    """
    raw = getattr(stream, "buffer", None)
    if not isinstance(raw, io.RawIOBase) or not isinstance(stream, io.TextIOWrapper):
        return stream
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=True,
    )


class NoReader(io.TextIOBase):
    """stdout when the process started with file descriptor 1 closed (`>&-`, a daemon
    spawned without one), where Python leaves sys.stdout None and click's echo then
    drops the report without a word: the command exited 0 and its caller took the
    files for passed. Writing here fails as a write to a pipe nobody reads does
    (BrokenPipeError, which click ends with exit 1), after one error line on stderr,
    since here no reader chose to stop reading. Descriptor 1 itself is taken by
    /dev/null, so no file opened later becomes stdout to a child process."""

    def __init__(self) -> None:
        super().__init__()
        try:
            os.fstat(1)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != 1:
                os.dup2(null, 1)
                os.close(null)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        from igpreflight.terminal import TERMINAL

        if sys.stderr is not None:  # `>&- 2>&-`: the exit code says it alone
            TERMINAL.error("stdout is closed: the report was not written")
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="igpreflight")
def cli() -> None:
    """Check, fix, upload and publish media for the Instagram Graph API."""


def main() -> None:
    """The command without the early proof of `launch.main` (the console script's
    entry point since then); kept for what still names `igpreflight.cli:main`."""
    cli(prog_name="igpreflight")


if __name__ == "__main__":
    main()

"""The `igpreflight` command: a click group assembled from igpreflight.commands.*.

Commands parse options, call the library, render, and choose the exit code
(0 ok, 1 findings/failures, 2 usage or configuration error). Each command's
module is imported only when that command runs, so a pre-commit `check` does
not pay for boto3 and the Graph client.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from igpreflight._version import __version__
from igpreflight.terminal import TERMINAL

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

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's main, with every error on stderr as `igpreflight: error: ...` (click
        alone would say `Error: ...`); exit codes stay click's (2 usage, 1 abort)."""
        # What we print may hold text no UTF-8 encoder takes (a lone surrogate from a
        # JSON manifest, a file name that is not UTF-8): show it as \ud83d, never crash.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            show_error(exc)
            sys.exit(exc.exit_code)
        except click.Abort:
            TERMINAL.error("aborted")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def show_error(exc: click.ClickException) -> None:
    """A usage error's usage line and help hint, then the one error line."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"\nTry '{ctx.command_path} {ctx.help_option_names[0]}' for help."
        TERMINAL.write_line(f"{ctx.get_usage()}{hint}")
    TERMINAL.error(exc.format_message())


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="igpreflight")
def cli() -> None:
    """Check, fix, upload and publish media for the Instagram Graph API."""


def main() -> None:
    cli(prog_name="igpreflight")


if __name__ == "__main__":
    main()

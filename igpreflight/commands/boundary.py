"""The one place where a failed command becomes one line: `igpreflight: error: ...`.

Commands raise; nothing below them prints. Here every usage, configuration, storage,
database or file error ends as one redacted line on stderr and exit 2, a Ctrl-C as
`interrupted` and 130, and anything else (a bug) as one `internal error` line and
exit 2 as well, never a traceback. `IGPREFLIGHT_DEBUG=1` also prints the traceback of
a bug, for a bug report. The modules that define the error types are imported only
once an error is being described, so a command that succeeds never pays for them.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import click

from igpreflight.terminal import TERMINAL

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "IGPREFLIGHT_DEBUG"
# Libraries whose exceptions mean "the database cannot be used" (--db, the journal).
_DATABASE_MODULES = ("sqlalchemy", "psycopg", "psycopg2", "sqlite3", "dbos")
_DSN_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")


def run_guarded(main: Callable[[], Any]) -> NoReturn:
    """Run a command's `main` and exit with its code, every failure as one line."""
    try:
        rv = main()
    except SystemExit:
        raise
    except click.ClickException as exc:
        show_click_error(exc)
        sys.exit(exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            TERMINAL.error("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        TERMINAL.error("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        TERMINAL.error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the boundary: nothing gets past as a traceback
        for line in error_lines(exc):
            TERMINAL.error(line)
        if os.environ.get(DEBUG_ENV) and not is_user_error(exc):
            TERMINAL.write_line("".join(traceback.format_exception(exc)).rstrip())
        sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else 0)


def show_click_error(exc: click.ClickException) -> None:
    """A usage error's usage line and help hint, then the one error line."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"\nTry '{ctx.command_path} {ctx.help_option_names[0]}' for help."
        TERMINAL.write_line(f"{ctx.get_usage()}{hint}")
    TERMINAL.error(exc.format_message())


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed, and no password of a URL shown."""
    return _DSN_PASSWORD.sub(r"\1***@", " ".join(text.split()))


def _is_database_error(exc: BaseException) -> bool:
    return any(cls.__module__.split(".")[0] in _DATABASE_MODULES for cls in type(exc).__mro__[:-2])


def database_line(exc: BaseException) -> str:
    """What the database driver said, without SQLAlchemy's statement and link."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).split("(Background on this error")[0].split("[SQL:")[0]
    text = re.sub(r"^connection failed:\s*", "", text.strip())
    text = "; ".join(line.strip() for line in text.splitlines() if line.strip())
    return f"cannot use the publish database: {one_line(text) or type(cause).__name__}"


def is_user_error(exc: BaseException) -> bool:
    """An error the user can act on (bad input, setup, storage, database), not a bug."""
    from igpreflight.api.errors import FolderBusy, ManifestError, StorageError, UsageError
    from igpreflight.config import ConfigError

    known = (UsageError, ConfigError, ManifestError, StorageError, FolderBusy, OSError)
    return isinstance(exc, known) or _is_database_error(exc)


def error_lines(exc: BaseException) -> list[str]:
    """The line(s) to show for an exception that reached the boundary."""
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list) and problems:  # PublishRefused: one line per problem
        return [one_line(str(p)) for p in problems] + ["nothing was published"]
    if _is_database_error(exc):
        return [database_line(exc)]
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return [one_line(f"{where}{exc.strerror}")]
    if is_user_error(exc):
        return [one_line(str(exc)) or type(exc).__name__]
    detail = one_line(str(exc))
    hint = f"this is a bug, please report it ({DEBUG_ENV}=1 shows the traceback)"
    return [f"internal error: {type(exc).__name__}{': ' + detail if detail else ''}; {hint}"]

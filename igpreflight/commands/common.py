"""Options and output helpers shared by several commands."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from igpreflight.model import AsOption

as_option = click.option(
    "--as",
    "as_",
    type=click.Choice([a.value for a in AsOption]),
    default=AsOption.AUTO.value,
    show_default=True,
    help="Role to check files in: auto (image -> feed, video -> reels), feed, reels, story, carousel-item.",
)

jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel workers (default: number of CPUs).",
)


def write_output(text: str, output: Path | None) -> None:
    """Write a report to stdout, or atomically to a file."""
    if output is None:
        click.echo(text, nl=False)
        return
    output = output.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def progress_printer(enabled: bool = True) -> Callable[[str], None] | None:
    """A one-line progress counter on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    count = 0

    def tick(name: str) -> None:
        nonlocal count
        count += 1
        click.echo(f"\r\033[K[{count}] {name}"[:200], err=True, nl=False)

    return tick

"""Options shared by `upload` and `check-url`."""

from __future__ import annotations

from pathlib import Path

import click

from igpreflight.api.urlchecking import DEFAULT_DEADLINE

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout.",
)
allow_private_option = click.option(
    "--allow-private",
    is_flag=True,
    help="Accept plain http and private, loopback or link-local hosts (local tests, emulators).",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds one URL check may take in all (redirects, headers and body).",
)
strict_option = click.option("--strict", is_flag=True, help="Fail (exit 1) on URL warnings too.")

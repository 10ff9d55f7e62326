"""`igpreflight check-url`: fetch media URLs like Instagram's fetcher and apply the URL rules
(`igpreflight.api.check_url`).

Exit codes: 0 every URL passes, 1 otherwise, 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from igpreflight.api.errors import UsageError
from igpreflight.commands.common import terminal_options, write_output
from igpreflight.commands.url_options import (
    allow_private_option,
    format_option,
    output_option,
    strict_option,
    timeout_option,
)
from igpreflight.report.urls import check_url_json, check_url_text


@click.command("check-url")
@terminal_options
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--local",
    "locals_",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    metavar="FILE",
    help="The file each URL should serve, in the order of the URLs (size, hash and type compared).",
)
@click.option(
    "--content-type",
    "content_type",
    help="The Content-Type every URL must have (default: from --local, else any accepted media type).",
)
@allow_private_option
@timeout_option
@strict_option
@format_option
@output_option
def check_url_command(
    urls: tuple[str, ...],
    locals_: tuple[str, ...],
    content_type: str | None,
    allow_private: bool,
    timeout: float,
    strict: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """Fetch media URLs like Instagram's fetcher and apply URL001..URL006.

    Exit code: 0 every URL passes, 1 otherwise, 2 usage error.
    """
    from igpreflight.api.urlchecking import check_url

    try:
        result = check_url(
            urls,
            local=locals_ or None,
            content_type=content_type,
            allow_private=allow_private,
            timeout=timeout,
            strict=strict,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    render = check_url_json if fmt == "json" else check_url_text
    write_output(render(result), output, colored=fmt == "text")
    sys.exit(0 if result.ok else 1)

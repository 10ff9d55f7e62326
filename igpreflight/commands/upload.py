"""`igpreflight upload`: put checked media on S3-compatible storage and prove the URL
answers the way Instagram's fetcher needs (`igpreflight.api.upload`).

Credentials come only from boto3's chain (AWS_PROFILE, AWS_ACCESS_KEY_ID...);
nothing here takes, prints or logs them, and every line we write is scrubbed of
the secret key and session token in case a library message ever carried one.
Exit codes: 0 every URL passes, 1 otherwise, 2 usage or configuration error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from igpreflight.api.errors import UsageError
from igpreflight.api.uploading import UploadError, UploadTarget, without_storage_secrets
from igpreflight.commands.common import as_option, terminal_options, write_output
from igpreflight.commands.config_options import config_options, settings
from igpreflight.commands.upload_options import upload_target_options
from igpreflight.commands.url_options import (
    allow_private_option,
    format_option,
    output_option,
    strict_option,
    timeout_option,
)
from igpreflight.report.urls import upload_json, upload_text
from igpreflight.terminal import TERMINAL


def _fail(message: str) -> None:
    """A configuration error: one line on stderr (secrets redacted), exit 2, no traceback."""
    TERMINAL.error(message)
    sys.exit(2)


@contextmanager
def _progress(label: str, size: int) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar for one file (transfer threads call it; drawn on terminals only)."""
    with TERMINAL.progress(size, label=label[:40], unit="bytes") as bar:
        yield bar.advance if bar.active else None


@click.command("upload")
@terminal_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@upload_target_options(for_upload=True)
@allow_private_option
@click.option("--no-check", is_flag=True, help="Upload files even when `check` finds errors.")
@as_option
@timeout_option
@strict_option
@format_option
@output_option
@config_options
def upload(
    paths: tuple[str, ...],
    upload: UploadTarget,
    allow_private: bool,
    no_check: bool,
    as_: str,
    timeout: float,
    strict: bool,
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    isolated: bool,
) -> None:
    """Upload media to S3-compatible storage and check each URL like Instagram would.

    Files that fail `check` are refused unless --no-check. Keys are
    content-addressed, so uploading the same bytes again is skipped. Credentials
    come from boto3's chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).

    Exit code: 0 every URL passes, 1 otherwise, 2 usage or configuration error.
    """
    from igpreflight.api.uploading import upload as upload_api

    conf = settings(select, ignore, config_file, isolated)
    try:
        result = upload_api(
            paths,
            upload,
            allow_private=allow_private,
            check=not no_check,
            as_=as_,
            timeout=timeout,
            strict=strict,
            progress=_progress,
            rules=conf.rules,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except UploadError as exc:
        _fail(str(exc))
    render = upload_json if fmt == "json" else upload_text
    write_output(without_storage_secrets(render(result)), output, colored=fmt == "text")
    sys.exit(0 if result.ok else 1)

"""`igpreflight upload` and `igpreflight check-url`: put checked media on S3-compatible
storage and prove the URL answers the way Instagram's fetcher needs.

Credentials come only from boto3's chain (AWS_PROFILE, AWS_ACCESS_KEY_ID...);
nothing here takes, prints or logs them, and every line we write is scrubbed of
the secret key and session token in case a library message ever carried one.
Exit codes: 0 every URL passes, 1 otherwise, 2 usage or configuration error.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from igpreflight.commands.common import as_option, write_output
from igpreflight.publish.cdn import (
    ACLS,
    DEFAULT_MULTIPART_THRESHOLD,
    SIGV4_MAX_EXPIRES,
    UploadError,
    known_secrets,
    make_client,
)
from igpreflight.publish.stage import FileUpload, stage_file
from igpreflight.publish.urlcheck import DEFAULT_DEADLINE, check_url
from igpreflight.report.urls import (
    check_url_json,
    check_url_text,
    upload_json,
    upload_text,
)

# Loggers that may see requests, signatures or credentials at DEBUG level.
SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "httpx", "httpcore")
REDACTED = "[REDACTED]"

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
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Log what is done to stderr (never credentials)."
)


class _Scrub(logging.Filter):
    """Replaces any known secret in a log record's final text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = scrub(text, self.secrets)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return True


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


@contextmanager
def _quiet_sdk_logs() -> Iterator[None]:
    """Hold SDK loggers at WARNING while a command runs: their DEBUG output carries
    request signatures and credential-chain details, never wanted in our output."""
    saved = {name: logging.getLogger(name).level for name in SDK_LOGGERS}
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def _verbose_log(verbose: bool, secrets: list[str]) -> Iterator[None]:
    """With --verbose, our own DEBUG lines go to stderr through the scrubber."""
    if not verbose:
        yield
        return
    ours = logging.getLogger("igpreflight")
    old_level = ours.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("igpreflight: %(message)s"))
    handler.addFilter(_Scrub(secrets))
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        ours.setLevel(old_level)


def _fail(message: str, secrets: list[str]) -> None:
    """A configuration error: one line on stderr, exit 2, no traceback."""
    click.echo(f"igpreflight: error: {scrub(message, secrets)}", err=True)
    sys.exit(2)


@contextmanager
def _progress(label: str, size: int) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on stderr when it is a terminal (transfer threads call it)."""
    if not sys.stderr.isatty():
        yield None
        return
    lock = threading.Lock()
    with click.progressbar(length=size, label=label[:40], file=sys.stderr) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance


@click.command("upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@click.option(
    "--bucket",
    required=True,
    envvar="IGPREFLIGHT_BUCKET",
    help="Bucket name (env IGPREFLIGHT_BUCKET).",
)
@click.option("--prefix", default="", help="Key prefix, e.g. instagram/2026.")
@click.option(
    "--endpoint-url",
    help="S3-compatible endpoint (R2, MinIO, B2, Spaces); default: AWS or AWS_ENDPOINT_URL_S3.",
)
@click.option("--region", help="Region (default: boto3's configuration).")
@click.option(
    "--public-base-url",
    envvar="IGPREFLIGHT_PUBLIC_BASE_URL",
    help="Public URL the bucket is served from (CloudFront, R2 custom domain); the key is appended.",
)
@click.option(
    "--presign",
    type=click.IntRange(1, SIGV4_MAX_EXPIRES),
    metavar="SECONDS",
    help="Hand Instagram a presigned GET URL valid this long (at least 86400 recommended).",
)
@click.option(
    "--acl",
    type=click.Choice(ACLS),
    default="none",
    show_default=True,
    help="Object ACL; many buckets refuse ACLs and are made public by policy or a CDN.",
)
@allow_private_option
@click.option("--no-check", is_flag=True, help="Upload files even when `check` finds errors.")
@as_option
@click.option(
    "--multipart-threshold",
    type=click.IntRange(min=5 * 1024 * 1024),
    default=DEFAULT_MULTIPART_THRESHOLD,
    show_default=True,
    metavar="BYTES",
    help="Files this large go by multipart upload.",
)
@timeout_option
@strict_option
@format_option
@output_option
@verbose_option
def upload(
    paths: tuple[str, ...],
    bucket: str,
    prefix: str,
    endpoint_url: str | None,
    region: str | None,
    public_base_url: str | None,
    presign: int | None,
    acl: str,
    allow_private: bool,
    no_check: bool,
    as_: str,
    multipart_threshold: int,
    timeout: float,
    strict: bool,
    fmt: str,
    output: Path | None,
    verbose: bool,
) -> None:
    """Upload media to S3-compatible storage and check each URL like Instagram would.

    Files that fail `check` are refused unless --no-check. Keys are
    content-addressed, so uploading the same bytes again is skipped. Credentials
    come from boto3's chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).

    Exit code: 0 every URL passes, 1 otherwise, 2 usage or configuration error.
    """
    from igpreflight.preflight.engine import iter_media_files

    if presign is not None and public_base_url:
        raise click.UsageError("give either --presign or --public-base-url, not both")
    if public_base_url and not public_base_url.lower().startswith(("https://", "http://")):
        raise click.UsageError("--public-base-url must start with https://")
    files = iter_media_files(paths)
    if not files:
        raise click.UsageError("no media files found in the given paths")
    with _quiet_sdk_logs():
        secrets = known_secrets()
        # The report keeps a session token that a presigned URL needs (see known_secrets).
        report_secrets = known_secrets(token=False)
        with _verbose_log(verbose, secrets):
            outcomes = _batch(
                files,
                secrets,
                endpoint_url=endpoint_url,
                region=region,
                bucket=bucket,
                prefix=prefix,
                public_base_url=public_base_url,
                presign=presign,
                acl=acl,
                allow_private=allow_private,
                check=not no_check,
                as_=as_,
                multipart_threshold=multipart_threshold,
                timeout=timeout,
            )
    render = upload_json if fmt == "json" else upload_text
    write_output(scrub(render(outcomes, strict), report_secrets), output)
    sys.exit(0 if all(o.passed(strict) for o in outcomes) else 1)


def _batch(
    files: list[tuple[str, str]],
    secrets: list[str],
    *,
    endpoint_url: str | None,
    region: str | None,
    **options: Any,
) -> list[FileUpload]:
    """Every file in order; a setup problem stops the batch with exit 2."""
    try:
        client = make_client(endpoint_url=endpoint_url, region=region)
    except UploadError as exc:
        _fail(str(exc), secrets)
    outcomes = []
    for display, absolute in files:
        try:
            outcomes.append(
                stage_file(display, absolute, client=client, progress=_progress, **options)
            )
        except UploadError as exc:
            _fail(str(exc), secrets)
    return outcomes


@click.command("check-url")
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
    if locals_ and len(locals_) != len(urls):
        raise click.UsageError(
            f"give one --local FILE per URL ({len(urls)} URLs, {len(locals_)} files), or none"
        )
    with _quiet_sdk_logs():
        results = [
            check_url(
                url,
                local_path=locals_[i] if locals_ else None,
                expected_content_type=content_type,
                allow_private=allow_private,
                timeout=timeout,
            )
            for i, url in enumerate(urls)
        ]
    render = check_url_json if fmt == "json" else check_url_text
    write_output(render(results, strict), output)
    sys.exit(0 if all(r.ok and not (strict and r.warnings) for r in results) else 1)

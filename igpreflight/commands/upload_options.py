"""The upload options (--bucket, --prefix, --endpoint-url, --region, --public-base-url,
--presign, --acl) of `upload`, `publish`, `run` and `worker`, declared once and
handed to the command as one `UploadTarget` argument named `upload` (None when no
--bucket is given)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from igpreflight.api.uploading import (
    ACLS,
    DEFAULT_MULTIPART_THRESHOLD,
    SIGV4_MAX_EXPIRES,
    UploadTarget,
)

FIELDS = ("bucket", "prefix", "endpoint_url", "region", "public_base_url", "presign", "acl")


def _options(for_upload: bool) -> list[Callable[[Any], Any]]:
    """`upload` needs a bucket and reads IGPREFLIGHT_BUCKET and
    IGPREFLIGHT_PUBLIC_BASE_URL; the publishing commands upload only when given one."""
    env = (lambda name: {"envvar": name}) if for_upload else (lambda name: {})
    options = [
        click.option(
            "--bucket",
            required=for_upload,
            **env("IGPREFLIGHT_BUCKET"),
            help="Bucket to upload local media to"
            + (" (env IGPREFLIGHT_BUCKET)." if for_upload else " before publishing."),
        ),
        click.option("--prefix", default="", help="Key prefix, e.g. instagram/2026."),
        click.option(
            "--endpoint-url",
            help="S3-compatible endpoint (R2, MinIO, B2, Spaces); default: AWS or"
            " AWS_ENDPOINT_URL_S3.",
        ),
        click.option("--region", help="Region of the bucket (default: boto3's configuration)."),
        click.option(
            "--public-base-url",
            **env("IGPREFLIGHT_PUBLIC_BASE_URL"),
            help="Public URL the bucket is served from (CloudFront, R2 custom domain); the key"
            " is appended.",
        ),
        click.option(
            "--presign",
            type=click.IntRange(1, SIGV4_MAX_EXPIRES),
            metavar="SECONDS",
            help="Hand Instagram presigned GET URLs valid this long (at least 86400 recommended).",
        ),
        click.option(
            "--acl",
            type=click.Choice(ACLS),
            default="none" if for_upload else None,
            show_default=for_upload,
            help="Object ACL; many buckets refuse ACLs and are made public by policy or a CDN.",
        ),
    ]
    if for_upload:
        options.append(
            click.option(
                "--multipart-threshold",
                type=click.IntRange(min=5 * 1024 * 1024),
                default=DEFAULT_MULTIPART_THRESHOLD,
                show_default=True,
                metavar="BYTES",
                help="Files this large go by multipart upload.",
            )
        )
    return options


def with_upload_target(command: Callable[..., Any]) -> Callable[..., Any]:
    """Call `command` with `upload`, the UploadTarget of the upload options in its
    keyword arguments (which it no longer receives one by one)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name, None) for name in FIELDS}
        threshold = kwargs.pop("multipart_threshold", None)
        if given["bucket"] is None:
            kwargs["upload"] = None  # nothing to upload to: the other options do nothing
        else:
            try:
                kwargs["upload"] = UploadTarget.of(
                    None, {**given, "multipart_threshold": threshold}
                )
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
        return command(*args, **kwargs)

    return wrapper


def upload_target_options(*, for_upload: bool = False) -> Callable[..., Any]:
    """The upload options, passed to the command as one `upload` argument."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = with_upload_target(command)
        for option in reversed(_options(for_upload)):
            command = option(command)
        return command

    return decorate

"""Writes to S3: whole files (one PUT or one multipart upload) and server-side copies.

The one writer of the tool: `fix` writes its outputs here and `upload` (and so
`publish` and `run`) its content-addressed objects, through the one client of
`s3.client`. Content-Type, metadata, Cache-Control and ACL are set in one place
(`object_args`), and so is the fallback for storage that refuses checksum headers.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from igpreflight.storage.s3 import (
    MULTIPART_CHUNK,
    MULTIPART_THRESHOLD,
    ObjectInfo,
    S3Settings,
    client,
    storage_error,
)
from igpreflight.storage.s3uri import S3Uri

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


def object_args(
    content_type: str,
    metadata: dict[str, str],
    *,
    cache_control: str | None = None,
    acl: str | None = None,
) -> dict[str, Any]:
    """The one place an object's Content-Type, metadata, Cache-Control and ACL are
    written, for every PUT, multipart upload and copy of the tool."""
    extra: dict[str, Any] = {"ContentType": content_type, "Metadata": metadata}
    if cache_control:
        extra["CacheControl"] = cache_control
    if acl == "public-read":
        extra["ACL"] = "public-read"
    return extra


def put_file(
    local: Path,
    uri: S3Uri,
    metadata: dict[str, str],
    content_type: str,
    settings: S3Settings | None = None,
    *,
    cache_control: str | None = None,
    acl: str | None = None,
    sha256: str | None = None,
    multipart_threshold: int = MULTIPART_THRESHOLD,
    progress: Progress | None = None,
    what: str | None = None,
) -> str | None:
    """Write a finished file as one PUT, or one multipart upload for large files.

    Either way the object appears complete or not at all: a multipart upload
    that is interrupted leaves only invisible parts, never a partial object.
    With `sha256` (hex) the storage verifies the bytes: the whole-object SHA-256
    on a single PUT, per-part SHA-256 on a multipart upload. Storage that refuses
    checksum headers (Backblaze B2, older MinIO, s3proxy) gets the same upload
    without them. Returns the checksum algorithm the storage verified, or None.
    `progress` hears byte counts (from transfer threads), never more than the size;
    `what` starts the error message (default "cannot write s3://...").
    """
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import ClientError

    size = local.stat().st_size
    config = TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=max(5 * 1024 * 1024, min(multipart_threshold, MULTIPART_CHUNK)),
    )
    extra = object_args(content_type, metadata, cache_control=cache_control, acl=acl)
    checksums: dict[str, str] = {}
    if sha256 is not None:
        checksums["ChecksumAlgorithm"] = "SHA256"
        if size < multipart_threshold:
            checksums["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
    # one callback for both attempts, so a retry without checksums never overruns the bar
    args = {
        "ExtraArgs": {**extra, **checksums},
        "Config": config,
        "Callback": _capped(progress, size),
    }
    log.info(
        "uploading %s to %s (%d bytes, %s)",
        local.name,
        uri,
        size,
        "multipart" if size >= multipart_threshold else "single PUT",
    )
    try:
        s3 = client(settings)
        try:
            s3.upload_file(str(local), uri.bucket, uri.key, **args)
            return "SHA256" if checksums else None
        except (ClientError, S3UploadFailedError) as exc:
            if not checksums or not checksum_refused(exc):
                raise
        log.debug("the storage refuses S3 checksum headers; uploading %s without them", local.name)
        args["ExtraArgs"] = extra
        s3.upload_file(str(local), uri.bucket, uri.key, **args)
        return None
    except Exception as exc:  # noqa: BLE001 - botocore errors come in many types
        raise storage_error(_cause(exc), uri.bucket, what or f"cannot write {uri}") from None


def copy_object(
    source: ObjectInfo,
    uri: S3Uri,
    metadata: dict[str, str],
    content_type: str,
    settings: S3Settings | None = None,
) -> None:
    """Server-side copy of an object that needs no change (its bytes never leave S3)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK
    )
    extra = {
        **object_args(content_type, metadata),
        "MetadataDirective": "REPLACE",
        **({"CopySourceIfMatch": f'"{source.etag}"'} if source.etag else {}),
    }
    try:
        client(settings).copy(
            {"Bucket": source.bucket, "Key": source.key},
            uri.bucket,
            uri.key,
            ExtraArgs=extra,
            Config=config,
        )
    except Exception as exc:  # noqa: BLE001
        raise storage_error(exc, uri.bucket, f"cannot write {uri}") from None


def checksum_refused(exc: BaseException) -> bool:
    """True when an S3 error says the storage does not support checksum headers
    or aws-chunked bodies (what B2 and some MinIO/s3proxy versions answer).

    AWS's own 501 NotImplemented ("A header you provided implies functionality that
    is not implemented"), which Ceph RGW and Garage answer, names no header: asked
    only when checksums were sent, it is taken as a refusal of them too (the retry
    without them is the same upload, so a wrong guess costs one request)."""
    from botocore.exceptions import ClientError

    cause = _cause(exc)
    if not isinstance(cause, ClientError):
        return False
    error = cause.response.get("Error", {})
    text = f"{error.get('Message', '')} {error.get('Code', '')}".lower()
    if error.get("Code") == "NotImplemented" and "header" in text:
        return True
    return error.get("Code") in (
        "InvalidArgument",
        "NotImplemented",
        "InvalidRequest",
        "BadRequest",
    ) and any(word in text for word in ("checksum", "aws-chunked", "unsupported header", "trailer"))


def _cause(exc: BaseException) -> BaseException:
    """The S3 error under boto3's S3UploadFailedError (which only wraps it)."""
    from boto3.exceptions import S3UploadFailedError

    if isinstance(exc, S3UploadFailedError) and exc.__context__ is not None:
        return exc.__context__
    return exc


def _capped(progress: Progress | None, size: int) -> Progress | None:
    """A progress callback that never reports more than `size` bytes in all, so a
    retried upload does not run the bar past 100 %."""
    if progress is None:
        return None
    sent = 0
    lock = threading.Lock()

    def report(n: int) -> None:
        nonlocal sent
        with lock:
            n = max(0, min(n, size - sent))
            sent += n
        if n:
            progress(n)

    return report

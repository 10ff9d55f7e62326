"""S3 through boto3 only: one client per process, its credentials, listing, ranged GETs.

Credentials come from boto3's own chain (environment, profile, SSO, instance
role); the endpoint from `--endpoint-url` or AWS_ENDPOINT_URL_S3 (boto3 reads
it), so R2, MinIO, B2 and Spaces work the same. Error messages are built from
S3 error codes and bucket names only: no credential ever reaches the output.
Every S3 call of the tool (check, fix, upload, publish) goes through `client`;
writes are in `s3write`, content-addressed uploads in `upload`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from igpreflight.storage.s3uri import S3Uri

log = logging.getLogger(__name__)

# Objects at or above this size are written as a multipart upload (all parts,
# then CompleteMultipartUpload: the object appears whole or not at all).
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024
PAGE_SIZE = 1000  # keys per LIST request (S3's maximum)
MAX_ATTEMPTS = 6  # per request, the first included

NO_CREDENTIALS = (
    "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
)
# S3's codes for a request the credentials may not make (a GET of an object they may list).
ACCESS_DENIED = ("AccessDenied", "AllAccessDisabled")
# Codes of a storage failing to serve, not of the object (a 5xx's HTML body gives "500").
STORE_FAILED = ("InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling")
CONFIG_ERRORS = {
    "NoSuchBucket": "bucket {bucket!r} does not exist at this endpoint",
    "AccessDenied": "access denied to bucket {bucket!r} (check the credentials' permissions)",
    "AllAccessDisabled": "access denied to bucket {bucket!r}",
    "InvalidAccessKeyId": "the AWS access key id is not known to this endpoint",
    "SignatureDoesNotMatch": "the AWS secret key does not match the access key id",
    "InvalidToken": "the AWS session token is invalid",
    "ExpiredToken": "the AWS session token has expired",
    "AccessControlListNotSupported": "bucket {bucket!r} does not accept ACLs; use --acl none and make the objects public with a bucket policy or a CDN",
    "PermanentRedirect": "bucket {bucket!r} is in another region; give --region",
    "AuthorizationHeaderMalformed": "wrong region for bucket {bucket!r}; give --region",
    "RequestTimeTooSkewed": "this machine's clock differs from the S3 endpoint's by more than"
    " 15 minutes, so it refuses every signed request; set the clock (NTP)",
}
REDIRECT_LOOP = (
    "the S3 endpoint redirects the requests for bucket {bucket!r} elsewhere (HTTP 301/307)"
    " without saying the bucket's region; give the bucket's own endpoint with --endpoint-url"
    " (and its --region)"
)


class StorageError(Exception):
    """A storage call failed, in one line; `config` is True when every call would
    fail the same way (credentials, bucket, endpoint), which is a usage error;
    `code` is S3's error code, so a caller can tell a refused GET from a bad file."""

    def __init__(self, message: str, *, config: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.config = config
        self.code = code  # S3's error code (AccessDenied...), when S3 answered one


def store_failed(exc: StorageError) -> bool:
    """The storage failed, not the object: a 5xx or throttling after every retry, or
    a broken connection (no S3 code); an object's own problem has its S3 code."""
    if exc.config:
        return False
    return not exc.code or exc.code in STORE_FAILED or exc.code.startswith("5")


@dataclass(frozen=True)
class S3Settings:
    """Where the storage is; travels with every task, so remote workers agree."""

    endpoint_url: str | None = None
    region: str | None = None


_settings = S3Settings()
_clients: dict[tuple[Any, ...], Any] = {}
# Variables boto3 reads when it builds a client: a change means a new client.
_ENV_KEYS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",  # presigned URLs carry it: a new token needs a new client
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_MAX_ATTEMPTS",
)
_lock = threading.Lock()


def configure(settings: S3Settings) -> None:
    """Make `settings` this process's default (the CLI's --endpoint-url, a worker's task)."""
    global _settings
    _settings = settings


def current_settings() -> S3Settings:
    return _settings


def client(settings: S3Settings | None = None) -> Any:
    """The process's S3 client for these settings (boto3 clients are thread-safe)."""
    settings = settings or _settings
    key = (settings, os.getpid(), *(os.environ.get(k) for k in _ENV_KEYS))
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = _make_client(settings)
        return found


def _make_client(settings: S3Settings) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=settings.region)
    if session.get_credentials() is None:
        raise StorageError(NO_CREDENTIALS, config=True)
    config = Config(
        signature_version="s3v4",
        # 503 SlowDown is how S3 and its clones throttle a batch: 5 retries with backoff
        # (1, 2, 4, 8, 16 s at most) ride it out where boto3's default 2 gave up; the
        # standard mode's retry quota still stops retrying a store that only fails.
        # AWS_MAX_ATTEMPTS, boto3's own variable, is the user's word over ours.
        retries={"mode": "standard"}
        | ({} if os.environ.get("AWS_MAX_ATTEMPTS") else {"total_max_attempts": MAX_ATTEMPTS}),
        connect_timeout=15,
        read_timeout=120,
        max_pool_connections=64,  # preflight.engine.S3_THREADS probes at once
        # Checksums only where asked: boto3's default CRC32 headers break S3 clones.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


def known_secrets(*, token: bool = True) -> list[str]:
    """The secret key (and session token) the chain would use, so output can be
    scrubbed of them (defence in depth: nothing here prints them on purpose).

    token=False leaves the session token out: a URL presigned with temporary
    credentials must carry it (X-Amz-Security-Token) to work at all, and it is
    useless without the secret key.
    """
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        creds = boto3.session.Session().get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except (BotoCoreError, ValueError):
        return []
    if frozen is None:
        return []
    values = (frozen.secret_key, frozen.token) if token else (frozen.secret_key,)
    return [v for v in values if v and len(v) >= 8]


def storage_error(exc: BaseException, bucket: str, what: str) -> StorageError:
    """One line for the user; setup problems flagged `config` (exit 2)."""
    from botocore.exceptions import (
        ClientError,
        CredentialRetrievalError,
        EndpointConnectionError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return StorageError(NO_CREDENTIALS, config=True)
    if isinstance(exc, ProfileNotFound):
        profile = exc.kwargs.get("profile", "")
        return StorageError(
            f"AWS profile {profile!r} is not in the AWS config files (AWS_PROFILE)", config=True
        )
    if isinstance(exc, CredentialRetrievalError):
        return StorageError(f"cannot get AWS credentials: {one_line(exc)}", config=True)
    if isinstance(exc, EndpointConnectionError):
        where = endpoint_origin(str(exc.kwargs.get("endpoint_url", "")))
        return StorageError(f"cannot reach the S3 endpoint {where}", config=True)
    if isinstance(exc, RecursionError) or (
        isinstance(exc, HTTPClientError) and isinstance(exc.kwargs.get("error"), RecursionError)
    ):
        # botocore follows a redirect by asking the bucket's region, which is redirected too
        return StorageError(REDIRECT_LOOP.format(bucket=bucket), config=True)
    if isinstance(exc, NoRegionError):
        return StorageError("no AWS region configured; give --region", config=True)
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in CONFIG_ERRORS:
            text = CONFIG_ERRORS[code].format(bucket=bucket)
            return StorageError(text, config=True, code=code)
        message = exc.response.get("Error", {}).get("Message") or code
        return StorageError(f"{what}: {code}: {message}", code=code)
    return StorageError(f"{what}: {one_line(exc)}")


def one_line(exc: BaseException) -> str:
    """The error's text on one line, any user:password@ of a URL in it taken out
    (botocore's messages quote the request URL, and an endpoint may carry them)."""
    return _USERINFO.sub(r"\1", " ".join(str(exc).split())) or type(exc).__name__


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]*@")


def endpoint_origin(url: str) -> str:
    """scheme://host:port of a request URL: where the endpoint is, without the bucket,
    key and query botocore puts in its message, or a user:password@ an endpoint held."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "(no URL)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: enough to probe it, shard it and know whether it changed."""

    bucket: str
    key: str
    size: int
    etag: str  # S3's content hash (MD5 of a single PUT, or of the parts)

    @property
    def uri(self) -> str:
        return str(S3Uri(self.bucket, self.key))


def list_objects(uri: S3Uri, settings: S3Settings | None = None) -> Iterator[ObjectInfo]:
    """Every object under a prefix, page after page (any number of keys), in key order."""
    try:
        pages = client(settings).get_paginator("list_objects_v2")
        pages = pages.paginate(
            Bucket=uri.bucket, Prefix=uri.key, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for item in page.get("Contents", ()):
                yield ObjectInfo(
                    uri.bucket, item["Key"], int(item["Size"]), item.get("ETag", "").strip('"')
                )
    except Exception as exc:  # noqa: BLE001 - botocore errors come in many types
        raise storage_error(exc, uri.bucket, f"cannot list {uri}") from None


def head_object(uri: S3Uri, settings: S3Settings | None = None) -> dict[str, Any] | None:
    """The object's HEAD response, or None when there is no such key."""
    from botocore.exceptions import ClientError

    try:
        return client(settings).head_object(Bucket=uri.bucket, Key=uri.key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise storage_error(exc, uri.bucket, f"cannot read {uri}") from None
    except Exception as exc:  # noqa: BLE001
        raise storage_error(exc, uri.bucket, f"cannot read {uri}") from None


def head_size(uri: S3Uri, head: dict[str, Any], settings: S3Settings | None = None) -> int:
    """The object's size from its HEAD, or, from a store whose HEAD has no
    Content-Length (a chunked answer: some gateways), from its listing: taken as
    0, the object was judged 'zero bytes' (one LIST, only then)."""
    if "ContentLength" in head:
        return int(head["ContentLength"])
    for info in list_objects(uri, settings):
        return info.size if info.key == uri.key else 0
    return 0


def get_range(info: ObjectInfo, start: int, end: int, settings: S3Settings | None = None) -> bytes:
    """Bytes start..end-1 of the object, in one ranged GET (IfMatch: the same version).

    A store (or a proxy before it) that ignores Range answers 200 with the whole
    object: only the bytes asked for are kept, read as they stream past, and the
    connection is dropped after them, so memory stays at one range whatever the
    object's size (the read costs the bytes up to `end`, not a ranged read's few)."""
    try:
        response = client(settings).get_object(
            Bucket=info.bucket,
            Key=info.key,
            Range=f"bytes={start}-{end - 1}",
            **({"IfMatch": f'"{info.etag}"'} if info.etag else {}),
        )
        body = response["Body"]
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 206 or response.get("ContentRange"):
            return body.read()
        return _range_of_whole(body, start, end, info)
    except Exception as exc:  # noqa: BLE001
        raise storage_error(exc, info.bucket, f"cannot read {info.uri}") from None


_range_ignored_said = False


def _range_of_whole(body: Any, start: int, end: int, info: ObjectInfo) -> bytes:
    """Bytes start..end-1 of a whole-object answer to a ranged GET, in bounded memory."""
    global _range_ignored_said
    if not _range_ignored_said:
        _range_ignored_said = True
        log.warning(
            "the S3 endpoint ignores Range (a ranged GET of %s answered the whole object):"
            " each header read streams the object up to the bytes it needs",
            info.uri,
        )
    try:
        skip = start
        while skip > 0:
            chunk = body.read(min(skip, 64 * 1024))
            if not chunk:
                return b""
            skip -= len(chunk)
        return body.read(end - start)
    finally:
        body.close()  # the rest of the object is not read: the connection is dropped


def download(info: ObjectInfo, dest: Path, settings: S3Settings | None = None) -> None:
    """The whole object into `dest` (only for fixing, which must decode the pixels).

    Below the multipart size it is one GET streamed to disk (IfMatch: the listed
    version): boto3's download_file sends a HEAD first for the size we already
    have, a round trip per file. Larger objects take download_file's parallel
    ranged GETs; a store that ignores Range answers each with the whole object,
    which download_file writes at each part's offset (a 20 MB object came out
    36 MB), so a file of the wrong size is fetched again by one plain GET."""
    from botocore.exceptions import BotoCoreError

    try:
        if info.size >= MULTIPART_THRESHOLD:
            client(settings).download_file(info.bucket, info.key, str(dest))
            if dest.stat().st_size == info.size:
                return
            log.warning(
                "the S3 endpoint ignores Range: %s came out %d bytes for %d; fetched whole",
                info.uri,
                dest.stat().st_size,
                info.size,
            )
        for attempt in range(3):
            response = client(settings).get_object(
                Bucket=info.bucket,
                Key=info.key,
                **({"IfMatch": f'"{info.etag}"'} if info.etag else {}),
            )
            try:
                with open(dest, "wb") as out:
                    for chunk in response["Body"].iter_chunks(1024 * 1024):
                        out.write(chunk)
                return
            except (OSError, BotoCoreError):  # the connection broke mid-body: again
                if attempt == 2:
                    raise
    except Exception as exc:  # noqa: BLE001
        raise storage_error(exc, info.bucket, f"cannot download {info.uri}") from None

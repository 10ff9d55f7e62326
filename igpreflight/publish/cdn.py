"""Put media on S3-compatible storage and give back the URL Instagram will fetch.

Keys are content-addressed (`{prefix}/{sha256[:16]}/{safe-name}.{ext}`): the
same bytes always land on the same key, so a re-upload is a HEAD and nothing
more, and a URL handed to Instagram never starts serving different bytes. The
Content-Type comes from the probed content, never from the file name, and the
object is immutable, so it is cached for a year.

Credentials come only through boto3's own chain (AWS_PROFILE, AWS_ACCESS_KEY_ID,
instance roles...), and the endpoint from `endpoint_url` or AWS_ENDPOINT_URL_S3;
nothing here prints or logs them.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from igpreflight.formats import content_type_for, extension_for
from igpreflight.hashing import sha256_file
from igpreflight.model import Facts
from igpreflight.net.presign import SIGV4_MAX_EXPIRES
from igpreflight.storage.s3 import NO_CREDENTIALS, one_line, storage_error

log = logging.getLogger(__name__)

CACHE_CONTROL = "public, max-age=31536000, immutable"
ACLS = ("public-read", "none")
DEFAULT_MULTIPART_THRESHOLD = TransferConfig().multipart_threshold
MAX_NAME = 80  # characters of the original name kept in a key

Progress = Callable[[int], None]


class UploadError(Exception):
    """An upload failed, with a one-line reason; `config` is True when every
    upload would fail the same way (credentials, bucket, endpoint)."""

    def __init__(self, message: str, *, config: bool = False) -> None:
        super().__init__(message)
        self.config = config


@dataclass(frozen=True)
class UploadResult:
    """Where a file went and the URL to hand Instagram."""

    path: str
    bucket: str
    key: str
    url: str
    content_type: str
    sha256: str
    bytes: int
    skipped: bool  # the same bytes were already there
    multipart: bool = False
    presign_expires_in: int | None = None
    checksum: str | None = None  # "SHA256" when the storage verified it on upload

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_name(path: str | os.PathLike[str]) -> str:
    """The file's stem reduced to URL-safe ASCII (letters, digits, - _ .)."""
    stem = Path(path).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-._")
    return cleaned[:MAX_NAME].rstrip("-._") or "media"


def object_key(prefix: str, sha256: str, name: str, ext: str) -> str:
    """`{prefix}/{sha256[:16]}/{name}.{ext}`, without empty, `.` or `..` segments
    (a URL normaliser would resolve those, and the URL would name another key)."""
    parts = [p for p in prefix.strip("/").split("/") if p not in ("", ".", "..")]
    return "/".join([*parts, sha256[:16], f"{name}.{ext}"])


def make_client(
    *, endpoint_url: str | None = None, region: str | None = None, profile: str | None = None
) -> Any:
    """An S3 client from boto3's normal credential chain (SigV4, bounded retries).

    Raises UploadError(config=True) when the chain finds no credentials, so a
    missing setup is one clear line before any file is touched.
    """
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        if session.get_credentials() is None:
            raise UploadError(NO_CREDENTIALS, config=True)
        config = Config(
            signature_version="s3v4",
            # standard mode: 3 attempts with backoff, unless AWS_MAX_ATTEMPTS says otherwise
            retries={"mode": "standard"},
            connect_timeout=15,
            # Checksums only where we ask for them: boto3's default CRC32 headers
            # break several S3 clones; we send SHA-256 ourselves (see _put).
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            read_timeout=120,
        )
        return session.client("s3", endpoint_url=endpoint_url, config=config)
    except (BotoCoreError, ValueError) as exc:
        raise UploadError(f"cannot set up the S3 client: {one_line(exc)}", config=True) from None


def known_secrets(profile: str | None = None, *, token: bool = True) -> list[str]:
    """The secret key (and session token) the chain would use, so output can be
    scrubbed of them (defence in depth: nothing here prints them on purpose).

    token=False leaves the session token out: a URL presigned with temporary
    credentials must carry it (X-Amz-Security-Token) to work at all, and it is
    useless without the secret key.
    """
    try:
        creds = boto3.session.Session(profile_name=profile).get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except (BotoCoreError, ValueError):
        return []
    if frozen is None:
        return []
    values = (frozen.secret_key, frozen.token) if token else (frozen.secret_key,)
    return [v for v in values if v and len(v) >= 8]


def public_url(
    client: Any,
    bucket: str,
    key: str,
    *,
    public_base_url: str | None = None,
    presign: int | None = None,
) -> str:
    """The URL to hand Instagram: CDN base + key, a presigned GET, or the bucket URL.

    The bucket URL is botocore's own (virtual-host on AWS, path-style on custom
    endpoints, or whatever addressing style the user configured), without a query.
    """
    if public_base_url:
        return public_base_url.rstrip("/") + "/" + urllib.parse.quote(key, safe="/-._~")
    params = {"Bucket": bucket, "Key": key}
    if presign is not None:
        return client.generate_presigned_url("get_object", Params=params, ExpiresIn=presign)
    signed = client.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(signed)._replace(query="", fragment=""))


def upload_file(
    path: str | os.PathLike[str],
    *,
    bucket: str,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    public_base_url: str | None = None,
    presign: int | None = None,
    acl: str | None = None,
    client: Any = None,
    progress: Progress | None = None,
    multipart_threshold: int | None = None,
    facts: Facts | None = None,
) -> UploadResult:
    """Upload one file under its content-addressed key (skipped when already there).

    `progress` receives byte counts as they are sent (from transfer threads).
    `facts` saves a second probe when the caller has already checked the file.
    Raises UploadError; `.config` tells a setup problem from a per-file failure.
    """
    if acl not in (None, *ACLS):
        raise UploadError(f"--acl must be one of {', '.join(ACLS)}", config=True)
    if presign is not None and not 1 <= presign <= SIGV4_MAX_EXPIRES:
        raise UploadError(
            f"--presign must be between 1 and {SIGV4_MAX_EXPIRES} seconds (7 days, the SigV4 limit)",
            config=True,
        )
    if presign is not None and public_base_url:
        raise UploadError("give either --presign or --public-base-url, not both", config=True)
    local = Path(path)
    if facts is None:
        from igpreflight.preflight.probe import probe

        facts = probe(str(local))
    content_type = content_type_for(facts)
    size = local.stat().st_size
    sha256 = sha256_file(local)
    key = object_key(prefix, sha256, safe_name(local), extension_for(content_type, _ext(local)))
    if client is None:
        client = make_client(endpoint_url=endpoint_url, region=region)
    threshold = multipart_threshold or DEFAULT_MULTIPART_THRESHOLD
    multipart = size >= threshold
    checksum: str | None = None
    try:
        skipped = _already_there(client, bucket, key, size, sha256, content_type)
        if skipped:
            log.info("s3://%s/%s already holds these bytes; upload skipped", bucket, key)
            if acl == "public-read":
                client.put_object_acl(Bucket=bucket, Key=key, ACL="public-read")
            if progress is not None:
                progress(size)
        else:
            checksum = _put(
                client, local, bucket, key, size, sha256, content_type, acl, threshold, progress
            )
        url = public_url(client, bucket, key, public_base_url=public_base_url, presign=presign)
    except (ClientError, S3UploadFailedError, BotoCoreError) as exc:
        raise _as_upload_error(exc, bucket, local) from None
    return UploadResult(
        path=str(path),
        bucket=bucket,
        key=key,
        url=url,
        content_type=content_type,
        sha256=sha256,
        bytes=size,
        skipped=skipped,
        multipart=multipart and not skipped,
        presign_expires_in=presign,
        checksum=checksum,
    )


def _ext(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "bin"


def _already_there(
    client: Any, bucket: str, key: str, size: int, sha256: str, content_type: str
) -> bool:
    """True when HEAD shows the key with the same size, checksum and Content-Type.

    The checksum is our own `sha256` metadata (portable across S3 clones) or S3's
    full-object ChecksumSHA256 (multipart uploads only have a composite one).
    """
    try:
        # No ChecksumMode: some S3 clones (B2) refuse the header; our metadata is enough.
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code")
        if status in (403, 404) or code in ("404", "NoSuchKey", "NotFound", "403"):
            return False  # absent, or HEAD not allowed: upload (idempotent anyway)
        raise
    b64 = base64.b64encode(bytes.fromhex(sha256)).decode()
    same_hash = (
        head.get("Metadata", {}).get("sha256") == sha256 or head.get("ChecksumSHA256") == b64
    )
    return (
        head.get("ContentLength") == size
        and same_hash
        and head.get("ContentType", "").lower() == content_type
    )


def _put(
    client: Any,
    local: Path,
    bucket: str,
    key: str,
    size: int,
    sha256: str,
    content_type: str,
    acl: str | None,
    threshold: int,
    progress: Progress | None,
) -> str | None:
    """Upload with boto3's transfer manager: one PUT carrying our SHA-256 (S3
    verifies it against the bytes), or a multipart upload with per-part SHA-256.

    Storage that refuses checksum headers (Backblaze B2, older MinIO, s3proxy)
    gets the same upload without them; URL003 still compares the SHA-256 of
    what is served. Returns the checksum algorithm the storage verified, or None.
    """
    extra: dict[str, Any] = {
        "ContentType": content_type,
        "CacheControl": CACHE_CONTROL,
        "Metadata": {"sha256": sha256},
    }
    if acl == "public-read":
        extra["ACL"] = "public-read"
    checksums: dict[str, str] = {"ChecksumAlgorithm": "SHA256"}
    if size < threshold:
        checksums["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
    config = TransferConfig(
        multipart_threshold=threshold, multipart_chunksize=max(threshold, 5 * 1024 * 1024)
    )
    callback = _capped(progress, size)
    log.info(
        "uploading %s to s3://%s/%s (%d bytes, %s)",
        local.name,
        bucket,
        key,
        size,
        "multipart" if size >= threshold else "single PUT",
    )
    args = {"ExtraArgs": {**extra, **checksums}, "Config": config, "Callback": callback}
    try:
        client.upload_file(str(local), bucket, key, **args)
        return "SHA256"
    except (ClientError, S3UploadFailedError) as exc:
        if not checksum_refused(exc):
            raise
    log.debug("the storage refuses S3 checksum headers; uploading %s without them", local.name)
    client.upload_file(str(local), bucket, key, **{**args, "ExtraArgs": extra})
    return None


def checksum_refused(exc: BaseException) -> bool:
    """True when an S3 error says the storage does not support checksum headers
    or aws-chunked bodies (what B2 and some MinIO/s3proxy versions answer)."""
    cause = exc.__context__ if isinstance(exc, S3UploadFailedError) else exc
    if not isinstance(cause, ClientError):
        return False
    error = cause.response.get("Error", {})
    text = f"{error.get('Message', '')} {error.get('Code', '')}".lower()
    return error.get("Code") in (
        "InvalidArgument",
        "NotImplemented",
        "InvalidRequest",
        "BadRequest",
    ) and any(word in text for word in ("checksum", "aws-chunked", "unsupported header", "trailer"))


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


def _as_upload_error(exc: Exception, bucket: str, local: Path) -> UploadError:
    """One line for the user; setup problems flagged so the CLI exits 2."""
    cause: BaseException = exc
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        cause = exc.__context__
    error = storage_error(cause, bucket, f"upload of {local.name} failed")
    return UploadError(str(error), config=error.config)

"""Media onto S3-compatible storage, and the URL Instagram will fetch it from.

Keys are content-addressed (`{prefix}/{sha256[:16]}/{safe-name}.{ext}`): the
same bytes always land on the same key, so a re-upload is a HEAD and nothing
more, and a URL handed to Instagram never starts serving different bytes. The
Content-Type comes from the probed content (the caller's facts), never from the
file name, and the object is immutable, so it is cached for a year.

Where uploads go is one value, `UploadTarget`, from the command line or a Python
caller down to the write. The client, its credentials and endpoint, and the
writer with its checksum fallback are `s3`'s and `s3write`'s, shared with
`check` and `fix` over s3://.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from igpreflight.formats import content_type_for, extension_for
from igpreflight.hashing import sha256_file
from igpreflight.model import Facts
from igpreflight.net.presign import SIGV4_MAX_EXPIRES
from igpreflight.storage.s3 import S3Settings, StorageError, client, storage_error
from igpreflight.storage.s3uri import S3Uri

log = logging.getLogger(__name__)

CACHE_CONTROL = "public, max-age=31536000, immutable"
ACLS = ("public-read", "none")
# boto3's own default (TransferConfig().multipart_threshold), without importing boto3
DEFAULT_MULTIPART_THRESHOLD = 8 * 1024 * 1024
MAX_NAME = 80  # characters of the original name kept in a key

Progress = Callable[[int], None]


class UploadError(StorageError):
    """An upload failed, in one line; `config` is True when every upload would fail
    the same way (credentials, bucket, endpoint)."""


@dataclass(frozen=True)
class UploadTarget:
    """Where local media are uploaded and how Instagram will be handed their URL.

    `bucket` (and `prefix`) on the storage at `endpoint_url` (default: AWS, or
    AWS_ENDPOINT_URL_S3) in `region`; the URL is `public_base_url` + key (a CDN),
    a GET presigned for `presign` seconds, or the bucket's own URL. `acl`
    "public-read" makes each object public; None or "none" sends no ACL.
    Files of `multipart_threshold` bytes or more go by multipart upload.
    Raises ValueError for values that cannot work (the CLI's usage errors).
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    public_base_url: str | None = None
    presign: int | None = None
    acl: str | None = None
    multipart_threshold: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bucket, str) or not self.bucket.strip():
            raise ValueError("--bucket must name a bucket")
        if self.acl not in (None, *ACLS):
            raise ValueError(f"--acl must be one of {', '.join(ACLS)}")
        if self.presign is not None and not 1 <= self.presign <= SIGV4_MAX_EXPIRES:
            raise ValueError(
                f"--presign must be between 1 and {SIGV4_MAX_EXPIRES} seconds"
                " (7 days, the SigV4 limit)"
            )
        if self.presign is not None and self.public_base_url:
            raise ValueError("give either --presign or --public-base-url, not both")
        base = self.public_base_url
        if base and not base.lower().startswith(("https://", "http://")):
            raise ValueError("--public-base-url must start with https://")

    @classmethod
    def of(
        cls, target: UploadTarget | str | None, given: Mapping[str, Any] | None = None
    ) -> UploadTarget | None:
        """`target` itself, a bucket name's target, or one built from `given` (its
        fields as keywords, the Python API's shorthand); None when there is none.
        TypeError names a keyword that is not a field, ValueError a bad value."""
        given = {k: v for k, v in (given or {}).items() if v is not None}
        unknown = sorted(set(given) - {f.name for f in fields(cls)})
        if unknown:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
        if isinstance(target, str):
            target = cls(target)
        if target is None:
            return cls(**given) if given else None
        if given:
            raise TypeError("give the upload target or its fields as keywords, not both")
        return target

    @property
    def settings(self) -> S3Settings:
        """The storage these uploads go to (the client of `s3.client`)."""
        return S3Settings(endpoint_url=self.endpoint_url, region=self.region)

    @property
    def threshold(self) -> int:
        return self.multipart_threshold or DEFAULT_MULTIPART_THRESHOLD


@dataclass(frozen=True)
class UploadedObject:
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


def public_url(target: UploadTarget, key: str) -> str:
    """The URL to hand Instagram: CDN base + key, a presigned GET, or the bucket URL.

    The bucket URL is botocore's own (virtual-host on AWS, path-style on custom
    endpoints, or whatever addressing style the user configured), without a query.
    """
    if target.public_base_url:
        return target.public_base_url.rstrip("/") + "/" + urllib.parse.quote(key, safe="/-._~")
    params = {"Bucket": target.bucket, "Key": key}
    s3 = client(target.settings)
    if target.presign is not None:
        return s3.generate_presigned_url("get_object", Params=params, ExpiresIn=target.presign)
    signed = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(signed)._replace(query="", fragment=""))


def upload_file(
    path: str | os.PathLike[str],
    target: UploadTarget,
    facts: Facts,
    *,
    progress: Progress | None = None,
) -> UploadedObject:
    """Upload one file under its content-addressed key (skipped when already there).

    `facts` are the file's probed facts (its Content-Type and extension come from
    them). `progress` receives byte counts as they are sent (from transfer threads).
    Raises UploadError; `.config` tells a setup problem from a per-file failure.
    """
    from igpreflight.storage.s3write import put_file

    local = Path(path)
    content_type = content_type_for(facts)
    size = local.stat().st_size
    sha256 = sha256_file(local)
    ext = extension_for(content_type, local.suffix.lower().lstrip(".") or "bin")
    uri = S3Uri(target.bucket, object_key(target.prefix, sha256, safe_name(local), ext))
    checksum: str | None = None
    try:
        skipped = _already_there(target, uri, size, sha256, content_type)
        if skipped:
            log.info("%s already holds these bytes; upload skipped", uri)
            if target.acl == "public-read":
                client(target.settings).put_object_acl(
                    Bucket=uri.bucket, Key=uri.key, ACL="public-read"
                )
            if progress is not None:
                progress(size)
        else:
            checksum = put_file(
                local,
                uri,
                {"sha256": sha256},
                content_type,
                target.settings,
                cache_control=CACHE_CONTROL,
                acl=target.acl,
                sha256=sha256,
                multipart_threshold=target.threshold,
                progress=progress,
                what=f"upload of {local.name} failed",
            )
        url = public_url(target, uri.key)
    except Exception as exc:  # noqa: BLE001 - StorageError or any botocore error
        error = storage_error(exc, target.bucket, f"upload of {local.name} failed")
        raise UploadError(str(error), config=error.config) from None
    return UploadedObject(
        path=str(path),
        bucket=target.bucket,
        key=uri.key,
        url=url,
        content_type=content_type,
        sha256=sha256,
        bytes=size,
        skipped=skipped,
        multipart=size >= target.threshold and not skipped,
        presign_expires_in=target.presign,
        checksum=checksum,
    )


def _already_there(
    target: UploadTarget, uri: S3Uri, size: int, sha256: str, content_type: str
) -> bool:
    """True when HEAD shows the key with the same size, checksum and Content-Type.

    The checksum is our own `sha256` metadata (portable across S3 clones) or S3's
    full-object ChecksumSHA256 (multipart uploads only have a composite one).
    """
    from botocore.exceptions import ClientError

    try:
        # No ChecksumMode: some S3 clones (B2) refuse the header; our metadata is enough.
        head = client(target.settings).head_object(Bucket=uri.bucket, Key=uri.key)
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

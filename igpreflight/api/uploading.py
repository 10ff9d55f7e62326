"""`upload`: put checked media on S3-compatible storage and prove each URL works."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from igpreflight.api.errors import UsageError
from igpreflight.api.paths import PathLike, as_list
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.envelope import envelope
from igpreflight.net.presign import SIGV4_MAX_EXPIRES
from igpreflight.redaction import redact, register_secret
from igpreflight.states import UploadStatus
from igpreflight.storage.s3 import known_secrets
from igpreflight.storage.upload import (
    ACLS,
    DEFAULT_MULTIPART_THRESHOLD,
    UploadError,
    UploadTarget,
)

if TYPE_CHECKING:
    from igpreflight.publish.stage import FileUpload, ProgressFactory

STATUSES = tuple(UploadStatus)


@dataclass
class UploadResult:
    """Each file's outcome in input order: refused, uploaded or skipped (with its URL
    check), or failed. `strict` counts URL warnings as failures."""

    files: list[FileUpload] = field(default_factory=list)
    strict: bool = False

    @property
    def ok(self) -> bool:
        """Every file uploaded (or already there) and its URL passes."""
        return all(o.passed(self.strict) for o in self.files)

    def summary(self) -> dict[str, int]:
        checked = [o for o in self.files if o.url_check is not None]
        counts = {s: sum(o.status == s for o in self.files) for s in STATUSES}
        counts.update(
            files=len(self.files),
            urls_passing=sum(o.passed(self.strict) for o in checked),
            urls_failing=sum(not o.passed(self.strict) for o in checked),
        )
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The `upload --format json` document."""
        return envelope(summary=self.summary(), files=[o.to_dict() for o in self.files])


def upload(
    paths: PathLike | Iterable[PathLike],
    target: UploadTarget | str | None = None,
    *,
    allow_private: bool = False,
    check: bool = True,
    as_: str = "auto",
    timeout: float | None = None,
    strict: bool = False,
    progress: ProgressFactory | None = None,
    rules: RuleSelection | None = None,
    **target_fields: Any,
) -> UploadResult:
    """Check, upload and URL-check every media file under `paths`, in order.

    `target` says where: an UploadTarget, or a bucket name; its fields may also be
    given as keywords (`bucket=`, `prefix=`, `public_base_url=`, `presign=`...).
    Credentials come only from boto3's chain. A file failing `check` is refused
    unless check=False. A setup problem (credentials, bucket, endpoint) raises
    UploadError and stops the batch; misuse raises UsageError. `progress(label,
    size)` is a context manager yielding a per-byte callback (or None). `rules` is
    the project configuration: rules it turns off refuse nothing, roles come by glob.
    """
    from igpreflight.preflight.engine import iter_media_files
    from igpreflight.preflight.urlcheck import DEFAULT_DEADLINE
    from igpreflight.publish.stage import stage_file

    where = upload_target(target, target_fields)
    for secret in known_secrets():
        register_secret(secret)  # every message and log line hides them from now on
    if where is None:
        raise UsageError("give the bucket to upload to (--bucket)")
    files = iter_media_files(as_list(paths))
    if not files:
        raise UsageError("no media files found in the given paths")
    extra: dict[str, Any] = {} if progress is None else {"progress": progress}
    outcomes = [
        stage_file(
            display,
            absolute,
            where,
            allow_private=allow_private,
            check=check,
            as_=as_,
            rules=rules or DEFAULT_RULES,
            timeout=timeout or DEFAULT_DEADLINE,
            **extra,
        )
        for display, absolute in files
    ]
    return UploadResult(outcomes, strict=strict)


def without_storage_secrets(text: str) -> str:
    """`text` without the storage's secret key. The session token stays: a URL
    presigned with temporary credentials needs it to work at all."""
    return redact(text, known_secrets(token=False))


def upload_target(
    target: UploadTarget | str | None, fields: dict[str, Any] | None = None
) -> UploadTarget | None:
    """The API's upload target from `target` or its fields as keywords (None when
    neither is given); misuse is a UsageError naming the option."""
    try:
        return UploadTarget.of(target, fields)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


__all__ = [
    "ACLS",
    "DEFAULT_MULTIPART_THRESHOLD",
    "SIGV4_MAX_EXPIRES",
    "UploadError",
    "UploadResult",
    "UploadTarget",
    "upload",
    "upload_target",
    "without_storage_secrets",
]

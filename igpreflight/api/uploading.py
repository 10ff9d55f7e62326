"""`upload`: put checked media on S3-compatible storage and prove each URL works."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from igpreflight.api.errors import UsageError
from igpreflight.api.paths import PathLike, as_list
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.envelope import envelope
from igpreflight.publish.stage import FileUpload, ProgressFactory
from igpreflight.states import UploadStatus

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
    bucket: str,
    *,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    public_base_url: str | None = None,
    presign: int | None = None,
    acl: str = "none",
    allow_private: bool = False,
    check: bool = True,
    as_: str = "auto",
    multipart_threshold: int | None = None,
    timeout: float | None = None,
    strict: bool = False,
    progress: ProgressFactory | None = None,
    client: Any = None,
    rules: RuleSelection | None = None,
) -> UploadResult:
    """Check, upload and URL-check every media file under `paths`, in order.

    Credentials come only from boto3's chain. A file failing `check` is refused
    unless check=False. A setup problem (credentials, bucket, endpoint) raises
    UploadError and stops the batch; misuse raises UsageError. `progress(label,
    size)` is a context manager yielding a per-byte callback (or None). `rules` is
    the project configuration: rules it turns off refuse nothing, roles come by glob.
    """
    from igpreflight.preflight.engine import iter_media_files
    from igpreflight.preflight.urlcheck import DEFAULT_DEADLINE
    from igpreflight.publish.cdn import DEFAULT_MULTIPART_THRESHOLD, make_client
    from igpreflight.publish.stage import stage_file

    if presign is not None and public_base_url:
        raise UsageError("give either --presign or --public-base-url, not both")
    if public_base_url and not public_base_url.lower().startswith(("https://", "http://")):
        raise UsageError("--public-base-url must start with https://")
    files = iter_media_files(as_list(paths))
    if not files:
        raise UsageError("no media files found in the given paths")
    if client is None:
        client = make_client(endpoint_url=endpoint_url, region=region)
    extra: dict[str, Any] = {} if progress is None else {"progress": progress}
    outcomes = [
        stage_file(
            display,
            absolute,
            client=client,
            bucket=bucket,
            prefix=prefix,
            public_base_url=public_base_url,
            presign=presign,
            acl=acl,
            allow_private=allow_private,
            check=check,
            as_=as_,
            rules=rules or DEFAULT_RULES,
            multipart_threshold=multipart_threshold or DEFAULT_MULTIPART_THRESHOLD,
            timeout=timeout or DEFAULT_DEADLINE,
            **extra,
        )
        for display, absolute in files
    ]
    return UploadResult(outcomes, strict=strict)


__all__ = ["UploadResult", "upload"]

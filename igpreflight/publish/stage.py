"""One file's way to a public URL: check, upload, then the URL rules.

The `upload` command, and any caller that must hand Instagram a URL (the
publisher, `run`), go through `stage_file` so a file is refused, uploaded and
proven reachable the same way everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.model import Finding, Severity
from igpreflight.preflight.urlcheck import DEFAULT_DEADLINE, UrlCheckResult, check_url
from igpreflight.states import UploadStatus
from igpreflight.storage.upload import UploadedObject, UploadError, UploadTarget, upload_file

log = logging.getLogger(__name__)


@dataclass
class FileUpload:
    """What happened to one file: refused by check, uploaded (or already there)
    and its URL checked, or failed with a one-line error."""

    path: str
    status: UploadStatus
    upload: UploadedObject | None = None
    url_check: UrlCheckResult | None = None
    findings: list[Finding] = field(default_factory=list)  # from `check`
    error: str | None = None

    def passed(self, strict: bool = False) -> bool:
        if (
            self.status not in (UploadStatus.UPLOADED, UploadStatus.SKIPPED)
            or self.url_check is None
        ):
            return False
        return self.url_check.ok and not (strict and self.url_check.warnings)

    def to_dict(self) -> dict[str, Any]:
        up = self.upload
        return {
            "path": self.path,
            "status": self.status,
            "url": up.url if up else None,
            "bucket": up.bucket if up else None,
            "key": up.key if up else None,
            "content_type": up.content_type if up else None,
            "bytes": up.bytes if up else None,
            "sha256": up.sha256 if up else None,
            "multipart": up.multipart if up else None,
            "checksum": up.checksum if up else None,
            "presign_expires_in": up.presign_expires_in if up else None,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
            "url_check": self.url_check.to_dict() if self.url_check else None,
        }


ProgressFactory = Callable[[str, int], AbstractContextManager[Callable[[int], None] | None]]


def _no_progress(label: str, size: int) -> AbstractContextManager[None]:
    return nullcontext()


def stage_file(
    display: str,
    absolute: str,
    target: UploadTarget,
    *,
    check: bool = True,
    as_: str = "auto",
    allow_private: bool = False,
    timeout: float = DEFAULT_DEADLINE,
    progress: ProgressFactory = _no_progress,
    rules: RuleSelection = DEFAULT_RULES,
) -> FileUpload:
    """Check, upload to `target` and URL-check one file.

    Refused (status "refused") when `check` finds errors (of the rules the project
    configuration leaves on, in the role its `roles` give the file), unless check=False;
    a per-file upload failure is status "failed" with a one-line error. Raises
    UploadError only for setup problems (`.config`), which stop a batch.
    """
    from igpreflight.preflight.engine import check_file
    from igpreflight.preflight.probe import probe

    if check:
        report = check_file(absolute, rules.role(absolute, as_))
        facts, (findings, _) = report.facts, rules.keep(report.findings, absolute)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        if errors:
            log.info("%s refused: %s", display, ", ".join(f.rule for f in errors))
            return FileUpload(display, UploadStatus.REFUSED, findings=findings)
    else:
        facts, findings = probe(absolute), []
    try:
        with progress(Path(display).name, Path(absolute).stat().st_size) as advance:
            result = upload_file(absolute, target, facts, progress=advance)
    except UploadError as exc:
        if exc.config:
            raise
        return FileUpload(display, UploadStatus.FAILED, findings=findings, error=str(exc))
    except OSError as exc:  # the file vanished or cannot be read mid-batch
        return FileUpload(
            display,
            UploadStatus.FAILED,
            findings=findings,
            error=f"cannot read: {exc.strerror or exc}",
        )
    log.debug("%s -> %s (%s)", display, result.key, "skipped" if result.skipped else "uploaded")
    checked = check_url(
        result.url,
        local_path=absolute,
        expected_content_type=result.content_type,
        allow_private=allow_private,
        presign_expires_in=result.presign_expires_in,
        timeout=timeout,
    )
    status = UploadStatus.SKIPPED if result.skipped else UploadStatus.UPLOADED
    return FileUpload(display, status, upload=result, url_check=checked, findings=findings)

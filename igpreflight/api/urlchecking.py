"""`check_url`: fetch media URLs the way Instagram's fetcher does and apply URL001-URL006."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from igpreflight.api.errors import UsageError
from igpreflight.envelope import envelope
from igpreflight.preflight.urlcheck import DEFAULT_DEADLINE, UrlCheckResult


@dataclass
class CheckUrlResult:
    """Each URL's outcome, in the order given. `strict` counts URL warnings as failures."""

    urls: list[UrlCheckResult] = field(default_factory=list)
    strict: bool = False

    def passed(self, result: UrlCheckResult) -> bool:
        return result.ok and not (self.strict and result.warnings)

    @property
    def ok(self) -> bool:
        """Every URL passes (its warnings too, with `strict`)."""
        return all(self.passed(r) for r in self.urls)

    def summary(self) -> dict[str, int]:
        good = sum(self.passed(r) for r in self.urls)
        return {"urls": len(self.urls), "passing": good, "failing": len(self.urls) - good}

    def to_dict(self) -> dict[str, Any]:
        """The `check-url --format json` document."""
        return envelope(summary=self.summary(), urls=[r.to_dict() for r in self.urls])


def check_url(
    urls: str | Iterable[str],
    *,
    local: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    content_type: str | None = None,
    allow_private: bool = False,
    timeout: float = DEFAULT_DEADLINE,
    strict: bool = False,
) -> CheckUrlResult:
    """Fetch each URL once like Instagram would and apply the URL rules.

    `local` is the file each URL should serve (one per URL, in order; size, SHA-256
    and Content-Type are compared), `content_type` the type every URL must have
    (default: the local file's, else any accepted media type). Private, loopback
    and link-local hosts, and plain http, fail URL006 unless `allow_private`.
    `timeout` bounds each URL's whole check (redirects, headers and body).
    Nothing is printed; misuse raises UsageError.
    """
    from igpreflight.preflight.urlcheck import check_url as check_one

    wanted = [urls] if isinstance(urls, str) else list(urls)
    if not wanted:
        raise UsageError("give at least one URL")
    if local is None:
        files: list[str | None] = [None] * len(wanted)
    else:
        given = [local] if isinstance(local, (str, os.PathLike)) else list(local)
        if len(given) != len(wanted):
            raise UsageError(
                f"give one --local FILE per URL ({len(wanted)} URLs, {len(given)} files), or none"
            )
        files = [os.fspath(f) for f in given]
    results = [
        check_one(
            url,
            local_path=path,
            expected_content_type=content_type,
            allow_private=allow_private,
            timeout=timeout,
        )
        for url, path in zip(wanted, files, strict=True)
    ]
    return CheckUrlResult(results, strict=strict)


__all__ = ["DEFAULT_DEADLINE", "CheckUrlResult", "check_url"]

"""Check a media URL the way Instagram's fetcher meets it: URL001..URL006.

Instagram downloads media from a URL: no credentials, no cookies, a time-out.
"The media could not be fetched" (9004/2207052) and fetch time-outs (2207003)
are the errors users meet most, so before any container is created we do one
plain GET ourselves (`urlfacts.gather`) and apply the registered URL rules to
what it gave. The result keeps every rule's outcome (pass, fail, warn, skip)
for `check-url` and `upload`, the findings, and the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import igpreflight.preflight.rules.url as url_rules
from igpreflight.model import Finding, Severity
from igpreflight.net.guard import redact_url
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.urlfacts import DEFAULT_DEADLINE, MAX_MEDIA_BYTES, UrlFacts, gather

__all__ = ["DEFAULT_DEADLINE", "MAX_MEDIA_BYTES", "CheckOutcome", "UrlCheckResult", "check_url"]

_STATUS = {Severity.ERROR: "fail", Severity.WARNING: "warn", Severity.INFO: "warn"}


@dataclass(frozen=True)
class CheckOutcome:
    """One URL rule's result: pass, fail (error), warn or skip, with a one-line detail."""

    rule: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "status": self.status, "detail": self.detail}


@dataclass
class UrlCheckResult:
    """What one URL does when fetched: a finding per broken rule, every rule's
    outcome, and the measurements (status, redirects, bytes, seconds, MB/s)."""

    url: str
    findings: list[Finding] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    # Why the body did not arrive whole (None when it did): not fetched, an HTTP
    # error, truncated, over the byte cap, or the deadline. Not part of to_dict().
    incomplete: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when no URL rule is broken at error level."""
        return not self.errors

    def outcome(self, rule: str) -> CheckOutcome | None:
        return next((c for c in self.checks if c.rule == rule), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "measurements": self.measurements,
        }


def check_url(url: str, **options: Any) -> UrlCheckResult:
    """Fetch `url` once like Instagram would and apply URL001..URL006.

    The options are `urlfacts.gather`'s: `local_path` (the file the URL should
    serve: size, SHA-256 and Content-Type compared), `expected_content_type`,
    `allow_private`, `presign_expires_in` (otherwise read from the query),
    `timeout` (the overall deadline in seconds), `max_fetch_seconds` (URL004's
    limit), `sink` (a binary file that receives the body; complete only when
    `result.incomplete` is None) and `timeout_name` (the option `timeout` was
    set with, for messages).
    """
    return judge(gather(url, **options))


def judge(facts: UrlFacts) -> UrlCheckResult:
    """Apply every registered URL rule to the facts of one URL."""
    result = UrlCheckResult(url=facts.url, measurements=measure(facts))
    for code in sorted(REGISTRY.url):
        verdict = REGISTRY.url[code](facts)
        if isinstance(verdict, Finding):
            result.findings.append(verdict)
            result.checks.append(CheckOutcome(code, _STATUS[verdict.severity], verdict.message))
        else:
            result.checks.append(CheckOutcome(code, verdict.status, verdict.detail))
    result.incomplete = why_incomplete(facts)
    return result


def measure(f: UrlFacts) -> dict[str, Any]:
    """The measurements reported with the outcomes (JSON `measurements`)."""
    if f.refused:
        return {}
    m: dict[str, Any] = {"addresses": list(f.addresses)}
    got = f.fetch
    if got is None:
        return m
    headers = got.headers or {}
    rate = round(got.body_bytes / 1e6 / got.seconds, 3) if got.seconds > 0 else None
    m.update(
        {
            "status": got.status,
            "final_url": redact_url(got.final_url),
            "redirects": got.redirects,
            "content_type": headers.get("content-type"),
            "content_length": url_rules.declared_length(f),
            "bytes": got.body_bytes,
            "complete": got.complete,
            "seconds": round(got.seconds, 3),
            "ttfb_seconds": round(got.ttfb, 3) if got.ttfb is not None else None,
            "mb_per_s": rate,
            "sha256": got.sha256,
        }
    )
    gated = url_rules.fetch_problem(f) is None or got.stalled
    if gated and url_rules.speed_judged(f):
        projected = url_rules.projected_seconds(f)
        m["projected_seconds"] = round(projected, 3) if projected is not None else None
    return m


def why_incomplete(f: UrlFacts) -> str | None:
    """One line on why the body did not arrive whole, or None when it did."""
    if f.refused:
        return f.refused
    if f.host_problem:
        return f.host_problem
    got = f.fetch
    assert got is not None
    if got.complete:
        return None
    if got.status is not None and got.status != 200:
        return f"HTTP {got.status} {got.reason}".rstrip()
    if got.overlong:
        return url_rules.overlong(f)
    if got.truncated:
        return f"the body was truncated after {got.body_bytes} bytes ({got.truncated})"
    if got.deadline_hit and got.status == 200:
        return f"the body was not complete within {f.within} ({got.body_bytes} bytes received)"
    return got.failure or "the body did not arrive whole"

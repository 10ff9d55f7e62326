"""Text and JSON output of `upload` and `check-url`: path -> URL and each URL rule.

Kept apart from the commands so the same outcome renders identically wherever
it comes from (upload, check-url, or `run` later).
"""

from __future__ import annotations

from collections.abc import Sequence

from igpreflight.api.uploading import UploadResult
from igpreflight.envelope import dumps, envelope
from igpreflight.preflight.urlcheck import UrlCheckResult
from igpreflight.states import UploadStatus

MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "skip": "skip"}


def _checks_text(result: UrlCheckResult) -> list[str]:
    lines = [f"  {MARK[c.status]:<4}  {c.rule}  {c.detail}" for c in result.checks]
    m = result.measurements
    if m.get("status") is not None:
        rate = f" · {m['mb_per_s']:.3g} MB/s" if m.get("mb_per_s") else ""
        hops = len(m.get("redirects") or [])
        lines.append(
            f"        {m['status']} · {m.get('bytes', 0):,} bytes · {m.get('seconds', 0):.3g} s"
            f"{rate} · {hops} redirect{'s' if hops != 1 else ''}"
        )
    return lines


def upload_text(result: UploadResult) -> str:
    lines: list[str] = []
    for o in result.files:
        if o.status == UploadStatus.REFUSED:
            lines.append(f"{o.path}: refused, fails check (use --no-check to upload anyway)")
            lines += [
                f"  {f.severity.value:<7} {f.rule}  {f.message}"
                for f in o.findings
                if f.severity.value == "error"
            ]
            continue
        if o.status == UploadStatus.FAILED or o.upload is None:
            lines.append(f"{o.path}: upload failed: {o.error}")
            continue
        up = o.upload
        lines.append(f"{o.path} -> {up.url}")
        done = "already there, skipped" if o.status == UploadStatus.SKIPPED else "uploaded"
        lines.append(f"  {done}: s3://{up.bucket}/{up.key} ({up.content_type}, {up.bytes:,} bytes)")
        if o.url_check is not None:
            lines += _checks_text(o.url_check)
    counts = result.summary()
    files = counts["files"]
    lines.append(
        f"{files} file{'s' if files != 1 else ''}: {counts[UploadStatus.UPLOADED]} uploaded, "
        f"{counts[UploadStatus.SKIPPED]} already there, {counts[UploadStatus.REFUSED]} refused, {counts[UploadStatus.FAILED]} failed; "
        f"URLs: {counts['urls_passing']} passing, {counts['urls_failing']} failing"
    )
    return "\n".join(lines) + "\n"


def upload_json(result: UploadResult) -> str:
    return dumps(result.to_dict())


def _url_passed(result: UrlCheckResult, strict: bool) -> bool:
    return result.ok and not (strict and result.warnings)


def check_url_text(results: Sequence[UrlCheckResult], strict: bool = False) -> str:
    lines: list[str] = []
    for r in results:
        lines.append(r.url)
        lines += _checks_text(r)
    good = sum(_url_passed(r, strict) for r in results)
    lines.append(
        f"{len(results)} URL{'s' if len(results) != 1 else ''}: {good} passing, {len(results) - good} failing"
    )
    return "\n".join(lines) + "\n"


def check_url_json(results: Sequence[UrlCheckResult], strict: bool = False) -> str:
    good = sum(_url_passed(r, strict) for r in results)
    doc = envelope(
        summary={"urls": len(results), "passing": good, "failing": len(results) - good},
        urls=[r.to_dict() for r in results],
    )
    return dumps(doc)

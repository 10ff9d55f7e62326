"""Text and JSON output of `upload` and `check-url`: path -> URL and each URL rule.

Kept apart from the commands so the same outcome renders identically wherever
it comes from (upload, check-url, or `run` later).
"""

from __future__ import annotations

from igpreflight.api.uploading import UploadResult
from igpreflight.api.urlchecking import CheckUrlResult
from igpreflight.envelope import dumps
from igpreflight.preflight.urlcheck import UrlCheckResult
from igpreflight.states import UploadStatus
from igpreflight.textcheck import one_line

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
    return "\n".join(one_line(line) for line in lines) + "\n"


def upload_json(result: UploadResult) -> str:
    return dumps(result.to_dict())


def check_url_text(result: CheckUrlResult) -> str:
    lines: list[str] = []
    for r in result.urls:
        lines.append(r.url)
        lines += _checks_text(r)
    counts = result.summary()
    n = counts["urls"]
    lines.append(
        f"{n} URL{'s' if n != 1 else ''}: {counts['passing']} passing, {counts['failing']} failing"
    )
    return "\n".join(one_line(line) for line in lines) + "\n"


def check_url_json(result: CheckUrlResult) -> str:
    return dumps(result.to_dict())

"""Text and JSON output of `upload` and `check-url`: path -> URL and each URL rule.

Kept apart from the commands so the same outcome renders identically wherever
it comes from (upload, check-url, or `run` later).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from igpreflight.publish.stage import FAILED, REFUSED, SKIPPED, UPLOADED, FileUpload
from igpreflight.publish.urlcheck import UrlCheckResult

MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "skip": "skip"}


def _tool() -> dict[str, str]:
    from igpreflight import SPEC_VERSION, __version__

    return {"name": "igpreflight", "version": __version__, "spec": SPEC_VERSION}


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


def upload_text(outcomes: Sequence[FileUpload], strict: bool = False) -> str:
    lines: list[str] = []
    for o in outcomes:
        if o.status == REFUSED:
            lines.append(f"{o.path}: refused, fails check (use --no-check to upload anyway)")
            lines += [
                f"  {f.severity.value:<7} {f.rule}  {f.message}"
                for f in o.findings
                if f.severity.value == "error"
            ]
            continue
        if o.status == FAILED or o.upload is None:
            lines.append(f"{o.path}: upload failed: {o.error}")
            continue
        up = o.upload
        lines.append(f"{o.path} -> {up.url}")
        done = "already there, skipped" if o.status == SKIPPED else "uploaded"
        lines.append(f"  {done}: s3://{up.bucket}/{up.key} ({up.content_type}, {up.bytes:,} bytes)")
        if o.url_check is not None:
            lines += _checks_text(o.url_check)
    counts = {s: sum(o.status == s for o in outcomes) for s in (UPLOADED, SKIPPED, REFUSED, FAILED)}
    checked = [o for o in outcomes if o.url_check is not None]
    good = sum(o.passed(strict) for o in checked)
    lines.append(
        f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''}: {counts[UPLOADED]} uploaded, "
        f"{counts[SKIPPED]} already there, {counts[REFUSED]} refused, {counts[FAILED]} failed; "
        f"URLs: {good} passing, {len(checked) - good} failing"
    )
    return "\n".join(lines) + "\n"


def upload_json(outcomes: Sequence[FileUpload], strict: bool = False) -> str:
    checked = [o for o in outcomes if o.url_check is not None]
    summary = {
        s: sum(o.status == s for o in outcomes) for s in (UPLOADED, SKIPPED, REFUSED, FAILED)
    }
    summary.update(
        files=len(outcomes),
        urls_passing=sum(o.passed(strict) for o in checked),
        urls_failing=sum(not o.passed(strict) for o in checked),
    )
    doc = {
        "version": 1,
        "tool": _tool(),
        "summary": summary,
        "files": [o.to_dict() for o in outcomes],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


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
    doc = {
        "version": 1,
        "tool": _tool(),
        "summary": {"urls": len(results), "passing": good, "failing": len(results) - good},
        "urls": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

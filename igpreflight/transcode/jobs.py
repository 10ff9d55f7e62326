"""Phases 0 and 1 of a `fix` batch: which files, and each one probed, checked, planned.

A job is one input file as the user named it; planning it is header-only and cheap,
and settles the files no fix can help (unreadable, conflicting profiles, too big)
before any name is chosen or any work starts. Both phases never raise for one file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from igpreflight.model import (
    Facts,
    Finding,
    ImageFacts,
    Role,
    Unreadable,
    VideoFacts,
    role_for,
)
from igpreflight.pathnames import shown_path
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.file import unfixable_reason
from igpreflight.records import record
from igpreflight.storage.s3uri import is_s3
from igpreflight.transcode.aim import aim_for
from igpreflight.transcode.types import FileFixResult, FixOptions, FixPlan, FixStatus


@record
class FixJob:
    """One input file: as the user named it, where it is, and where it goes under --out."""

    display: str
    source: Path  # absolute
    rel: Path  # the output's place under --out (the input's own name, before any rename)


@record(frozen=False)
class _Planned:
    """One job as phase 1 left it: probed, checked, planned, or settled."""

    job: FixJob
    facts: Facts | None = None
    role: Role | None = None
    before: list[Finding] | None = None
    plan: FixPlan | None = None
    output: Path | None = None
    result: FileFixResult | None = None  # set when the file is settled in phase 1
    source_sha: str | None = None  # computed when a ledger is consulted
    output_sha: str | None = None  # the output's, when hashed while its proof ran


# ---------------------------------------------------------------- phase 0: which files


def collect_jobs(paths: Iterable[str | os.PathLike[str]], out: Path | None) -> list[FixJob]:
    """Files and folders -> jobs, in a stable order, each input once.

    A folder is walked (hidden files and the --out folder skipped) and its files
    keep their place relative to it; a named file lands at the top of --out.
    """
    jobs: list[FixJob] = []
    seen: set[str] = set()
    exclude = [out] if out is not None else []
    for given in paths:
        text = os.fspath(given)
        if Path(text).is_dir():
            from igpreflight.preflight.engine import iter_media_files

            found = iter_media_files([text], exclude=exclude)
            for display, absolute in found:
                rel = Path(os.path.relpath(display, text))
                if absolute not in seen:
                    seen.add(absolute)
                    jobs.append(FixJob(display, Path(absolute), rel))
        else:
            absolute = os.path.abspath(text)
            if absolute not in seen:
                seen.add(absolute)
                jobs.append(FixJob(shown_path(text), Path(absolute), Path(Path(text).name)))
    return jobs


# ---------------------------------------------------------------- phase 1: plan


def _settle(p: _Planned, status: FixStatus, reason: str | None) -> _Planned:
    facts = p.facts
    p.result = FileFixResult(
        source=p.job.display,
        output=None,
        status=status,
        plan=p.plan,
        before=list(p.before or []),
        reason=reason,
        bytes_before=getattr(facts, "bytes", 0) or 0,
    )
    return p


def _rules_path(job: FixJob) -> str | Path:
    """What the configuration's globs see: an object's s3:// URI (as bucket/key, as
    `check` matches it), else the file's path."""
    return job.display if is_s3(job.display) else job.source


def plan_job(job: FixJob, options: FixOptions, facts: Facts | None = None) -> _Planned:
    """Probe (unless `facts` are given: an object probed by ranged GETs), check and
    plan one file; never raises."""
    p = _Planned(job)
    try:
        facts = probe(job.source) if facts is None else facts
        p.facts = facts
        use = options.rules.role(_rules_path(job), options.as_)
        p.role = None if isinstance(facts, Unreadable) else role_for(facts.kind, use)
        p.before, planning, aim, conflict = aim_for(facts, p.role, options, _rules_path(job))
        if isinstance(facts, Unreadable):  # a storage that failed to serve it: not the file's
            status = FixStatus.FAILED if facts.unavailable else FixStatus.UNFIXABLE
            return _settle(p, status, unfixable_reason(facts))
        assert p.role is not None
        if conflict:  # the file's profiles leave no output that passes them all
            return _settle(p, FixStatus.UNFIXABLE, conflict)
        if isinstance(facts, ImageFacts):
            from igpreflight.transcode.image_memory import memory_reason
            from igpreflight.transcode.plan_image import plan_image

            p.plan = plan_image(facts, planning, p.role, options, aim)
            too_big = memory_reason(facts, p.plan, options)
            if too_big:
                return _settle(p, FixStatus.UNFIXABLE, too_big)
        elif isinstance(facts, VideoFacts):
            from igpreflight.transcode.plan_video import plan_video  # images need no video stack

            p.plan = plan_video(facts, planning, p.role, options, aim)
        else:  # pragma: no cover - probe returns one of the three
            return _settle(p, FixStatus.UNFIXABLE, "not an image or a video")
        if p.plan.status is FixStatus.UNFIXABLE:
            return _settle(p, FixStatus.UNFIXABLE, p.plan.reason or "no fix step resolves it")
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        return _settle(p, FixStatus.FAILED, _one_line(exc))
    return p


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]

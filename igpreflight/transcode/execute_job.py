"""Phase 3 of a `fix` batch for one file: its plan executed, proved, re-checked, renamed.

The output is written into a hidden temporary file next to its destination, which
is probed and checked again and only then renamed into place: an output that still
has an error is FAILED and removed, and an --in-place original is only ever
replaced by a file that passed. A source that does not decode is FILE001, whichever
decode finds it (the proof before, beside, or the conversion's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from igpreflight.atomic import temp_sibling
from igpreflight.hashing import sha256_file
from igpreflight.model import Facts, ImageFacts, Severity, Unreadable, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.decode import decode_error
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.file import unreadable
from igpreflight.transcode.aim import recheck_findings
from igpreflight.transcode.jobs import _one_line, _Planned, _rules_path
from igpreflight.transcode.output_names import _key
from igpreflight.transcode.types import FileFixResult, FixOptions, FixPlan, FixStatus

# The image pipeline (Pillow's transforms, the JPEG helpers, the plans and memory
# budget of images), the folder walk and the thread pool are imported where a batch
# needs them: fixing one video loads none of them (tests/test_startup.py).
IMAGE = "igpreflight.transcode.image"

# A batch progress object may also have `file(name)`: a 0..1 callback (or None) for one
# file's encode. Only the caller draws: called as a library, fix shows nothing.
FileProgress = Callable[[str], Callable[[float], None] | None]


def _with_quality(plan: FixPlan, quality: int | None) -> FixPlan:
    if quality is None:
        return plan
    steps = tuple(replace(s, detail=f"q{quality}") if s.name == "encode" else s for s in plan.steps)
    return replace(plan, steps=steps)


def _proven(result: FileFixResult, path: Path, facts: Facts, options: FixOptions) -> bool:
    """Decode `path` fully before the fix when nothing else will; settle `result` as
    FILE001 if it fails: images whose pixels the fix does not decode (copies, EXIF
    strips; a conversion's own decode proves its source) and videos left in place
    (their structure; every picture with --deep). Copied and remuxed videos are
    proved beside the remux (_ProofBeside)."""
    if isinstance(facts, ImageFacts):
        from igpreflight.transcode.image import decodes_pixels

        needed = not decodes_pixels(result.plan)
    else:
        needed = isinstance(facts, VideoFacts) and result.status is FixStatus.UNCHANGED
    broken = decode_error(path, facts, options.max_memory, options.deep) if needed else None
    if broken:
        _undecodable(result, broken)
    return not broken


class _ProofBeside:
    """The proof of a copied or remuxed video, run beside the remux: its structure
    (every packet read, the audio decoded), and with --deep every picture decoded.

    A copy or a remux hands the source's coded streams over untouched, so proving
    the source proves the output; started first, the proof runs while ffmpeg
    remuxes and the output is probed and checked, instead of after them (a remux of
    a 10 s 1080p clip with --deep is mostly this decode)."""

    def __init__(self, source: Path, facts: VideoFacts, frames: bool) -> None:
        import threading

        self._broken: str | None = None
        # The thread that starts the decode's ffmpeg waits for it (PDEATHSIG ties the
        # child to that thread), and lives exactly as long as the decode.
        self._thread = threading.Thread(
            target=self._run, args=(source, facts, frames), name="igpreflight-proof", daemon=True
        )
        self._thread.start()

    @classmethod
    def start(
        cls, source: Path, facts: Facts, status: FixStatus, deep: bool
    ) -> _ProofBeside | None:
        if not isinstance(facts, VideoFacts):
            return None
        copies = (FixStatus.COPIED, FixStatus.REMUXED)
        return cls(source, facts, deep) if status in copies else None

    def _run(self, source: Path, facts: VideoFacts, frames: bool) -> None:
        self._broken = decode_error(source, facts, frames=frames)

    def verdict(self) -> str | None:
        """Why the source does not decode (None: it does), once the decode is over."""
        self._thread.join()
        return self._broken


def _is_undecodable(exc: Exception) -> bool:
    """Whether `exc` is the image pipeline's Undecodable (never, if it was not loaded)."""
    image = sys.modules.get(IMAGE)
    return image is not None and isinstance(exc, image.Undecodable)


def _undecodable(result: FileFixResult, broken: str) -> None:
    """Settle `result` as FILE001: the source does not decode (as --deep says)."""
    result.status = FixStatus.UNFIXABLE
    reason = f"does not decode: {broken}"
    result.reason = f"{unreadable.code} {reason}"
    result.output = None
    result.before = check_facts(Unreadable(result.source, reason), None)


def run_job(
    p: _Planned, options: FixOptions, per_file: FileProgress | None = None
) -> FileFixResult:
    """Execute one plan into a temporary sibling, re-check it, then move it into place.
    `per_file(name)` may give a 0..1 callback for a long encode (the caller's display)."""
    if p.result is not None:
        return p.result
    assert p.plan is not None and p.facts is not None
    plan, facts, job, final = p.plan, p.facts, p.job, p.output
    result = FileFixResult(
        source=job.display,
        output=str(final) if final is not None else None,
        status=plan.status,
        plan=plan,
        before=list(p.before or []),
        bytes_before=getattr(facts, "bytes", 0),
    )
    if options.dry_run:
        return result
    assert final is not None
    if not _proven(result, job.source, facts, options):
        return result
    if plan.status is FixStatus.UNCHANGED:
        result.bytes_after = result.bytes_before
        return result
    tmp: Path | None = None
    written: Facts | None = None
    proof = _ProofBeside.start(job.source, facts, plan.status, options.deep)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(final)
        if isinstance(facts, ImageFacts):
            from igpreflight.transcode.image import apply_image

            result.plan = _with_quality(plan, apply_image(job.source, facts, plan, tmp, options))
        elif isinstance(facts, VideoFacts):
            from igpreflight.transcode.video import apply_video

            written = apply_video(
                job.source, facts, plan, tmp, options, per_file and per_file(job.display)
            )
        # A remux has probed what it wrote (the same bytes, renamed): not read again.
        if isinstance(facts, VideoFacts) and isinstance(written, VideoFacts):
            after_facts: Facts = replace(written, path=str(tmp))
        else:
            after_facts = probe(tmp)
        after = recheck_findings(after_facts, p.role, options, _rules_path(job))
        if proof is not None and not options.in_place:
            # The ledger's hashes, taken while the proof still decodes (the critical
            # path of a remux), not before the remux or after the proof.
            p.source_sha = p.source_sha or sha256_file(job.source)
            p.output_sha = sha256_file(tmp)
        broken = proof.verdict() if proof is not None else None
        if broken:
            _undecodable(result, broken)
            return result
        result.after = after
        errors = [f for f in result.after if f.severity is Severity.ERROR]
        if errors:
            result.status = FixStatus.FAILED
            result.reason = "the output still fails: " + "; ".join(
                f"{f.rule} {f.tagged_message}" for f in errors
            )
            return result
        result.bytes_after = tmp.stat().st_size
        if options.in_place:  # the replacement keeps the original's permissions
            os.chmod(tmp, job.source.stat().st_mode & 0o7777)
        os.replace(tmp, final)
        tmp = None
        if options.in_place and _key(final) != _key(job.source):
            job.source.unlink()
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        # A remux of a source that does not decode fails its re-check too (zeroed
        # media data came out as "VID002 no video stream"): the proof says why.
        broken = proof.verdict() if proof is not None else None
        if _is_undecodable(exc):  # the one decode that converts also proves the source
            _undecodable(result, str(exc))
        elif broken:
            _undecodable(result, broken)
        else:
            result.status = FixStatus.FAILED
            result.reason = _one_line(exc)
    finally:
        if proof is not None:
            proof.verdict()  # its ffmpeg never outlives the file's work
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    if result.status is FixStatus.FAILED:
        result.output = None
    return result

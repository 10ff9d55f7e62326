"""The `fix` batch driver: paths in, one FileFixResult per media file out.

Three phases, so that parallel work never races for a file name:
1. probe + check + plan every file (header-only, cheap);
2. choose every output name (mirroring the input layout under --out, the
   extension following the output format, never two files on one name and never
   over an input);
3. execute the plans (in a thread pool: Pillow and ffmpeg release the GIL), each
   into a hidden temporary file next to its destination, which is probed and
   checked again and only then renamed into place. An output that still has an
   error is FAILED and removed; an --in-place original is only ever replaced by
   a file that passed.
One bad file never stops the batch: every failure is caught per file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from igpreflight.atomic import temp_sibling
from igpreflight.hashing import sha256_file
from igpreflight.model import (
    AsOption,
    Facts,
    Finding,
    ImageFacts,
    Role,
    Severity,
    Unreadable,
    VideoFacts,
    role_for,
)
from igpreflight.pathnames import shown_path
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.decode import decode_error
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.file import unreadable
from igpreflight.storage.s3uri import is_s3
from igpreflight.transcode import jpeg_ahead
from igpreflight.transcode.aim import aim_for, recheck_findings
from igpreflight.transcode.folderlock import FolderBusy, folder_locks, out_lock, remove_own_temps
from igpreflight.transcode.ledger import Ledger, kind_of, options_key, remove_stale_temps
from igpreflight.transcode.option_text import parse_colour
from igpreflight.transcode.types import FileFixResult, FixOptions, FixPlan, FixStatus, Step

# The image pipeline (Pillow's transforms, the JPEG helpers, the plans and memory
# budget of images), the folder walk and the thread pool are imported where a batch
# needs them: fixing one video loads none of them (tests/test_startup.py).
IMAGE = "igpreflight.transcode.image"

Progress = Callable[[FileFixResult], None]
# A batch progress object may also have `file(name)`: a 0..1 callback (or None) for one
# file's encode. Only the caller draws: called as a library, fix shows nothing.
FileProgress = Callable[[str], Callable[[float], None] | None]


@dataclass(frozen=True)
class FixJob:
    """One input file: as the user named it, where it is, and where it goes under --out."""

    display: str
    source: Path  # absolute
    rel: Path  # the output's place under --out (the input's own name, before any rename)


@dataclass
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
        if isinstance(facts, Unreadable):
            return _settle(p, FixStatus.UNFIXABLE, f"{unreadable.code} {facts.reason}")
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


# ---------------------------------------------------------------- phase 2: names


def _key(path: Path) -> str:
    """Names compare case-insensitively: on macOS and Windows a.JPG is a.jpg."""
    return os.path.normcase(os.path.abspath(path)).lower()


def _candidates(want: Path, source_ext: str):
    yield want
    if source_ext and source_ext.lower() != want.suffix.lower().lstrip("."):
        yield want.with_name(f"{want.stem}.{source_ext}{want.suffix}")
    n = 2
    while True:
        yield want.with_name(f"{want.stem}-{n}{want.suffix}")
        n += 1


def assign_outputs(planned: Sequence[_Planned], out: Path | None) -> None:
    """Give every planned file its output path.

    The extension follows the output format. Files that keep their own name are
    served first; a later file that would land on a taken name (a.png and a.jpg
    both becoming a.jpg), or on any input of the batch, gets `a.png.jpg`, then
    `a-2.jpg`. In place, an existing file that is not the input is never replaced.
    """
    taken = {_key(p.job.source) for p in planned}
    active = [p for p in planned if p.result is None and p.plan is not None]

    def wanted(p: _Planned) -> Path:
        base = (out / p.job.rel) if out is not None else Path(p.job.display)
        ext = p.plan.extension if p.plan is not None else ""
        return base.with_suffix(f".{ext}") if ext else base

    # Outputs that keep the input's own name go first, then input order.
    order = sorted(
        range(len(active)),
        key=lambda i: (wanted(active[i]).name != active[i].job.source.name, i),
    )
    claimed: set[str] = set()
    for i in order:
        p = active[i]
        want = wanted(p)
        source_ext = p.job.source.suffix.lstrip(".")
        for cand in _candidates(want, source_ext):
            key = _key(cand)
            is_self = key == _key(p.job.source)
            if key in claimed:
                continue
            if out is not None and key in taken:
                continue  # never write over an input
            if out is None and not is_self and (key in taken or cand.exists()):
                continue  # in place: never replace another file
            claimed.add(key)
            p.output = cand
            break


# ---------------------------------------------------------------- phase 3: execute


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


def _with_quality(plan: FixPlan, quality: int | None) -> FixPlan:
    if quality is None:
        return plan
    steps = tuple(replace(s, detail=f"q{quality}") if s.name == "encode" else s for s in plan.steps)
    return replace(plan, steps=steps)


def _proven(result: FileFixResult, path: Path, facts: Facts, budget: int | None) -> bool:
    """Decode `path` fully before the fix when nothing else will; settle `result` as
    FILE001 if it fails: images whose pixels the fix does not decode (copies, EXIF
    strips; a conversion's own decode proves its source) and videos left in place.
    Copied and remuxed videos are proved beside the remux (_ProofBeside)."""
    if isinstance(facts, ImageFacts):
        from igpreflight.transcode.image import decodes_pixels

        needed = not decodes_pixels(result.plan)
    else:
        needed = isinstance(facts, VideoFacts) and result.status is FixStatus.UNCHANGED
    broken = decode_error(path, facts, budget) if needed else None
    if broken:
        _undecodable(result, broken)
    return not broken


class _ProofBeside:
    """The full decode that proves a copied or remuxed video, run beside the remux.

    A copy or a remux hands the source's coded streams over untouched, so decoding
    the source proves the output; started first, the decode runs while ffmpeg
    remuxes and the output is probed and checked, instead of after them (a remux of
    a 10 s 1080p clip is mostly this decode)."""

    def __init__(self, source: Path, facts: VideoFacts) -> None:
        import threading

        self._broken: str | None = None
        # The thread that starts the decode's ffmpeg waits for it (PDEATHSIG ties the
        # child to that thread), and lives exactly as long as the decode.
        self._thread = threading.Thread(
            target=self._run, args=(source, facts), name="igpreflight-proof", daemon=True
        )
        self._thread.start()

    @classmethod
    def start(cls, source: Path, facts: Facts, status: FixStatus) -> _ProofBeside | None:
        copies = (FixStatus.COPIED, FixStatus.REMUXED)
        return cls(source, facts) if isinstance(facts, VideoFacts) and status in copies else None

    def _run(self, source: Path, facts: VideoFacts) -> None:
        self._broken = decode_error(source, facts)

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
    if not _proven(result, job.source, facts, options.max_memory):
        return result
    if plan.status is FixStatus.UNCHANGED:
        result.bytes_after = result.bytes_before
        return result
    tmp: Path | None = None
    written: Facts | None = None
    proof = _ProofBeside.start(job.source, facts, plan.status)
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
        if _is_undecodable(exc):  # the one decode that converts also proves the source
            _undecodable(result, str(exc))
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


# ---------------------------------------------------------------- the entry point


def fix_paths(
    paths: Iterable[str | os.PathLike[str]],
    out: Path | str | None,
    options: FixOptions,
    jobs: int | None = 1,
    progress: Progress | None = None,
) -> list[FileFixResult]:
    """Fix every media file under `paths` into `out` (or in place), in input order.

    No printing, no exit: the caller renders the results. `jobs` None means one
    worker per CPU. A dry run may have neither `out` nor in_place (the plan only;
    outputs are then None). Raises ValueError only for misuse (neither or both of
    `out` and `options.in_place`), and FolderBusy when another run writes to `out`
    (an --in-place run waits for another one on the same folders instead).
    """
    if out is None and not options.in_place and not options.dry_run:
        raise ValueError("give an output folder, or in_place=True")
    if out is not None and options.in_place:
        raise ValueError("an output folder and in_place exclude each other")
    AsOption(options.as_)  # ValueError for an unknown role
    if options.aspect not in ("crop", "pad"):
        raise ValueError(f"aspect must be 'crop' or 'pad', not {options.aspect!r}")
    parse_colour(options.background)  # ValueError for an unknown colour
    if options.pad_color != "blur":
        parse_colour(options.pad_color)
    out_dir = Path(out) if out is not None else None
    job_list = collect_jobs(paths, out_dir)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(job_list) or 1))
    start = getattr(progress, "start", None)
    if start is not None:
        start(len(job_list))

    if not options.dry_run:
        jpeg_ahead.prestart([j.source for j in job_list], workers)
    planned = _map(lambda j: plan_job(j, options), job_list, workers)
    if out_dir is not None or options.in_place:
        assign_outputs(planned, out_dir)
    with contextlib.ExitStack() as held:
        ledger = None
        if out_dir is not None and not options.dry_run:
            held.enter_context(out_lock(out_dir))  # FolderBusy when another run has it
            remove_stale_temps(out_dir)
            ledger = Ledger(out_dir)
            held.callback(ledger.close)
        elif out_dir is not None:  # a dry run says what a real run would skip
            ledger = Ledger.existing(out_dir)
            if ledger is not None:
                held.callback(ledger.close)
        elif options.in_place and not options.dry_run:
            folders = {p.output.parent for p in planned if p.output is not None}
            held.enter_context(folder_locks(folders))
            for folder in folders:
                remove_own_temps(folder)  # what a killed --in-place run left
        try:
            todo = _resume(planned, ledger, options)
            return _execute(planned, todo, options, workers, ledger, progress)
        except BatchInterrupted:
            if out_dir is not None and not options.dry_run:
                remove_stale_temps(out_dir)  # whatever an interrupted encoder left behind
            raise


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: the files finished so far (in input order) are in
    `results`; unfinished ones left no output and no temporary file behind."""

    def __init__(self, results: list[FileFixResult], total: int) -> None:
        super().__init__(f"interrupted after {len(results)} of {total} files")
        self.results = results
        self.total = total


def _resume(planned: list[_Planned], ledger: Ledger | None, options: FixOptions) -> list[int]:
    """Settle every file an earlier run already fixed with the options that shape its
    kind of output; the indexes left to do."""
    todo = []
    for i, p in enumerate(planned):
        if ledger is None or p.result is not None or p.output is None:
            todo.append(i)
            continue
        if not ledger.has(p.output):
            # Nothing recorded there (a first run): nothing to resume, so the source
            # is hashed for the record later, beside the work (run_job, finish).
            todo.append(i)
            continue
        p.source_sha = sha256_file(p.job.source)
        status = ledger.done(p.source_sha, options_key(options, kind_of(p.facts)), p.output)
        if status is None:
            todo.append(i)
            continue
        p.result = resumed_result(p, status, str(p.output), p.output.stat().st_size)
    return todo


def resumed_result(p: _Planned, status: str, output: str, bytes_after: int) -> FileFixResult:
    """The result of a file an earlier run already fixed into `output`."""
    return FileFixResult(
        source=p.job.display,
        output=output,
        status=FixStatus(status),
        plan=p.plan,
        before=list(p.before or []),
        bytes_before=getattr(p.facts, "bytes", 0) or 0,
        bytes_after=bytes_after,
        resumed=True,
    )


def _execute(
    planned: list[_Planned],
    todo: list[int],
    options: FixOptions,
    workers: int,
    ledger: Ledger | None,
    progress: Progress | None,
) -> list[FileFixResult]:
    results: list[FileFixResult | None] = [p.result for p in planned]
    per_file: FileProgress | None = getattr(progress, "file", None)

    def finish(i: int, result: FileFixResult) -> None:
        # Recorded before it counts as done: a Ctrl-C that lands while the ledger is
        # written leaves the file unsettled, and the interrupt handler finishes it
        # again, so every file reported done is one a re-run resumes.
        p = planned[i]
        done = result.ok and result.output and not result.resumed and not options.dry_run
        if ledger is not None and done:
            ledger.record(
                p.job.source,
                p.source_sha or sha256_file(p.job.source),
                options_key(options, kind_of(p.facts)),
                result.status.value,
                Path(result.output),
                digest=p.output_sha,
            )
        results[i] = result
        if progress:
            progress(result)

    if progress:
        # Files settled before execution (resumed, unreadable) count now; the ones
        # still to run count when they finish, never both (`fix` once ended at 25/21).
        waiting = set(todo)
        for i, r in enumerate(results):
            if r is not None and i not in waiting:
                progress(r)
    try:
        if workers == 1:
            for n, i in enumerate(todo):
                ahead = planned[todo[n + 1]] if n + 1 < len(todo) else None
                if ahead is not None and ahead.result is None:  # the next one still to run
                    jpeg_ahead.decode_ahead(ahead.job.source, ahead.facts, ahead.plan, options)
                finish(i, run_job(planned[i], options, per_file))
        else:
            # Threads, not processes: Pillow and ffmpeg release the GIL, and the
            # plans need no pickling (bench/bench_fix_jobs.py: 2.0x threads vs
            # 1.4x processes on 2 cores).
            from concurrent.futures import ThreadPoolExecutor, as_completed

            pool = ThreadPoolExecutor(max_workers=workers)
            futures = {pool.submit(run_job, planned[i], options, per_file): i for i in todo}
            try:
                for fut in as_completed(futures):
                    finish(futures[fut], fut.result())
            except KeyboardInterrupt:
                # Drop what has not started, let running files end (a failed one
                # removes its temporary file), and keep every file that finished,
                # including those the main thread had not collected yet.
                pool.shutdown(wait=True, cancel_futures=True)
                # A file whose ffmpeg got the same Ctrl-C fails: it was interrupted,
                # not done, so only files that really finished are kept.
                for fut, i in futures.items():
                    finished = fut.done() and not fut.cancelled() and fut.exception() is None
                    if results[i] is None and finished and fut.result().ok:
                        finish(i, fut.result())
                raise
            finally:
                pool.shutdown(wait=True)
    except KeyboardInterrupt:
        done = [r for r in results if r is not None]
        raise BatchInterrupted(done, len(planned)) from None
    finally:
        jpeg_ahead.drop()
    return [r for r in results if r is not None]


def _map(fn, items, workers: int) -> list:
    if workers == 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def summarize(results: Sequence[FileFixResult]) -> dict[str, int]:
    """Counts per status plus the total, for reports."""
    counts = {s.value: 0 for s in FixStatus}
    for r in results:
        counts[r.status.value] += 1
    counts["files"] = len(results)
    counts["ok"] = sum(1 for r in results if r.ok)
    return counts


def steps_text(steps: Iterable[Step]) -> str:
    """'orient ..., resize ..., encode q92' for one-line reports."""
    return ", ".join(str(s) for s in steps)


__all__ = [
    "BatchInterrupted",
    "FolderBusy",
    "FixJob",
    "collect_jobs",
    "fix_paths",
    "summarize",
    "steps_text",
]

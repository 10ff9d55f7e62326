"""Phase 3 of a `fix` batch: every job run, in order or on threads, and Ctrl-C.

Each finished file is recorded in the ledger before it counts as done, so that a
re-run resumes every file a run reported done. Ctrl-C drops what has not started,
lets running files end, and raises BatchInterrupted with the files that finished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from igpreflight.hashing import sha256_file
from igpreflight.transcode import jpeg_ahead
from igpreflight.transcode.execute_job import FileProgress, run_job
from igpreflight.transcode.jobs import _Planned
from igpreflight.transcode.ledger import Ledger, kind_of, options_key
from igpreflight.transcode.types import FileFixResult, FixOptions

Progress = Callable[[FileFixResult], None]


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: the files finished so far (in input order) are in
    `results`; unfinished ones left no output and no temporary file behind."""

    def __init__(self, results: list[FileFixResult], total: int) -> None:
        super().__init__(f"interrupted after {len(results)} of {total} files")
        self.results = results
        self.total = total

    def __reduce__(self) -> tuple[type[BatchInterrupted], tuple[list[FileFixResult], int]]:
        # pickle's default calls __init__ with the message alone (a TypeError on
        # loading), so a process pool that ran `fix` could not hand it back.
        return type(self), (self.results, self.total)


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

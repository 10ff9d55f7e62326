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
This module validates the options, holds the folder locks and runs the phases:
`jobs` (which files, each planned), `output_names` (2), `resume` (what the ledger
says is done), `execute_job` (one file) and `execute_batch` (all of them, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from igpreflight.model import AsOption
from igpreflight.transcode import jpeg_ahead
from igpreflight.transcode.execute_batch import BatchInterrupted, Progress, _execute
from igpreflight.transcode.execute_job import FileProgress, run_job
from igpreflight.transcode.folderlock import FolderBusy, folder_locks, out_lock, remove_own_temps
from igpreflight.transcode.jobs import FixJob, _Planned, collect_jobs, plan_job
from igpreflight.transcode.ledger import Ledger, remove_stale_temps
from igpreflight.transcode.option_text import parse_colour
from igpreflight.transcode.output_names import assign_outputs
from igpreflight.transcode.resume import _resume, resumed_result
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus, Step

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
    # Moved out of this module; still importable from it for scale/, api/, posts.py
    # and bench/.
    "FileProgress",
    "Progress",
    "_Planned",
    "assign_outputs",
    "plan_job",
    "resumed_result",
    "run_job",
]

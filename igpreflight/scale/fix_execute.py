"""fix's execute phase on the client (`scale.fix`): resume, batch, and record.

Items the local ledger already records are resumed without work; the rest are
batched into tasks by what they cost (a video alone, images by source pixels,
objects by their requests) and run on the engine's session, each local output
recorded in the ledger as its task comes back, so a kill costs only the tasks in
flight. A refused write to --out stops the batch (every other file would fail alike).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from igpreflight.model import ImageFacts, VideoFacts
from igpreflight.scale.engine import Run, Session, task_budget, weighted_batches
from igpreflight.scale.execute import Item, execute_task, is_remote, source_hash
from igpreflight.storage.s3 import S3Settings, StorageError
from igpreflight.transcode.batch import BatchInterrupted, resumed_result
from igpreflight.transcode.ledger import Ledger, kind_of, options_key
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus

# An execute task holds images up to about this many source pixels (a 12 MP photo
# is a task of its own; ~0.3 s of work dwarfs Dask's ~1 ms per task), and at most
# IMAGES_PER_TASK of them; each S3 item also costs its requests, OBJECT_COST pixels' worth.
TASK_PIXELS = 8_000_000
IMAGES_PER_TASK = 32
OBJECT_COST = 250_000

Progress = Callable[[FileFixResult], None]


def execute_items(
    items: list[Item],
    options: FixOptions,
    session: Session,
    settings: S3Settings,
    ledger: Ledger | None,
    progress: Progress | None,
) -> list[FileFixResult]:
    """Every item's result, in order: resumed from the ledger when it recorded this
    source and these options, else fixed in tasks on the session's engine."""
    start = getattr(progress, "start", None)
    if start is not None:
        start(len(items))
    results: dict[int, FileFixResult] = {}
    todo: list[int] = []
    hashes: dict[int, str] = {}
    for i, item in enumerate(items):
        p = item.planned
        if ledger is not None and p.result is None and p.output is not None:
            hashes[i] = source_hash(item.source)
            status = ledger.done(hashes[i], options_key(options, kind_of(p.facts)), p.output)
            if status is not None:
                size = p.output.stat().st_size
                results[i] = resumed_result(p, status, str(p.output), size)
                if progress:
                    progress(results[i])
                continue
        todo.append(i)

    by_source = {id(items[i].source): i for i in todo}
    by_display = {items[i].source.display: i for i in todo}
    finished: list[FileFixResult] = list(results.values())
    recorded: set[int] = set()

    def record(i: int, result: FileFixResult) -> None:
        """A local output into the ledger as soon as its task is back, not when the
        whole batch is: a kill -9 or Ctrl-C then costs the tasks in flight, where it
        cost every file of the run (all redone by the next one)."""
        if i in recorded:
            return
        recorded.add(i)
        if ledger is None or options.dry_run or result.resumed:
            return
        if result.ok and result.output:
            item = items[i]
            ledger.record(
                Path(item.source.display),
                hashes.get(i) or source_hash(item.source),
                options_key(options, kind_of(item.planned.facts)),
                result.status.value,
                Path(result.output),
            )

    def done(result: FileFixResult) -> None:
        if result.stops_batch:  # --out refused a write: every other file would fail alike
            raise StorageError(result.reason or "the storage refused a write", config=True)
        finished.append(result)
        if result.source in by_display:
            record(by_display[result.source], result)
        if progress:
            progress(result)

    todo_items = [items[i] for i in todo]
    total = sum(_cost(it) for it in todo_items if not _heavy(it))
    if any(is_remote(it) for it in todo_items):
        # A pipelined task waits for its first fetch and its last upload: as few tasks as
        # the slots (two a slot on Dask, which balances them), IMAGES_PER_TASK items at most.
        per_slot = 1 if session.spec.kind == "local" else 2
        budget = max(1.0, total / (session.spec.slots * per_slot))
    else:
        budget = task_budget(total, session.spec.slots, TASK_PIXELS)
    tasks = weighted_batches(todo_items, _heavy, _cost, budget, IMAGES_PER_TASK)
    work = Run(
        partial(execute_task, options=options, settings=settings),
        partial(_execute_failed, options=options),
        done,
    )
    try:
        out = session.run(work, todo_items, tasks)
    except KeyboardInterrupt:
        raise BatchInterrupted([r for r in finished if r.ok], len(items)) from None
    for item, result in zip(todo_items, out, strict=True):
        i = by_source[id(item.source)]
        results[i] = result
        record(i, result)
    return [results[i] for i in range(len(items))]


def _heavy(item: Item) -> bool:
    return isinstance(item.planned.facts, VideoFacts)


def _cost(item: Item) -> float:
    """About what executing `item` costs, in source pixels (a decode, resize and encode
    scale with them); a file already settled, copied or left as it is costs its requests."""
    p = item.planned
    if p.result is not None:
        return 0.0
    if p.plan is None or p.plan.status in (FixStatus.COPIED, FixStatus.UNCHANGED):
        return OBJECT_COST
    facts = p.facts
    return OBJECT_COST + (facts.width * facts.height if isinstance(facts, ImageFacts) else 0)


def _execute_failed(item: Item, reason: str, options: FixOptions) -> FileFixResult:
    return FileFixResult(
        source=item.source.display,
        output=None,
        status=FixStatus.FAILED,
        plan=item.planned.plan,
        before=list(item.planned.before or []),
        reason=reason,
    )

"""`fix` over object storage and engines: any of local or s3:// in, local or s3:// out.

The same three phases as the local batch driver (`transcode.batch`), spread
over an engine:
1. plan (a task per many files): probe by ranged GETs, check, plan;
2. names (here, on the client, which sees every file): the output layout
   mirrors the input's, the extension follows the output format;
3. execute (several images, or one video, per task): an S3 output whose
   metadata already records this source's hash and these options is skipped;
   otherwise the source is fetched (objects must be decoded whole), fixed into
   a temporary folder by the local driver's `run_job` (which re-checks the
   output), and only a passing output is written: one PUT or one multipart
   upload, so there are never partial objects. A compliant object is decoded
   whole first, as a local one is, then copied server-side. Originals are never
   modified. A worker overlaps the network with its fixes (`scale.execute`); the
   client batches the items into tasks and records what comes back (`fix_execute`).
Local outputs keep the local driver's ledger, so a re-run resumes either way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path

from igpreflight.model import ImageFacts, Unreadable, VideoFacts
from igpreflight.pathnames import shown_path
from igpreflight.preflight.engine import S3_THREADS
from igpreflight.scale.engine import (
    EngineSpec,
    Run,
    Session,
    batches,
    light_batch_size,
    network_map,
)
from igpreflight.scale.execute import (
    VIRTUAL_ROOT,
    Item,
    Source,
    output_metadata,
)
from igpreflight.scale.fix_execute import Progress, execute_items
from igpreflight.scale.shard import Shard
from igpreflight.storage.objects import key_problem, list_media, name_problem, probe_object
from igpreflight.storage.s3 import (
    ObjectInfo,
    S3Settings,
    configure,
    current_settings,
    list_objects,
)
from igpreflight.storage.s3uri import S3Uri, is_s3
from igpreflight.transcode.batch import (
    BatchInterrupted,
    FixJob,
    _Planned,
    assign_outputs,
    collect_jobs,
    plan_job,
)
from igpreflight.transcode.folderlock import out_lock
from igpreflight.transcode.ledger import (
    Ledger,
    remove_stale_temps,
)
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus

PLAN_PER_TASK = 64


def collect_sources(
    paths: Sequence[str], out: str | None, settings: S3Settings | None = None
) -> list[Source]:
    """Inputs in the order given; folders and prefixes mirror their layout under --out."""
    out_uri = as_prefix(out) if out is not None and is_s3(out) else None
    out_local = Path(out) if out is not None and out_uri is None else None
    seen: set[str] = set()
    found: list[Source] = []
    for text in paths:
        if is_s3(text):
            prefix, objects = list_media(text, [out_uri] if out_uri else [], settings)
            rels = [o.key[len(prefix.key) :] for o in objects]
            items = [
                Source(o.uri, rel, obj=o, problem=key_problem(rel))
                for o, rel in zip(objects, rels, strict=True)
            ]
        else:
            jobs = collect_jobs([text], out_local)
            items = [Source(j.display, j.rel.as_posix(), local=str(j.source)) for j in jobs]
        for item in items:
            if str(item.virtual) not in seen:
                seen.add(str(item.virtual))
                found.append(item)
    return found


# ---------------------------------------------------------------- tasks (run on workers)


def plan_task(sources: list[Source], options: FixOptions, settings: S3Settings) -> list[_Planned]:
    configure(settings)
    facts = network_map(_probe_source, sources, _is_object, S3_THREADS)
    return [
        _plan_failed(src, src.problem, FixStatus.SKIPPED)
        if src.problem
        else plan_job(FixJob(src.display, src.virtual, Path(src.rel)), options, probed)
        for src, probed in zip(sources, facts, strict=True)
    ]


def _is_object(src: Source) -> bool:
    return src.obj is not None


def _probe_source(src: Source) -> ImageFacts | VideoFacts | Unreadable | None:
    """An object's facts from ranged GETs; a local file is probed by plan_job itself,
    and a skipped one not at all."""
    return probe_object(src.obj) if src.obj is not None and not src.problem else None


# ---------------------------------------------------------------- the driver (client side)


def fix_scaled(
    paths: Sequence[str],
    out: str | None,
    options: FixOptions,
    engine: EngineSpec | None = None,
    shard: Shard | None = None,
    progress: Progress | None = None,
) -> list[FileFixResult]:
    """Fix every input into `out` (a folder or an s3:// prefix), results in input order.

    Raises StorageError for listing/setup failures (and when --out refuses a write as
    it would refuse every file's: credentials, bucket, permissions), ValueError for misuse,
    BatchInterrupted on Ctrl-C (with the files finished so far).
    """
    if options.in_place and any(is_s3(p) for p in paths):
        raise ValueError("--in-place cannot replace s3:// originals; give --out s3://...")
    if out is None and not options.dry_run:
        raise ValueError("give --out (a folder or an s3:// prefix)")
    engine = engine or EngineSpec()
    settings = current_settings()
    if out is not None and is_s3(out):
        _refuse_out_around_prefixes(as_prefix(out), paths)
    sources = collect_sources(paths, out, settings)
    if shard is not None:
        # By the place under --out, not the whole name: inputs from two prefixes that
        # would meet on one output (in/a.png, more/a.png) are named apart in one shard.
        sources = [s for s in sources if shard.owns(s.rel)]
    out_uri = as_prefix(out) if out is not None and is_s3(out) else None
    out_root: Path | None = None
    if out_uri is not None:
        out_root = VIRTUAL_ROOT / out_uri.bucket / out_uri.key.rstrip("/")
    elif out is not None:
        out_root = Path(out).resolve()

    start = getattr(progress, "start", None)
    if start is not None:
        start(len(sources))  # the bar shows its total while the files are planned
    local_out = Path(out) if out is not None and out_uri is None else None
    with contextlib.ExitStack() as held:
        ledger = None
        if local_out is not None and not options.dry_run:
            # As the local driver: one run per folder (FolderBusy names the other), and
            # only the holder may clear temporary files a killed run left there.
            held.enter_context(out_lock(local_out))
            remove_stale_temps(local_out)
            ledger = Ledger(local_out)
            held.callback(ledger.close)
        elif local_out is not None:  # a dry run reads the ledger, changes nothing
            ledger = Ledger.existing(local_out)
            if ledger is not None:
                held.callback(ledger.close)
        session = held.enter_context(Session(engine))  # one cluster for both phases
        items = _plan(session, sources, options, settings, out_uri, out_root)
        try:
            results = execute_items(items, options, session, settings, ledger, progress)
            return _as_given(results, out_root, out) if local_out is not None else results
        except BatchInterrupted:
            session.close()  # a local cluster's workers stop writing first
            if ledger is not None:
                remove_stale_temps(local_out)  # then what they left behind goes
            raise


def _plan(
    session: Session,
    sources: list[Source],
    options: FixOptions,
    settings: S3Settings,
    out_uri: S3Uri | None,
    out_root: Path | None,
) -> list[Item]:
    """Phases 1 and 2: every source planned on the engine, then named under --out."""
    plan_fn = partial(plan_task, options=options, settings=settings)
    if session.spec.kind == "local" and any(_is_object(src) for src in sources):
        # A task probes its objects S3_THREADS at a time: one task a slot waits the
        # fewest round trips (small tasks would each wait theirs in turn).
        per_task = max(1, min(PLAN_PER_TASK, -(-len(sources) // session.spec.slots)))
    else:
        per_task = light_batch_size(len(sources), session.spec.slots, PLAN_PER_TASK)
    plan_tasks = batches(sources, lambda s: False, per_task)
    # The outputs already there, from one LIST page per 1000 keys, listed while the
    # sources are probed: an output that is not needs no HEAD (a round trip per file,
    # before any work) to know it is not done. A dry run lists too: it says what a real
    # run would skip.
    listing = _listing(out_uri, settings) if out_uri is not None else None
    try:
        planned = session.run(Run(plan_fn, _plan_failed), sources, plan_tasks)
    except KeyboardInterrupt:
        raise BatchInterrupted([], len(sources)) from None
    if out_root is not None or options.in_place:
        assign_outputs(planned, out_root)
    existing = {o.key for o in listing.result()} if listing is not None else None
    items = []
    for src, p in zip(sources, planned, strict=True):
        target = None
        if out_root is not None and p.output is not None:
            rel = p.output.relative_to(out_root).as_posix()
            too_long = name_problem(
                (out_uri.key if out_uri is not None else "") + rel, out_uri is not None
            )
            if too_long:
                p = replace(
                    p, output=None, result=_plan_failed(src, too_long, FixStatus.SKIPPED).result
                )
            elif out_uri is not None:
                target = S3Uri(out_uri.bucket, out_uri.key + rel)
        listed = existing is None or (target is not None and target.key in existing)
        items.append(Item(p, src, str(target) if target else None, listed))
    return items


def _as_given(
    results: list[FileFixResult], root: Path | None, out: str | None
) -> list[FileFixResult]:
    """Local outputs under --out as the user spelled it (`fixed/a.jpg`, as the local
    driver names them), not under the resolved folder the engine's tasks write to."""
    if root is None or out is None:
        return results
    prefix = f"{root}{os.sep}"
    return [
        replace(r, output=shown_path(Path(out) / r.output[len(prefix) :]))
        if r.output and r.output.startswith(prefix)
        else r
        for r in results
    ]


def as_prefix(text: str) -> S3Uri:
    """--out s3://b/fixed and s3://b/fixed/ both mean the prefix "fixed/"."""
    uri = S3Uri.parse(text)
    return uri if uri.is_prefix else S3Uri(uri.bucket, uri.key + "/")


def _refuse_out_around_prefixes(out: S3Uri, paths: Sequence[str]) -> None:
    """An --out prefix that holds an input prefix would leave nothing to fix."""
    for text in paths:
        if is_s3(text):
            given = S3Uri.parse(text)
            key = given.key if given.is_prefix else given.key + "/"
            if given.bucket == out.bucket and key.startswith(out.key):
                raise ValueError(f"--out {out} contains the input {text}; use another prefix")


def _listing(out_uri: S3Uri, settings: S3Settings) -> Future[list[ObjectInfo]]:
    """The objects under `out_uri`, listed in a thread of its own."""
    future: Future[list[ObjectInfo]] = Future()

    def run() -> None:
        try:
            future.set_result(list(list_objects(out_uri, settings)))
        except BaseException as exc:  # noqa: BLE001 - raised where the listing is read
            future.set_exception(exc)

    threading.Thread(target=run, name="igpreflight-listing", daemon=True).start()
    return future


def _plan_failed(source: Source, reason: str, status: FixStatus = FixStatus.FAILED) -> _Planned:
    """A source settled before its plan: its task kept failing, or it is skipped."""
    p = _Planned(FixJob(source.display, source.virtual, Path(source.rel)))
    p.result = FileFixResult(source.display, None, status, reason=reason)
    return p


__all__ = ["Source", "collect_sources", "fix_scaled", "output_metadata"]

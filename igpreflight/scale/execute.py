"""Executing fix plans over object storage: fetch, fix and store, overlapped in a worker.

A worker that fetched an object, fixed it and uploaded the output one after the
other left its core idle for every GET and PUT (tens of ms each on a real S3).
Here the next objects are fetched (and their outputs' HEADs asked) while one is
fixed, and finished outputs upload behind it: the fix itself (`run_job`, which
re-checks every output) runs on the worker's thread, the network in a few
threads beside it. Sources and outputs are temporary files, PREFETCH fetched and
UPLOADS uploading at most, so memory stays bounded whatever the objects' sizes.
bench/bench_s3_latency.py measures it behind a proxy adding 50 ms per request.
"""

from __future__ import annotations

import json
import mimetypes
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from igpreflight._version import __version__
from igpreflight.hashing import sha256_file
from igpreflight.model import Kind
from igpreflight.storage import staging
from igpreflight.storage.s3 import (
    ObjectInfo,
    S3Settings,
    StorageError,
    configure,
    download,
    head_object,
    head_size,
)
from igpreflight.storage.s3uri import S3Uri
from igpreflight.storage.s3write import copy_object, put_file
from igpreflight.transcode.batch import _Planned, resumed_result, run_job
from igpreflight.transcode.ledger import kind_of, options_key, shaping_options
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus

# Where objects sit in the names phase: one namespace with local paths, so the
# local driver's naming rules (no two outputs on one name, never over an input)
# apply to keys unchanged.
VIRTUAL_ROOT = Path("/__igpreflight_s3__")
META = "igpreflight-"  # prefix of our object metadata keys (x-amz-meta-igpreflight-...)
# A worker fixing objects keeps the network busy meanwhile: this many objects
# fetched ahead of the one it fixes, and this many outputs uploading behind it.
PREFETCH = 2
UPLOADS = 2


@dataclass(frozen=True)
class Source:
    """One input: how it is shown, its place under --out, and where its bytes are."""

    display: str
    rel: str  # posix path under --out (before the extension follows the format)
    local: str | None = None  # absolute path on disk
    obj: ObjectInfo | None = None  # or an object
    problem: str | None = None  # why it has no place under --out (an odd key): skipped

    @property
    def virtual(self) -> Path:
        if self.obj is not None:
            return VIRTUAL_ROOT / self.obj.bucket / self.obj.key
        assert self.local is not None
        return Path(self.local)


@dataclass(frozen=True)
class Item:
    """One file for the execute phase: its plan, its source, and its S3 output (if any)."""

    planned: _Planned
    source: Source
    out_uri: str | None = None
    out_listed: bool = True  # the output key was listed: HEAD it for an earlier run's metadata


def execute_task(
    items: list[Item], options: FixOptions, settings: S3Settings
) -> list[FileFixResult]:
    """Fix a task's items, in order. Over object storage the worker never waits on
    the network while it could compute: the next objects are fetched (and their
    outputs' HEADs asked) while one is fixed, and finished outputs upload in the
    background, PREFETCH and UPLOADS of them at most, each a temporary file (memory
    stays bounded whatever the objects' sizes)."""
    configure(settings)
    if len(items) <= 1 or options.dry_run or not any(is_remote(item) for item in items):
        results: list[FileFixResult] = []
        for item in items:
            stop = next((r for r in results if r.stops_batch), None)
            results.append(_stopped(item, stop) if stop else execute_one(item, options))
        return results
    return _pipelined(items, options)


def is_remote(item: Item) -> bool:
    """Whether the item's source or output is an object (its stages wait on the network)."""
    return item.source.obj is not None or item.out_uri is not None


def _pipelined(items: list[Item], options: FixOptions) -> list[FileFixResult]:
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    io = ThreadPoolExecutor(PREFETCH + UPLOADS, thread_name_prefix="igpreflight-s3")
    fetching: deque[Future[_Work]] = deque()
    storing: list[Future[FileFixResult]] = []
    ahead = 0

    def fetch_next() -> None:
        nonlocal ahead
        if ahead < len(items):
            fetching.append(io.submit(_fetch, items[ahead], options))
            ahead += 1

    work: _Work | None = None
    try:
        for _ in range(PREFETCH):
            fetch_next()
        for _ in items:
            work = fetching.popleft().result()
            fetch_next()
            stop = next((f.result() for f in storing if f.done() and f.result().stops_batch), None)
            if stop is not None:  # --out refused a write: the rest would be refused too
                work.close()
                work.result = _stopped(work.item, stop)
            work = _compute(work, options)  # on this thread: the worker's core
            while sum(not f.done() for f in storing) >= UPLOADS:
                wait([f for f in storing if not f.done()], return_when=FIRST_COMPLETED)
            storing.append(io.submit(_store, work, options))
            work = None
        return [f.result() for f in storing]
    except BaseException:
        if work is not None:  # the one being fixed when it stopped
            work.close()
        for future in fetching:  # fetched but never fixed: their temporary files go
            if not future.cancel():
                future.result().close()
        raise
    finally:
        io.shutdown(wait=True)


@dataclass
class _Work:
    """One item between the stages: fetched (its source local), computed, stored."""

    item: Item
    result: FileFixResult | None = None  # settled: resumed, failed, or fixed
    planned: _Planned | None = None  # the plan, pointed at the local source and staging
    target: S3Uri | None = None
    digest: str = ""
    tmp: tempfile.TemporaryDirectory[str] | None = None
    unmarked: bool = False  # the output key holds an object without our metadata

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def execute_one(item: Item, options: FixOptions) -> FileFixResult:
    """Fix one file to its output; never raises (a failure is a FAILED result)."""
    return _store(_compute(_fetch(item, options), options), options)


def _failed(item: Item, exc: BaseException, *, out: bool = False) -> FileFixResult:
    """A FAILED result; `out` says the error came from --out (a HEAD or a write), where
    a setup error (credentials, bucket, permissions) would meet every file: it stops
    the batch. A source that cannot be read is that file's failure alone (an object's
    own ACL or KMS key may refuse it)."""
    p = item.planned
    return FileFixResult(
        source=item.source.display,
        output=None,
        status=FixStatus.FAILED,
        plan=p.plan,
        before=list(p.before or []),
        reason=" ".join(str(exc).split())[:500] or type(exc).__name__,
        bytes_before=getattr(p.facts, "bytes", 0) or 0,
        stops_batch=out and isinstance(exc, StorageError) and exc.config,
    )


def _stopped(item: Item, stop: FileFixResult) -> FileFixResult:
    """An item not attempted because --out refused an earlier write of the task."""
    return _failed(item, StorageError(stop.reason or "", config=True), out=True)


def _fetch(item: Item, options: FixOptions) -> _Work:
    """The network before the fix: an output an earlier run finished (HEAD), and the
    source object downloaded to a temporary file."""
    p, src = item.planned, item.source
    work = _Work(item, result=p.result)
    if work.result is not None:
        return work
    try:
        if item.out_uri is not None:
            assert p.plan is not None and p.output is not None
            work.target = S3Uri.parse(item.out_uri)
            work.digest = source_hash(src)
            try:
                head = head_object(work.target) if item.out_listed else None  # dry runs too
            except StorageError as exc:
                work.result = _failed(item, exc, out=True)
                return work
            if head is not None:
                metadata = head.get("Metadata", {})
                work.unmarked = not any(k.startswith(META) for k in metadata)
                status = recorded_status(metadata, work.digest, options, kind_of(p.facts))
                if status is not None:
                    size = head_size(work.target, head)
                    work.result = resumed_result(p, status, str(work.target), size)
                    return work
        work.planned = p
        if src.obj is None or options.dry_run:
            return work
        work.tmp = staging.folder()
        local = Path(work.tmp.name) / f"source{PurePosixPath(src.obj.key).suffix}"
        download(src.obj, local)
        work.planned = replace(p, job=replace(p.job, source=local))
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        work.close()
        work.result = _failed(item, exc)
    return work


def _compute(work: _Work, options: FixOptions) -> _Work:
    """The fix itself (`run_job`: it re-checks the output), into the staging folder
    when the output is an object."""
    if work.result is not None or work.planned is None:
        return work
    try:
        p = work.planned
        if work.target is not None and not options.dry_run:
            if work.tmp is None:
                work.tmp = staging.folder()
            assert p.output is not None
            # A short local name: the key's own may be longer than a file name can be.
            p = replace(p, output=Path(work.tmp.name) / "out" / f"output{p.output.suffix}")
            work.planned = p
        work.result = run_job(p, options)
        if work.target is not None and options.dry_run:
            work.result.output = str(work.target)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        work.close()
        work.result = _failed(work.item, exc)
    return work


def _store(work: _Work, options: FixOptions) -> FileFixResult:
    """The network after the fix: a passing output uploaded (one PUT or multipart),
    or copied server-side when it is the source's own bytes; the temporary files go."""
    result = work.result
    assert result is not None
    try:
        result.unmarked_output = work.unmarked and result.ok and not result.resumed
        if work.target is None or options.dry_run or result.resumed or not result.ok:
            return result
        if work.planned is None or work.planned.output is None:
            return result
        src = work.item.source
        kind = kind_of(work.item.planned.facts)
        metadata = output_metadata(src, work.digest, options, result.status.value, kind)
        ctype = _content_type(work.target.key)
        # Even a compliant object went through run_job, as a local file does: it is
        # decoded whole first and a broken EXIF block dropped, which needs its bytes.
        # Only then, if its bytes are still the source's, is it copied server-side.
        if src.obj is not None and result.status is FixStatus.COPIED:
            copy_object(src.obj, work.target, metadata, ctype)
        else:
            put_file(work.planned.output, work.target, metadata, ctype)
        result.output = str(work.target)
        return result
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch...
        return _failed(work.item, exc, out=True)  # ...but a refused --out does
    finally:
        work.close()


def source_hash(src: Source) -> str:
    """What identifies the source's bytes: S3's ETag, or the SHA-256 of a local file."""
    if src.obj is not None:
        return f"etag:{src.obj.etag}"
    assert src.local is not None
    return f"sha256:{sha256_file(src.local)}"


def output_metadata(
    src: Source, digest: str, options: FixOptions, status: str, kind: Kind | None = None
) -> dict[str, str]:
    """The object metadata of an output (ASCII only, as S3 requires): the options that
    shape its kind of output, so a re-run with another kind's options skips it."""
    shaping = shaping_options(options, kind)
    return {
        f"{META}source": quote(src.display, safe="/:"),
        f"{META}source-hash": digest,
        f"{META}options": options_key(options, kind),
        f"{META}fix": quote(
            json.dumps(shaping, separators=(",", ":"), sort_keys=True, default=sorted), safe=""
        ),
        f"{META}status": status,
        f"{META}version": __version__,
    }


def recorded_status(
    metadata: dict[str, str], digest: str, options: FixOptions, kind: Kind | None = None
) -> str | None:
    """The status an earlier run recorded for this source and the options that shape
    its kind of output, else None."""
    if metadata.get(f"{META}source-hash") != digest:
        return None
    if metadata.get(f"{META}options") != options_key(options, kind):
        return None
    status = metadata.get(f"{META}status")
    return status if status in {s.value for s in FixStatus} else None


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"

"""Inputs in object storage: which objects a URI names, and their facts from ranged GETs."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from igpreflight.model import ImageFacts, Unreadable, VideoFacts
from igpreflight.storage import staging
from igpreflight.storage.ranged import RangedReader
from igpreflight.storage.s3 import (
    ObjectInfo,
    S3Settings,
    StorageError,
    download,
    head_object,
    head_size,
    list_objects,
)
from igpreflight.storage.s3uri import S3Uri

# The longest file name most file systems take (ext4, APFS, NTFS: 255 bytes or units).
NAME_MAX = 255
DOT_SEGMENTS = (".", "..")
MAX_KEY_BYTES = 1024  # S3's longest key, in UTF-8 bytes


def is_media_key(rel: str, extensions: Iterable[str]) -> bool:
    """A listed key is taken as a local folder walk takes a file: a media
    extension, and no hidden part (a `.igpreflight/` folder, a `.DS_Store`).

    A `.` or `..` segment is not a hidden name: such a key is listed, and whatever
    cannot use it says so (`key_problem`), rather than dropping it without a word."""
    if not rel or rel.endswith("/"):
        return False
    if any(part.startswith(".") and part not in DOT_SEGMENTS for part in rel.split("/")):
        return False
    return PurePosixPath(rel).suffix.lower().lstrip(".") in extensions


def key_problem(rel: str) -> str | None:
    """Why a key, relative to the prefix it was listed under, has no place in a folder
    tree (`fix` mirrors keys under --out), or None. S3 takes any key; a path does not:
    `a//b` and `a/./b` would both land on `a/b`, and `../` would climb out of --out."""
    parts = rel.split("/")
    if "" in parts:
        return "its key has an empty segment ('//', or a '/' at the start), which has no place under --out"
    for part in parts:
        if part in DOT_SEGMENTS:
            return f"its key has a '{part}' segment, which has no place under --out"
    return None


def name_problem(rel: str, s3_out: bool) -> str | None:
    """Why an output at `rel` under --out cannot be written (a name too long), or None."""
    if s3_out:
        size = len(rel.encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            return f"its output key would be {size} bytes long; S3 allows {MAX_KEY_BYTES}"
        return None
    for part in rel.split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > NAME_MAX:
            return f"its output name would be longer than {NAME_MAX} bytes, more than a file name may be"
    return None


def list_media(
    text: str, exclude: Sequence[S3Uri] = (), settings: S3Settings | None = None
) -> tuple[S3Uri, list[ObjectInfo]]:
    """The objects an s3:// URI names, in key order, with the prefix they are under.

    A URI ending in / (or a bare bucket) is a prefix: its media objects, at
    any depth. Otherwise it is the object of that key, always checked
    whatever its name, or when there is none, the prefix key + "/". Nothing
    at all is a StorageError(config=True), like a local path that does not exist.
    """
    from igpreflight.formats import media_extensions

    uri = S3Uri.parse(text)
    if not uri.is_prefix:
        head = head_object(uri, settings)
        if head is not None:
            etag = str(head.get("ETag", "")).strip('"')
            one = ObjectInfo(uri.bucket, uri.key, head_size(uri, head, settings), etag)
            return S3Uri(uri.bucket, uri.key.rpartition("/")[0] + "/" if "/" in uri.key else ""), [
                one
            ]
        uri = S3Uri(uri.bucket, uri.key + "/")
    excluded = [e for e in exclude if e.bucket == uri.bucket]
    found: list[ObjectInfo] = []
    listed = 0
    for info in list_objects(uri, settings):
        listed += 1
        if any(info.key.startswith(e.key) for e in excluded):
            continue
        if is_media_key(info.key[len(uri.key) :], media_extensions()):
            found.append(info)
    if not listed:
        raise StorageError(f"{text}: no such object or prefix", config=True)
    return uri, found


def probe_object(
    info: ObjectInfo, settings: S3Settings | None = None
) -> ImageFacts | VideoFacts | Unreadable:
    """Facts of one object from ranged GETs of its headers; never raises for bad input."""
    from igpreflight.preflight.probe import probe_stream

    try:
        with RangedReader(info, settings) as f:
            facts = probe_stream(info.uri, f, info.size)
    except (OSError, StorageError) as exc:
        return Unreadable(info.uri, f"cannot read: {exc}", info.size)
    if isinstance(facts, Unreadable) and f.refused:  # listed, but not ours to GET (FILE002)
        reason = f"access denied reading object {info.key!r} of bucket {info.bucket!r}"
        return Unreadable(info.uri, reason, info.size, refused=True)
    if isinstance(facts, Unreadable) and f.unavailable:  # the storage failed (FILE003)
        reason = f"the storage failed to serve object {info.key!r} of bucket {info.bucket!r}"
        detail = facts.reason.rpartition(f"{info.uri}: ")[2]
        return Unreadable(info.uri, f"{reason}: {detail}", info.size, unavailable=True)
    return facts


@contextmanager
def fetched_copy(uri: str, settings: S3Settings | None = None) -> Iterator[Path | None]:
    """A whole object in a temporary file, for what must decode it (review thumbnails);
    None when it cannot be read. The file is removed on exit."""
    target = S3Uri.parse(uri)
    try:
        head = head_object(target, settings)
    except StorageError:
        head = None
    if head is None:
        yield None
        return
    info = ObjectInfo(target.bucket, target.key, head_size(target, head, settings), "")
    try:
        with _downloaded(info, settings) as local:
            yield local
    except StorageError:
        yield None


@contextmanager
def _downloaded(info: ObjectInfo, settings: S3Settings | None = None) -> Iterator[Path]:
    """The object streamed to a temporary file (never held in memory), removed on exit."""
    with staging.folder() as tmp:
        local = Path(tmp) / f"object{PurePosixPath(info.key).suffix}"
        download(info, local, settings)
        yield local


# ---------------------------------------------------------------- check --deep


class ByteGate:
    """At most `budget` bytes of temporary files at once in this process; one object
    larger than the budget still goes, alone."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, size: int) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: self.held == 0 or self.held + size <= self.budget)
            self.held += size
        try:
            yield
        finally:
            with self._cond:
                self.held -= size
                self._cond.notify_all()


# Whole objects on the temporary disk at once (many ranged probes run in parallel;
# their deep decodes must not fill the disk), and decodes at once: each one is an
# ffmpeg child or a Pillow decode within the image memory budget, one per CPU.
DEEP_DISK_BUDGET = 2 << 30
DISK_MARGIN = 256 << 20  # left free on the temporary disk for everyone else
_DISK = ByteGate(DEEP_DISK_BUDGET)
_DECODES = threading.BoundedSemaphore(os.cpu_count() or 1)


def disk_problem(size: int, folder: str | None = None) -> str | None:
    """Why an object of `size` bytes cannot be fetched to the temporary folder, or None."""
    folder = folder or tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    if size + DISK_MARGIN <= free:
        return None
    return (
        f"not decoded: it needs {size / 1e6:,.1f} MB of temporary space and {folder} has "
        f"{free / 1e6:,.1f} MB free (set TMPDIR to a larger disk)"
    )


def object_decode_error(
    info: ObjectInfo, facts: ImageFacts | VideoFacts, settings: S3Settings | None = None
) -> str | None:
    """`check --deep` of an object: fetched whole to a temporary file within the disk
    budget, decoded as a local file is (`preflight.decode`), then removed. Why it does
    not decode (or could not be fetched), or None when every frame and sample does."""
    from igpreflight.preflight.decode import decode_error

    short = disk_problem(info.size)
    if short:
        return short
    with _DISK.hold(info.size):
        try:
            with _downloaded(info, settings) as local, _DECODES:
                return decode_error(local, facts)
        except StorageError as exc:
            return f"not decoded: {exc}"

"""A seekable, read-only file over an S3 object, fetched by ranged GETs on demand.

The probes (Pillow opened lazily, the JPEG/PNG/ISO-BMFF walkers, MediaInfo's
buffer API) only read headers and seek past payloads, so over this reader a
check costs a few small GETs: the head of the file, and for an MP4 whose moov
is at the end, the tail. Reads are rounded to whole blocks, neighbouring
missing blocks are fetched in one request, the first read fetches the last
block beside the head (nearly every probe checks the end next), and a bounded
LRU of blocks keeps memory flat even when a probe scans a whole file.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable

from igpreflight.storage.s3 import (
    ACCESS_DENIED,
    ObjectInfo,
    S3Settings,
    StorageError,
    get_range,
    store_failed,
)

BLOCK = 64 * 1024
FIRST_READ = 4 * BLOCK  # most headers (EXIF, ICC, ftyp+moov of short clips) fit here
MAX_CACHED_BLOCKS = 64  # 4 MB per open object


Fetch = Callable[[int, int], bytes]


class RangedReader(io.RawIOBase):
    """`open(...)`-like access to one object; `fetched` counts the bytes transferred."""

    def __init__(self, info: ObjectInfo, settings: S3Settings | None = None) -> None:
        super().__init__()
        self.info = info
        self.size = info.size
        self.name = info.uri
        self.mode = "rb"
        self._fetch: Fetch = lambda start, end: get_range(info, start, end, settings)
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self.fetched = 0
        self.requests = 0
        # A GET was refused (AccessDenied): the object is listed but not ours to read,
        # which the probe, seeing only an OSError, could not tell from a bad file.
        self.refused = False
        # A GET failed on the storage's side (5xx, throttling, a dropped connection)
        # after every retry: the object may be fine, the probe could not read it.
        self.unavailable = False

    # io.RawIOBase protocol
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(22, "negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer) -> int:  # noqa: ANN001 - any writable buffer
        view = memoryview(buffer).cast("B")
        data = self._read_at(self._pos, len(view))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(self.size - self._pos, 0)
        data = self._read_at(self._pos, size)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    # blocks
    def _read_at(self, pos: int, n: int) -> bytes:
        end = min(pos + n, self.size)
        if pos >= end:
            return b""
        first, last = pos // BLOCK, (end - 1) // BLOCK
        self._ensure(first, last)
        parts = [self._blocks[b] for b in range(first, last + 1)]
        for b in range(first, last + 1):
            self._blocks.move_to_end(b)
        joined = b"".join(parts)
        offset = pos - first * BLOCK
        return joined[offset : offset + (end - pos)]

    def _ensure(self, first: int, last: int) -> None:
        end_block = (self.size - 1) // BLOCK
        tail: list[int] = []
        if self.requests == 0 and first == 0:
            last = max(last, FIRST_READ // BLOCK - 1)
            if end_block > last:
                # The probes' truncation checks (JPEG EOI, PNG IEND, a moov at the end)
                # read the end next: fetched beside the head, one round trip for both.
                tail = [end_block]
        last = min(last, end_block)
        missing = [b for b in range(first, last + 1) if b not in self._blocks]
        # One GET per run of neighbouring missing blocks.
        runs: list[list[int]] = []
        for b in missing:
            if runs and runs[-1][-1] == b - 1:
                runs[-1].append(b)
            else:
                runs.append([b])
        if tail and tail[0] not in self._blocks:
            runs.append(tail)
        for run, data in zip(runs, self._fetch_runs(runs), strict=True):
            self.requests += 1
            self.fetched += len(data)
            for i, b in enumerate(run):
                self._blocks[b] = data[i * BLOCK : (i + 1) * BLOCK]
        # Evict the least recently used, never a block this read needs.
        while len(self._blocks) > max(MAX_CACHED_BLOCKS, last - first + 1):
            oldest = next(iter(self._blocks))
            if first <= oldest <= last:
                self._blocks.move_to_end(oldest)
                continue
            self._blocks.popitem(last=False)

    def _fetch_runs(self, runs: list[list[int]]) -> list[bytes]:
        """Each run's bytes, the runs' GETs in flight together."""
        if len(runs) <= 1:
            return [self._get(run) for run in runs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(runs)) as pool:
            return list(pool.map(self._get, runs))

    def _get(self, run: list[int]) -> bytes:
        start, stop = run[0] * BLOCK, min((run[-1] + 1) * BLOCK, self.size)
        try:
            data = self._fetch(start, stop)
        except StorageError as exc:
            self.refused = self.refused or exc.code in ACCESS_DENIED
            self.unavailable = self.unavailable or store_failed(exc)
            raise OSError(5, str(exc)) from None
        if len(data) != stop - start:
            raise OSError(5, f"{self.name} changed while it was read")
        return data

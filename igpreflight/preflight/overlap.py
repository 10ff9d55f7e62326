"""One worker's files, checked in input order, with MediaInfo's waits overlapped.

Most videos are MP4s whose facts are read natively (`mp4_native`), in this
thread like any image. Those that need MediaInfo (HEVC, Matroska, odd files)
would leave this thread waiting on the MediaInfo server, so they go to a second
thread, the videos' lane, as they are met: it keeps the server a few files ahead
(`probe_video.lookahead`) and waits on it while this thread goes on with the
rest. One server, one core's Python (the GIL), as --jobs 1 promises; a batch that
never needs MediaInfo starts neither the lane nor the server.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from igpreflight import formats
from igpreflight.model import FileReport, Kind
from igpreflight.preflight.target import Progress, Target, check_target

if TYPE_CHECKING:
    from concurrent.futures import Future

_DONE = None  # the end of the lane's queue


def check_overlapped(
    targets: Sequence[Target], progress: Progress | None = None
) -> list[FileReport]:
    """Check `targets` in one worker; results in input order."""
    results: list[FileReport | None] = [None] * len(targets)
    lane: _Lane | None = None
    try:
        for i, target in enumerate(targets):
            report = _check_here(target)
            if report is None:  # MediaInfo's to read: the lane's
                lane = lane or _Lane()
                lane.submit(i, target)
                continue
            results[i] = report
            if progress:
                progress(target.display)
        if lane is not None:
            for i, report in lane.finish():
                results[i] = report
                if progress:
                    progress(targets[i].display)
    finally:
        if lane is not None:
            lane.close()
    return [r for r in results if r is not None]


def _check_here(target: Target) -> FileReport | None:
    """The target's report, or None when its probe would wait on MediaInfo."""
    if not _may_need_mediainfo(target):
        return check_target(target)
    from igpreflight.preflight.probe_video import MediaInfoNeeded, native_only

    try:
        with native_only():
            return check_target(target)
    except MediaInfoNeeded:
        return None


def _may_need_mediainfo(target: Target) -> bool:
    """A local file whose extension says video (remote, deep and broken targets are
    checked in place, as before)."""
    if target.obj is not None or target.url or target.problem or target.deep:
        return False
    ext = os.path.splitext(target.resolved)[1].lower().lstrip(".")
    return formats.kind_for_extension(ext) is Kind.VIDEO


class _Lane:
    """The second thread: checks the targets it is given, in order, with the
    MediaInfo server kept ahead of it on those already given."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.queue: queue.SimpleQueue[tuple[int, Target] | None] = queue.SimpleQueue()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="igpreflight-videos")
        self.done: Future[list[tuple[int, FileReport]]] = self.pool.submit(self._run)

    def submit(self, index: int, target: Target) -> None:
        self.queue.put((index, target))

    def finish(self) -> list[tuple[int, FileReport]]:
        self.queue.put(_DONE)
        return self.done.result()

    def close(self) -> None:
        self.queue.put(_DONE)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> list[tuple[int, FileReport]]:
        from igpreflight.preflight.probe_video import lookahead

        reports: list[tuple[int, FileReport]] = []
        waiting: deque[tuple[int, Target]] = deque()
        ended = False
        with lookahead() as announce:
            while waiting or not ended:
                block = not waiting  # nothing to do: wait for the next file
                while not ended:
                    try:
                        item = self.queue.get(block=block)
                    except queue.Empty:
                        break
                    if item is _DONE:
                        ended = True
                    else:
                        waiting.append(item)
                        announce(item[1].resolved)
                        block = False
                if waiting:
                    index, target = waiting.popleft()
                    reports.append((index, check_target(target)))
        return reports

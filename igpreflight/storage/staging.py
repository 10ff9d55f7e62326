"""Temporary folders for objects passing through this process, gone even after kill -9.

`fix` over S3 downloads each source and stages each output in a temporary folder
(`check --deep` fetches objects too). A TemporaryDirectory is removed when its work
ends, but a process killed with -9 (the OOM killer, a preempted instance, a Dask
nanny restarting its worker, the user) left them in TMPDIR for good: a source and
an output for every file in flight, gigabytes for a video, run after run.

So a process keeps its folders inside one folder of its own,
`TMPDIR/igpreflight-stage-XXXXXXXX/`, and holds an flock(2) on the `.lock` file in
it for its whole life. The kernel drops the lock when the process dies, however it
dies, so the first staging of any later igpreflight process removes every such
folder whose lock it can take: their owners are gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are still removed on a clean exit
    fcntl = None  # type: ignore[assignment]

PREFIX = "igpreflight-stage-"
LOCK = ".lock"

_lock = threading.Lock()
_root: tuple[int, Path, int] | None = None  # (pid, folder, fd of its held lock)


def folder(prefix: str = "igpreflight-") -> tempfile.TemporaryDirectory[str]:
    """A new temporary folder (removed by `.cleanup()` or its `with`) in this
    process's staging folder, which a later run removes if this one is killed."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=root())


def root() -> Path:
    """This process's staging folder in the temporary folder, made (and stale ones
    removed) on first use; a forked child, or a new TMPDIR, gets a new one."""
    global _root
    with _lock:
        parent = Path(tempfile.gettempdir())
        if _root is None or _root[0] != os.getpid() or _root[1].parent != parent:
            remove_stale()
            _root = _make_root()
            atexit.register(_remove_root, _root)
        return _root[1]


def _make_root() -> tuple[int, Path, int]:
    # Locked before it can be seen under its final name: a sweeper never finds it
    # unlocked, so it never removes a live process's folder.
    parent = tempfile.gettempdir()
    hidden = Path(tempfile.mkdtemp(prefix=f".{PREFIX}", dir=parent))
    fd = os.open(hidden / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    final = Path(parent) / hidden.name[1:]
    os.rename(hidden, final)
    return os.getpid(), final, fd


def _remove_root(made: tuple[int, Path, int]) -> None:
    pid, path, fd = made
    if pid != os.getpid():
        return
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(fd)


def remove_stale(parent: str | None = None) -> int:
    """Remove the staging folders in `parent` (TMPDIR) whose process is gone; how many."""
    if fcntl is None:
        return 0
    parent = parent or tempfile.gettempdir()
    removed = 0
    try:
        names = [n for n in os.listdir(parent) if n.startswith(PREFIX)]
    except OSError:
        return 0
    for name in names:
        path = Path(parent) / name
        try:
            fd = os.open(path / LOCK, os.O_RDWR)
        except OSError:  # not ours, or already gone
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its process is alive
            os.close(fd)
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed

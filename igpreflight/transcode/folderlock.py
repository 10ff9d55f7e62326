"""One `fix` at a time per destination folder, and its own debris cleaned up.

Two runs on one --out used to delete each other's in-progress temporary files.
Now a run holds an exclusive lock on every folder it writes to: `--out` through
`DIR/.igpreflight/fix.lock` (which names the holder, so a second run can say who
it is waiting for), an --in-place folder through a lock on the folder itself
(nothing is written into the user's folder). Holding the lock also proves that
temporary files of our kind (`.name.XXXXXXXX.tmp.ext`) in that folder belong to
no live run: a run killed with -9 left them, and the next run removes them.
Locks are flock(2) locks: the kernel drops them when the holder dies.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from igpreflight.transcode.ledger import LEDGER_DIR, is_temp_name

LOCK_NAME = "fix.lock"

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not serialised there
    fcntl = None  # type: ignore[assignment]


class FolderBusy(RuntimeError):
    """Another igpreflight run holds the output folder (the message names it)."""


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    if text.startswith(f"pid {os.getpid()} "):
        # Another thread of this very process (the API called from two threads): its
        # command line is the host's, which named no igpreflight run at all.
        return f"another fix of this process (pid {os.getpid()}), from another thread"
    return text or "another igpreflight run"


def _command() -> str:
    """This process's command line as its user typed it: `igpreflight fix ...`, `python
    -m igpreflight fix ...`, or the command of a program that calls the API (whose
    arguments are its own: "igpreflight" put before them named a run there was not)."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if program == "__main__.py":
        program = f"python -m {os.path.basename(os.path.dirname(sys.argv[0]))}"
    return " ".join([program, *sys.argv[1:]])[:200]


@contextlib.contextmanager
def out_lock(out: Path) -> Iterator[None]:
    """Hold --out for this run, or raise FolderBusy naming the run that holds it."""
    folder = Path(out) / LEDGER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FolderBusy(
                    f"{out} is being written by {_holder(lock)}; wait for it to finish "
                    "or give another --out"
                ) from None
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.write(fd, f"pid {os.getpid()} ({_command()}, started {started})\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock


@contextlib.contextmanager
def folder_locks(folders: Iterable[Path]) -> Iterator[None]:
    """Hold each folder (waiting for another run to let go), in a fixed order so
    that two runs never wait for each other."""
    with contextlib.ExitStack() as stack:
        for folder in sorted({Path(f).resolve() for f in folders}):
            if fcntl is None or not folder.is_dir():
                continue
            fd = os.open(folder, os.O_RDONLY)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield


def remove_own_temps(folder: Path) -> int:
    """Delete our temporary files directly in `folder` (not below); how many.

    Call only while holding the folder's lock."""
    removed = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and is_temp_name(entry.name):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed

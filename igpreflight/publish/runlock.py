"""One `publish` at a time per journal: an exclusive lock beside it.

Two processes on one journal published duplicates (issue 14): each read "not
published" before the other wrote "published". The one-account journal is kept
for runs that name no accounts or database, so they take this lock; the second
run waits for the first, then finds its posts published. (The durable engine,
engine.py, needs no lock: DBOS hands each post to one worker.)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("igpreflight.publish")


@contextmanager
def journal_lock(journal: str | os.PathLike[str]) -> Iterator[None]:
    """Hold `<journal>.lock` (flock) while the block runs; wait if another run holds it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one run at a time is up to the user
        yield
        return
    path = Path(journal)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+", encoding="ascii") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            other = f.read().strip() or "?"
            log.warning("another publish (pid %s) is using %s; waiting for it", other, path)
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

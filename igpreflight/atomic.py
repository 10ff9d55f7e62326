"""Atomic writes: a hidden temporary file in the destination folder, then os.replace.

A reader (or a crash) never sees half a file, and a failure leaves no debris:
the temporary file is removed on any error, including KeyboardInterrupt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


# What mkstemp adds to the prefix: 8 random characters.
_RANDOM_CHARS = 8


def _name_max(folder: Path) -> int:
    """The longest file name (in bytes) the folder's file system takes."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows), or unknown
        return 255


def _clipped(stem: str, budget: int) -> str:
    """`stem` cut to at most `budget` bytes of its file-system encoding, between two
    characters (and never empty: the stale-temp pattern needs one character)."""
    if len(os.fsencode(stem)) <= budget:
        return stem
    kept, used = [], 0
    for char in stem:
        used += len(os.fsencode(char))
        if used > budget:
            break
        kept.append(char)
    return "".join(kept) or "_"


def temp_sibling(dst: Path) -> Path:
    """A new, hidden, empty file next to `dst` with the same extension (so that a
    probe of it sees the right extension). The caller removes or replaces it.

    Its name is `.{stem}.{8 random}.tmp{ext}`, with the stem shortened when the whole
    would pass the file system's name limit: a 250-byte name is legal, and its
    temporary file must be too (else `fix` failed with ENAMETOOLONG).

    Its permissions are those of a normally created file (0666 minus the umask),
    not mkstemp's private 0600, so the final file is as readable as any other."""
    dst = Path(dst)
    suffix = f".tmp{dst.suffix}" if dst.suffix else ".tmp"
    import tempfile  # loaded with the first write: `check` to stdout writes none

    budget = _name_max(dst.parent) - len(os.fsencode(suffix)) - _RANDOM_CHARS - 2  # 2 dots
    stem = _clipped(dst.stem, budget)
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=dst.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(name)


@contextmanager
def replacing(dst: Path) -> Iterator[Path]:
    """Yield a temporary path next to `dst`; on success it replaces `dst`, on error
    it is removed."""
    tmp = temp_sibling(dst)
    try:
        yield tmp
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(dst: Path, data: bytes) -> None:
    """Write `data` to `dst` atomically (flushed to disk before the rename)."""
    with replacing(Path(dst)) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def copy_file(src: Path, dst: Path) -> None:
    """Copy `src` byte for byte to `dst` atomically."""
    with replacing(Path(dst)) as tmp:
        import shutil

        shutil.copyfile(src, tmp)


def write_text(dst: Path, text: str) -> None:
    """Write a report atomically, readable like any other file (0666 minus the umask)."""
    with replacing(Path(dst).resolve()) as tmp:
        tmp.write_text(text, encoding="utf-8")

"""Read a small input file (a manifest, an accounts file) without trusting its size.

`--accounts /dev/zero` read the device to the end (4 GB, then more), a FIFO with
no writer blocked forever, and a folder raised a traceback. Here a file is looked
at (stat) before it is opened, and read to a byte limit: a folder, a file over
the limit, or (where only regular files make sense) a device, FIFO or socket is
one clear line, and no FIFO is ever opened where it is refused. A leaf module: it imports nothing from igpreflight.
"""

from __future__ import annotations

import os
import stat

MB = 1024 * 1024


class InputError(ValueError):
    """Why the input cannot be read, in one line naming it (a usage error)."""


def read_bounded(
    path: str | os.PathLike[str], limit: int, what: str, *, regular_only: bool = False
) -> bytes:
    """At most `limit` bytes of `path`; InputError when it is a folder, holds more
    than `limit` bytes, or (with `regular_only`) is not a regular file. `what`
    names the input in messages ("accounts file")."""
    shown = f"{what} {os.fspath(path)!r}"
    try:
        info = os.stat(path)  # before opening: opening a FIFO waits for a writer
        mode, size = info.st_mode, info.st_size
        if stat.S_ISDIR(mode):
            raise InputError(f"{shown} is a folder, not a file")
        if regular_only and not stat.S_ISREG(mode):
            raise InputError(f"{shown} is not a regular file (a device, FIFO or socket)")
        if stat.S_ISREG(mode) and size > limit:
            raise InputError(f"{shown} is larger than {_size(limit)}")
        # A pipe is read as `cat` would: its open waits for a writer, and it ends when
        # the writer closes it (or at the limit).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{shown} is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, MB))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if got > limit:
        raise InputError(f"{shown} is larger than {_size(limit)}")
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit} bytes"

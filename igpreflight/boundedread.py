"""Read a small input file (a manifest, an accounts file) without trusting its size.

`--accounts /dev/zero` read the device to the end (4 GB, then more), a FIFO with
no writer blocked forever, and a folder raised a traceback. Here a file is opened
without blocking, looked at (fstat) before any read, and read to a byte limit: a
folder, a file over the limit, or (where only regular files make sense) a device,
FIFO or socket is one clear line. A leaf module: it imports nothing from igpreflight.
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
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # a FIFO opens at once without a writer
    except FileNotFoundError:
        raise InputError(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{shown} is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{shown} is a folder, not a file")
        if not stat.S_ISREG(mode):
            if regular_only:
                raise InputError(f"{shown} is not a regular file (a device, FIFO or socket)")
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)  # a pipe: wait for its writer, as `cat` would
        elif os.fstat(fd).st_size > limit:
            raise InputError(f"{shown} is larger than {_size(limit)}")
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, MB))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise InputError(f"{shown} is larger than {_size(limit)}")
        return b"".join(chunks)
    except IsADirectoryError:
        raise InputError(f"{shown} is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit} bytes"

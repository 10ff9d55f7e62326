"""libmediainfo read field by field: the MediaInfo server's side (stdlib only).

pymediainfo asks libmediainfo for its whole report (every field of every
stream, as XML: 2.3 ms for a small MP4), then parses it in Python (0.9 ms),
and loads the library anew for each file. The probe reads 30 fields. So the
server loads libmediainfo once, opens each file and asks `MediaInfo_Get` for
those fields only, with `ReadByHuman` off (no display strings are built: 0.7 ms
a file); the answer is a small JSON object the parent reads in microseconds.
The values are the ones pymediainfo's attributes give (the first, raw value of
each field): a test compares the two on every video of the corpus.

This module imports only the standard library, so the server starts in the
time Python does.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import sys
from typing import IO, Any

from igpreflight.preflight.mediainfo_fields import FIELDS, Fields, Track

__all__ = ["FIELDS", "Fields", "Reader", "Track", "main"]

_NO_SEEK = ctypes.c_uint64(-1).value
_FINISHED = 0x08  # MediaInfo_Open_Buffer_Continue: the 4th bit says the parse is done
_CHUNK = 64 * 1024


def _library_names() -> list[str]:
    """pymediainfo's bundled library first (its wheel ships one), then the system's."""
    if os.name == "nt":
        names = ["MediaInfo.dll"]
    elif sys.platform == "darwin":
        names = ["libmediainfo.0.dylib", "libmediainfo.dylib"]
    else:
        names = ["libmediainfo.so.0"]
    spec = importlib.util.find_spec("pymediainfo")
    folders = list(spec.submodule_search_locations or []) if spec else []
    bundled = [os.path.join(d, n) for d in folders for n in names]
    return [p for p in bundled if os.path.isfile(p)] + names


def _load() -> Any:
    errors = []
    for name in _library_names():
        try:
            lib = (ctypes.WinDLL if os.name == "nt" else ctypes.CDLL)(name)  # type: ignore[attr-defined]
            break
        except OSError as exc:
            errors.append(str(exc))
    else:
        raise OSError(f"libmediainfo cannot be loaded: {'; '.join(errors)}")
    handle, size, text = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_wchar_p
    for name, args, result in (
        ("MediaInfo_New", [], handle),
        ("MediaInfo_Option", [handle, text, text], text),
        ("MediaInfo_Open", [handle, text], size),
        ("MediaInfo_Close", [handle], None),
        ("MediaInfo_Get", [handle, ctypes.c_int, size, text, ctypes.c_int, ctypes.c_int], text),
        ("MediaInfo_Count_Get", [handle, ctypes.c_int, ctypes.c_ssize_t], size),
        ("MediaInfo_Open_Buffer_Init", [handle, ctypes.c_uint64, ctypes.c_uint64], size),
        ("MediaInfo_Open_Buffer_Continue", [handle, ctypes.c_char_p, size], size),
        ("MediaInfo_Open_Buffer_Continue_GoTo_Get", [handle], ctypes.c_uint64),
        ("MediaInfo_Open_Buffer_Finalize", [handle], size),
    ):
        function = getattr(lib, name)
        function.argtypes, function.restype = args, result
    return lib


class ShortOfMemory(Exception):
    """The parse came near the server's memory cap: its answer is not trusted."""


class Reader:
    """One libmediainfo handle, one parse at a time (so parse speeds never mix)."""

    def __init__(self) -> None:
        self.cap = _data_cap()
        self.lib = _load()
        self.handle = self.lib.MediaInfo_New()
        self.lib.MediaInfo_Option(self.handle, "CharSet", "UTF-8")
        self.lib.MediaInfo_Option(self.handle, "ReadByHuman", "0")  # raw values only

    def read(self, target: str | IO[bytes], speed: float) -> Fields:
        """The fields of `target` (a path, or a seekable binary file read chunk by
        chunk through MediaInfo's buffer API). RuntimeError when it cannot be opened."""
        lib, handle = self.lib, self.handle
        lib.MediaInfo_Option(handle, "ParseSpeed", str(speed))
        if isinstance(target, str):
            if not lib.MediaInfo_Open(handle, target):
                lib.MediaInfo_Close(handle)
                raise RuntimeError(f"An error occured while opening {target} with libmediainfo")
        else:
            self._feed(target)
        if _short_of_memory(self.cap):
            # Not asked for a field, nor closed: a parse that met the cap can leave the
            # handle's lock held (libmediainfo 24.12 then waits on it for good in
            # MediaInfo_Get). The server is not reused after this.
            raise ShortOfMemory
        try:
            return {
                name: self._first(kind, fields) if name == "general" or self._has(kind) else None
                for name, (kind, fields) in FIELDS.items()
            }
        finally:
            lib.MediaInfo_Close(handle)

    def _has(self, kind: int) -> bool:
        return bool(self.lib.MediaInfo_Count_Get(self.handle, kind, -1))

    def _first(self, kind: int, fields: dict[str, str]) -> dict[str, str]:
        get = self.lib.MediaInfo_Get
        values = {attr: get(self.handle, kind, 0, param, 1, 0) for attr, param in fields.items()}
        return {attr: value for attr, value in values.items() if value}

    def _feed(self, source: IO[bytes]) -> None:
        """pymediainfo's buffer loop: MediaInfo says where to read next."""
        lib, handle = self.lib, self.handle
        size = source.seek(0, os.SEEK_END)
        source.seek(0)
        lib.MediaInfo_Open_Buffer_Init(handle, size, 0)
        while chunk := source.read(_CHUNK):
            if lib.MediaInfo_Open_Buffer_Continue(handle, chunk, len(chunk)) & _FINISHED:
                break
            seek = lib.MediaInfo_Open_Buffer_Continue_GoTo_Get(handle)
            if seek != _NO_SEEK:
                source.seek(seek)
                lib.MediaInfo_Open_Buffer_Init(handle, size, source.tell())
        lib.MediaInfo_Open_Buffer_Finalize(handle)


# ---------------------------------------------------------------- the server


class _Remote:
    """The parent's file, as the server sees it: each read asks the parent."""

    def __init__(self, size: int, requests: IO[bytes], answers: IO[bytes]) -> None:
        self.size, self.pos = size, 0
        self.requests, self.answers = requests, answers

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.pos = self.size + offset if whence == os.SEEK_END else offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, count: int = -1) -> bytes:
        count = self.size - self.pos if count < 0 else count
        self.answers.write(b"RD %d %d\n" % (self.pos, count))
        self.answers.flush()
        data = self.requests.read(int(self.requests.readline()))
        self.pos += len(data)
        return data


def _data_cap() -> int | None:
    """This process's RLIMIT_DATA (None: none), read when the server starts: near
    the cap, even importing `resource` can fail (its dlopen finds no memory)."""
    try:
        import resource
    except ImportError:  # not POSIX: no cap is set
        return None
    cap = resource.getrlimit(resource.RLIMIT_DATA)[0]
    return None if cap == resource.RLIM_INFINITY else cap


def _short_of_memory(cap: int | None) -> bool:
    """Whether this server came near its memory cap `cap`. libmediainfo survives
    most failed allocations and answers with what it had (partial or empty
    fields), so a parse that took more than half the cap is not trusted. (A server
    that passed it dies with its parse: its peak never carries over to the next
    file.)"""
    peak = _peak_bytes()
    return cap is not None and peak is not None and peak > cap // 2


def _peak_bytes() -> int | None:
    """This process's peak resident size since it started the server (Linux VmHWM;
    ru_maxrss would also count the parent it was forked from, before the exec).
    None where /proc does not say (macOS, whose RLIMIT_DATA is not enforced anyway)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop: read each requested file, answer `OK|ER|MB <size>\\n<payload>`
    (asking `RD <offset> <count>` for the bytes of a file the parent holds)."""
    reader = Reader()
    while line := requests.readline():
        request: dict[str, Any] = json.loads(line)
        size = request["size"]
        target = request["path"] if size is None else _Remote(size, requests, answers)
        try:
            fields = reader.read(target, request["speed"])
            status, payload = b"OK", json.dumps(fields).encode("utf-8", "surrogateescape")
            if _short_of_memory(reader.cap):
                status, payload = b"MB", b""
        except (ShortOfMemory, MemoryError):  # Python's own allocations failed too
            status, payload = b"MB", b""
        except Exception as exc:  # noqa: BLE001 - sent back; the parent decides
            status, payload = b"ER", " ".join(str(exc).split()).encode("utf-8", "replace")
        answers.write(status + b" %d\n" % len(payload) + payload)
        answers.flush()


def main() -> None:
    serve(sys.stdin.buffer, sys.stdout.buffer)

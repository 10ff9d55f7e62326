"""POST /v1/media's body: one file, streamed from the socket into the store.

The multipart body is parsed as it arrives (python-multipart's push parser), and
the file part is written straight into the media's incoming folder, so a 1 GB
upload never sits in memory or in a second temporary file. Whatever ends the
upload early (over the cap, a stall, the client leaving, a malformed body)
removes the incoming folder before the error goes on: nothing is left behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from igpreflight.serve.problems import Problem
from igpreflight.serve.store import MediaStore, safe_name

FILE_FIELD = "file"
MAX_FIELD = 1024  # bytes of a plain form field (`as`)
MAX_PARTS = 8


@dataclass
class Received:
    media_id: str
    name: str
    bytes: int
    fields: dict[str, str] = field(default_factory=dict)


class _Parts:
    """python-multipart callbacks that write the file part to disk, fields to memory."""

    def __init__(self, store: MediaStore, media_id: str, cap: int) -> None:
        self.folder = store.incoming_root / media_id
        self.cap = cap  # bytes the file may have (--max-upload)
        self.fields: dict[str, str] = {}
        self.name: str | None = None
        self.size = 0
        self.parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None
        self._buffer = bytearray()
        self._file = None
        self.ended = False  # the closing boundary arrived

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise Problem(422, f"a media upload has at most {MAX_PARTS} parts", "bad-upload")
        self._disposition = b""
        self._field = None
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise Problem(422, "each part needs a Content-Disposition name", "bad-upload")
        self._field = options[b"name"].decode("utf-8", "replace")
        if self._field == FILE_FIELD:
            if self.name is not None:
                raise Problem(422, "send one file per upload", "bad-upload")
            self.name = safe_name(file_name(self._disposition, options))
            self._file = open(self.folder / self.name, "wb")  # noqa: SIM115 - closed in on_part_end

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            if self.size + len(chunk) > self.cap:  # the body's cap has room for the form
                raise upload_too_large(self.cap)
            self._file.write(chunk)
            self.size += len(chunk)
        else:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD:
                raise Problem(422, f"form field {self._field!r} is too long", "bad-upload")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._field is not None:
            self.fields[self._field] = self._buffer.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


_EXTENDED = re.compile(rb"(?:^|;)\s*filename\*\s*=\s*([^;]+)", re.I)


def file_name(disposition: bytes, options: dict[bytes, bytes]) -> str:
    """The file part's name as the client meant it: RFC 5987's `filename*`
    (charset''percent-encoded, preferred as RFC 6266 says), which python-multipart
    drops, so a client sending only it (urllib3 before 1.25) lost its extension;
    else `filename` as UTF-8, or Latin-1 for the bytes of an older client, which
    'replace' turned into a name missing its accented letters."""
    extended = _EXTENDED.search(disposition)
    if extended:
        charset, _, rest = extended[1].strip().strip(b'"').partition(b"'")
        encoded = rest.partition(b"'")[2]
        try:
            return unquote_to_bytes(encoded).decode(charset.decode("ascii") or "utf-8")
        except (LookupError, UnicodeDecodeError):
            pass  # an unknown charset or bad bytes: the plain name, if any
    raw = options.get(b"filename", b"")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def upload_too_large(cap: int) -> Problem:
    """413 naming the cap as the operator set it (--max-upload MB)."""
    shown = f"{cap / 2**20:,.0f} MB" if cap % 2**20 == 0 else f"{cap:,} bytes"
    return Problem(
        413,
        f"the file is larger than this service's {shown} (--max-upload)",
        "too-large",
        headers={"Connection": "close"},  # the rest of the body is left unread
    )


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise Problem(
            415, "upload the file as multipart/form-data with a part named 'file'", "not-multipart"
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise Problem(400, "the multipart Content-Type has no boundary", "bad-upload")
    return boundary


async def receive_file(request: Request, store: MediaStore, cap: int) -> Received:
    """Stream the request's file part (at most `cap` bytes) into a new incoming
    folder of `store`."""
    boundary = boundary_of(request.headers.get("content-type"))
    media_id, _ = store.incoming()
    parts = _Parts(store, media_id, cap)
    callbacks = {
        name: getattr(parts, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        parts.close()
        if not parts.ended:
            raise Problem(400, "the multipart body ended before its closing boundary", "bad-upload")
        if parts.name is None:
            raise Problem(422, "no part named 'file' in the upload", "bad-upload")
        return Received(media_id, parts.name, parts.size, parts.fields)
    except MultipartParseError as exc:
        parts.close()
        store.discard(media_id)
        raise Problem(400, f"malformed multipart body: {exc}", "bad-upload") from None
    except BaseException:  # over the cap, a stall, ClientDisconnect, cancellation
        parts.close()
        store.discard(media_id)
        raise

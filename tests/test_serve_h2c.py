"""A request offering an HTTP/2 upgrade (`Upgrade: h2c`) is served as HTTP/1.1.

Java's built-in java.net.http.HttpClient prefers HTTP/2, so over a plain http://
URL every request it sends offers the upgrade, body and all (curl --http2 does
the same). The trial's Java client got 400 "the multipart body ended before its
closing boundary" for its upload, then "Invalid HTTP request received." for the
next request on the connection: uvicorn's httptools parser stops at an upgrade
offer and drops the body (Kludex/uvicorn#2722). The bytes below are what Java 17
sent, headers and body written apart as it writes them.
"""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

from PIL import Image
from serve_support import serve_process

OFFER = (
    b"Connection: Upgrade, HTTP2-Settings\r\n"
    b"HTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA\r\n"
    b"Upgrade: h2c\r\n"
    b"User-Agent: Java-http-client/17.0.15\r\n"
)


def answers(sock: socket.socket, count: int) -> list[bytes]:
    """The status lines of the next `count` answers on `sock` (bodies skipped)."""
    data, got = b"", []
    deadline = time.monotonic() + 60
    while len(got) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = int(
                next(
                    line.split(b":", 1)[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
            )
            if len(rest) >= length:
                got.append(head.split(b"\r\n", 1)[0] + b" " + rest[:length])
                data = rest[length:]
                continue
        assert time.monotonic() < deadline, data
        chunk = sock.recv(65536)
        assert chunk, f"the service closed the connection after {got}"
        data += chunk
    return got


def test_a_java_clients_h2c_upgrade_offer_is_answered_as_http_1_1(tmp_path: Path) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (1080, 1080), "teal").save(picture, "JPEG", quality=85)
    boundary = b"----java6f1c"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
        b'filename="photo.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + picture.getvalue()
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    upload = (
        b"POST /v1/media HTTP/1.1\r\n" + OFFER + b"Host: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    rules = b"GET /v1/rules HTTP/1.1\r\n" + OFFER + b"Host: 127.0.0.1\r\n\r\n"
    with serve_process(tmp_path) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(upload)
            time.sleep(0.05)  # the body in its own segments, as Java writes it
            sock.sendall(body)
            sock.sendall(rules)  # the next request on the same connection
            uploaded, listed = answers(sock, 2)
    assert uploaded.startswith(b"HTTP/1.1 201 "), uploaded[:300]
    assert b'"name":"photo.jpg"' in uploaded and b'"kind":"image"' in uploaded
    assert listed.startswith(b"HTTP/1.1 200 "), listed[:300]
    assert b'"IMG003"' in listed

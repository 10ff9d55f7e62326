"""Refuse request bodies sent with a Content-Encoding (gzip, br, deflate...).

Nothing in the stack decodes a compressed request body: without this a gzip JSON
body reached the JSON parser as bytes (a vague 400), and a body labelled `br` but
sent plain was taken as if the label were not there. Decoding it instead would put
a decompression bomb behind the 1 MB cap, so the service accepts identity only and
says so: 415 with `Accept-Encoding: identity` (RFC 9110 section 15.5.16).
"""

from __future__ import annotations

from igpreflight.serve.limits import ASGIApp, Receive, Scope, Send, refuse
from igpreflight.serve.problems import Problem

IDENTITY = {"", "identity"}


def unsupported(coding: str) -> Problem:
    shown = coding[:40]
    return Problem(
        415,
        f"the body is sent with Content-Encoding {shown!r}; send it uncompressed",
        "unsupported-encoding",
        headers={"Accept-Encoding": "identity"},
    )


def content_coding(scope: Scope) -> str:
    """The request's Content-Encoding codings, lower case, comma-joined ('' for none)."""
    codings = [
        part.strip().lower()
        for name, value in scope.get("headers", ())
        if name == b"content-encoding"
        for part in value.decode("latin-1").split(",")
    ]
    return ",".join(c for c in codings if c)


def has_body(scope: Scope) -> bool:
    """A body follows (chunked, or a Content-Length above 0): a GET that carries a
    stray Content-Encoding header and nothing else is answered as usual."""
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
    return False


class IdentityOnly:
    """ASGI middleware: 415 for a request whose body carries a content coding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            coding = content_coding(scope)
            if coding not in IDENTITY and has_body(scope):
                await refuse(scope, send, unsupported(coding))
                return
        await self.app(scope, receive, send)

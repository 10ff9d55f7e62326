"""How much a client may send: body sizes, body pace, and requests per key.

`BodyLimit` is plain ASGI middleware, so a body over its cap is refused from its
Content-Length before a byte is read, and a chunked one as soon as it passes the
cap; a body that stops arriving for `idle` seconds is refused (408) instead of
holding a worker. `RateLimiter` is a token bucket per key: `burst` requests at
once, then `rate` per second; a refusal says how long to wait (Retry-After).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from igpreflight.serve.problems import Problem, problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large(limit: int) -> Problem:
    return Problem(413, f"the request body is larger than {limit:,} bytes", "too-large")


class BodyLimit:
    """Refuse request bodies over their route's cap, or that stall."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        per_path: dict[str, int],
        idle: float,
        refusals: dict[str, Problem] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path
        self.idle = idle
        self.refusals = refusals or {}  # a path's own 413 (the upload names --max-upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        refusal = self.refusals.get(scope["path"]) or too_large(limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await refuse(scope, send, refusal)
            return
        guard = _Guard(receive, limit, self.idle, refusal)

        async def answering(message: Message) -> None:
            # A refused body may surface in the app as another error (FastAPI turns a
            # failed body read into a 400): whatever it answers, the refusal is sent.
            if guard.refusal is None:
                await send(message)
            elif message["type"] == "http.response.start" and not guard.answered:
                guard.answered = True
                await refuse(scope, send, guard.refusal)

        try:
            await self.app(scope, guard.receive, answering)
        except Problem:
            if guard.refusal is None or guard.answered:
                raise
            guard.answered = True
            await refuse(scope, send, guard.refusal)


class _Guard:
    """The receive channel of one request, cut at the cap or after a stall."""

    def __init__(self, receive: Receive, limit: int, idle: float, over: Problem) -> None:
        self._receive = receive
        self.limit = limit
        self.over = over  # what passing the limit answers
        self.idle = idle
        self.seen = 0
        self.done = False
        self.refusal: Problem | None = None
        self.answered = False

    async def receive(self) -> Message:
        if self.done:  # after the body: waiting for a disconnect is not a stall
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), self.idle)
        except asyncio.TimeoutError:
            self.refusal = Problem(
                408, f"the request body stopped arriving for {self.idle:g} s", "body-timeout"
            )
            raise self.refusal from None
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.refusal = self.over
                raise self.refusal
            self.done = not message.get("more_body", False)
        return message


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def refuse(scope: Scope, send: Send, problem: Problem) -> None:
    """Answer `problem` at once and close the connection (the body is left unread)."""
    import json

    from igpreflight.serve.problems import MEDIA_TYPE

    body = json.dumps(problem_body(problem, scope.get("path"))).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread body must not be taken for a next request
        *((k.lower().encode(), v.encode()) for k, v in problem.headers.items()),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A token bucket per key; `rate` 0 lets everything through."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def wait_needed(self, key: str) -> float:
        """Take one token for `key`: 0 when granted, else seconds until one is there."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def check(self, key: str) -> None:
        """Raise 429 with Retry-After when `key` is over its rate."""
        wait = self.wait_needed(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise Problem(
                429,
                f"too many requests for this key: at most {self.rate:g} per second"
                f" (bursts of {self.burst}); retry in {seconds} s",
                "rate-limited",
                headers={"Retry-After": str(seconds)},
            )

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
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path
        self.idle = idle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, too_large(limit))
            return
        await self.app(scope, self._guarded(receive, limit), send)

    def _guarded(self, receive: Receive, limit: int) -> Receive:
        seen = 0
        done = False

        async def guarded() -> Message:
            nonlocal seen, done
            if done:  # after the body: waiting for a disconnect is not a stall
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle)
            except asyncio.TimeoutError:
                raise Problem(
                    408, f"the request body stopped arriving for {self.idle:g} s", "body-timeout"
                ) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)
                done = not message.get("more_body", False)
            return message

        return guarded


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, problem: Problem) -> None:
    import json

    from igpreflight.serve.problems import MEDIA_TYPE

    body = json.dumps(problem_body(problem, scope.get("path"))).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread body must not be taken for a next request
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

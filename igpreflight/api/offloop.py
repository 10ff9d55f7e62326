"""Blocking API calls made from a thread whose asyncio event loop is running.

`publish`, `run` and `worker` drive the durable engine (DBOS), and DBOS refuses its
blocking calls in a thread with a running event loop: from a Jupyter notebook or an
async web handler, `publish(...)` raised "retrieve_queue() was called while an event
loop is running. Use await retrieve_queue_async(...)" (a function the caller never
called), printed a warning on stderr, and left DBOS launched, so every later
`publish` or `worker` of the process failed with "listen_queues called after DBOS is
launched". The caller asked for a blocking call and gets one: the function runs to
its end on a thread of its own while the calling thread waits, as it would without
a loop (which, as under any blocking call, is held meanwhile: async code that must
keep serving calls `await asyncio.to_thread(publish, ...)`).
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def in_running_loop() -> bool:
    """Does this thread run an asyncio event loop right now? (Without importing
    asyncio, which a command does not otherwise load: no loop runs before it is.)"""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio.events._get_running_loop() is not None


def off_the_loop(function: F) -> F:
    """`function`, run on a thread of its own when called from a running event loop;
    its result or exception comes back to the caller unchanged."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not in_running_loop():
            return function(*args, **kwargs)
        outcome: dict[str, Any] = {}

        def body() -> None:
            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller as is
                outcome["error"] = exc

        thread = threading.Thread(target=body, name=f"igpreflight-{function.__name__}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return call  # type: ignore[return-value]

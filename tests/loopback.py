"""An HTTP server of a test's own on 127.0.0.1, for URL checks against real sockets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(
    handler: Callable[..., BaseHTTPRequestHandler], stop: threading.Event | None = None
) -> Iterator[str]:
    """Serve `handler` on a free loopback port and yield its base URL. `stop` is
    cleared on start and set before shutdown, so handlers that stream forever end."""
    if stop is not None:
        stop.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        if stop is not None:
            stop.set()
        httpd.shutdown()
        httpd.server_close()

"""`serve --workers N`: N uvicorn processes, each with its own socket on one port.

uvicorn's own workers share one listening socket, and whichever is awake takes
the connections: measured here with 32 keep-alive clients, one worker held 29 of
them and the other 3, so the service ran at one worker's speed with four times
the latency. With SO_REUSEPORT every worker listens on its own socket and the
kernel spreads connections over them evenly. The supervisor holds the port
(bound, not listening, so it takes no connections), restarts a worker that
dies, and on SIGTERM or Ctrl-C asks each worker to stop once: each drains its
requests in flight (uvicorn's graceful shutdown) and runs its lifespan's end.
Where SO_REUSEPORT is missing, uvicorn's shared socket is used as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from typing import Any

log = logging.getLogger("igpreflight.serve")

APP = "igpreflight.serve.app:app_from_env"
CHECK_EVERY = 0.5  # seconds between looks at the workers


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    """One worker process: its own listening socket, the app from the environment."""
    import uvicorn

    os.setpgrp()  # a terminal's Ctrl-C reaches the supervisor only; it tells us once
    sock = port_socket(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, grace: float, options: dict[str, Any]) -> int:
    """Serve with `workers` processes until SIGTERM/SIGINT; returns the exit code."""
    holder = port_socket(host, port)  # keeps the port (and gives --port 0 its number)
    port = holder.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    log.info("igpreflight serve running on http://%s:%d with %d workers", shown, port, workers)
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> Any:
        process = context.Process(target=_worker, args=(host, port, options), daemon=False)
        process.start()
        return process

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(CHECK_EVERY):
            for i, process in enumerate(processes):
                if not process.is_alive():
                    log.warning(
                        "worker %d exited (%s); starting another", process.pid, process.exitcode
                    )
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(grace + 10)
            if process.is_alive():
                process.kill()
                process.join()
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0

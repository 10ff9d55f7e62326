"""Task functions the Dask tests send to worker processes (importable by name there)."""

from __future__ import annotations

import os


def square_or_die(items: list) -> list:
    """Squares numbers; the item "die" kills the worker process running it."""
    if "die" in items:
        os._exit(1)
    return [n * n for n in items]

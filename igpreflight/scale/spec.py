"""`--engine`, `--workers`, `--scheduler` as one value: what a command parses on
every run, kept apart from the engine (threads, signals, Dask) so that parsing the
options of a local `check` loads none of it."""

from __future__ import annotations

import os

from igpreflight.records import record

ENGINES = ("local", "dask")


@record
class EngineSpec:
    """`--engine`, `--workers`, `--scheduler`."""

    kind: str = "local"
    workers: int | None = None  # local threads, or the processes of a local Dask cluster
    scheduler: str | None = None  # tcp://host:8786: an existing Dask cluster

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.kind!r}")
        if self.scheduler and self.kind != "dask":
            raise ValueError("--scheduler needs --engine dask")

    @property
    def slots(self) -> int:
        """How many tasks run at once (for sizing batches)."""
        return max(1, self.workers or os.cpu_count() or 1)

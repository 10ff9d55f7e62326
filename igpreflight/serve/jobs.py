"""Work longer than a request (fixing a video): submit it, answer 202, let the client poll.

`JobRunner` is the seam: a job is a kind (a name in `handlers`) and JSON params,
never a closure, so a durable runner can record it and run it again after a
restart. The service runs `DurableJobs` (durable_jobs.py): DBOS workflows on the
publishing database, so a job survives a kill of the service and ends once.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from igpreflight.serve.keys import Principal

log = logging.getLogger("igpreflight.serve")

JOB_ID = re.compile(r"^j_[A-Za-z0-9_-]{22}$")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    scope: tuple[str, ...]
    state: str = "queued"  # queued | running | succeeded | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    pid: int = field(default_factory=os.getpid)

    @property
    def done(self) -> bool:
        return self.state in ("succeeded", "failed")


class JobRunner(Protocol):
    """What the routes need of a job system."""

    def submit(self, kind: str, params: dict[str, Any], principal: Principal) -> Job: ...

    def get(self, job_id: str, principal: Principal) -> Job | None: ...

    def close(self, grace: float) -> None: ...

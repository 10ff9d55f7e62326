"""Work longer than a request (fixing a video): submit it, answer 202, let the client poll.

`JobRunner` is the seam: a job is a kind (a name in `handlers`) and JSON params,
never a closure, so a durable runner can record it and run it again after a
restart. The service runs `DurableJobs` (durable_jobs.py): DBOS workflows on the
publishing database. `LocalJobs` is the runner without a database: threads of
the process that accepted the job, each job's record a JSON file under
`<data>/jobs/` (atomic writes). It is not durable: a job whose process stopped
before it ended is reported failed ("interrupted"), never left running.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from igpreflight.atomic import write_text
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem

log = logging.getLogger("igpreflight.serve")

JOB_ID = re.compile(r"^j_[A-Za-z0-9_-]{22}$")
INTERRUPTED = "the service stopped before this job ended; submit it again"
KEEP = 7 * 24 * 3600.0  # seconds a finished job's record is kept

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


class LocalJobs:
    """Jobs run by this process's threads, recorded on disk for every worker to read."""

    def __init__(self, root: Path, handlers: dict[str, Handler], concurrency: int = 1) -> None:
        self.folder = Path(root) / "jobs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.handlers = handlers
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, name=f"igpreflight-job-{i}", daemon=True)
            for i in range(max(1, concurrency))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, kind: str, params: dict[str, Any], principal: Principal) -> Job:
        if kind not in self.handlers:
            raise ValueError(f"no job kind {kind!r}")
        job = Job("j_" + secrets.token_urlsafe(16), kind, params, tuple(principal.scope))
        self._save(job)
        self._queue.put(job)
        return job

    def get(self, job_id: str, principal: Principal) -> Job | None:
        if not JOB_ID.match(job_id):
            return None
        try:
            data = json.loads((self.folder / f"{job_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        job = Job(**{**data, "scope": tuple(data["scope"])})
        if not principal.covers(job.scope):
            return None
        if not job.done and not _alive(job.pid):
            job = replace(job, state="failed", error=INTERRUPTED, finished=time.time())
        return job

    def close(self, grace: float) -> None:
        """Stop taking jobs; wait up to `grace` s for running ones, then record the
        rest as interrupted (their threads die with the process)."""
        pending: list[Job] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                pending.append(item)
        for job in pending:
            self._save(replace(job, state="failed", error=INTERRUPTED, finished=time.time()))
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            unfinished = list(self._running)
        for job_id in unfinished:
            path = self.folder / f"{job_id}.json"
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            job = Job(**{**data, "scope": tuple(data["scope"])})
            if not job.done:
                self._save(replace(job, state="failed", error=INTERRUPTED, finished=time.time()))

    def sweep(self, now: float | None = None) -> int:
        """Remove records of jobs finished more than KEEP seconds ago."""
        now = time.time() if now is None else now
        removed = 0
        for path in self.folder.glob("j_*.json"):
            if path.stat().st_mtime + KEEP <= now:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                self._running.add(job.id)
            job = replace(job, state="running", started=time.time())
            self._save(job)
            try:
                result = self.handlers[job.kind](job.params)
                job = replace(job, state="succeeded", result=result, finished=time.time())
            except Problem as exc:
                job = replace(job, state="failed", error=exc.detail, finished=time.time())
            except Exception:
                log.exception("job %s (%s) failed", job.id, job.kind)
                job = replace(
                    job,
                    state="failed",
                    error="the job failed; see the service's log",
                    finished=time.time(),
                )
            self._save(job)
            with self._lock:
                self._running.discard(job.id)

    def _save(self, job: Job) -> None:
        data = asdict(job)
        data["scope"] = list(job.scope)
        write_text(self.folder / f"{job.id}.json", json.dumps(data))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

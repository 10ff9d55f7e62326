"""Jobs on the publishing engine: each job a DBOS workflow on its own queue, in the
publishing database, so a job survives a kill -9 of the service (the next serve on
the same --db resumes it and it ends once) and any worker process, or any serve on
the same PostgreSQL, answers GET /v1/jobs/{id}.

A job is a kind (a name in `handlers`) and JSON params, as `JobRunner` asks. Its
workflow runs one recorded step, the handler: a handler that returned is never run
again; one cut short by a kill runs again from its start after the restart. The
job's record is the workflow's own row (status, input, output), read through the
same DBOSClient the posts endpoints use. Every serve process listens to the jobs'
queue of its data folder, one job at a time each: its publishing worker's engine
when it publishes, else an engine of its own that runs jobs only.

A job's media is a file in the data folder (`--data-dir`), so only a service on
that folder can run it. With one queue for the whole database, two hosts on one
PostgreSQL, each with its own folder, took each other's jobs, which then failed
"no media ... (it may have expired)". Each data folder now has its own queue
(`queue_for`): the worker processes of one host, or hosts sharing one folder,
share it; a job runs where its media is.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from igpreflight.serve.diskspace import storage_problem
from igpreflight.serve.jobs import JOB_ID, Handler, Job
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem

log = logging.getLogger("igpreflight.serve")

QUEUE = "igpreflight_jobs"  # the prefix of each data folder's queue
WORKFLOW = "igp.job"
FOLDER_ID = ".jobs-queue"  # in the data folder: the name of its jobs' queue
FAILED = "the job failed; see the service's log"
ENDED_BADLY = ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def queue_for(data: Path) -> str:
    """The jobs' queue of the data folder `data`: a name kept in the folder, made by
    the first process that starts on it (the others read the same name)."""
    marker = data / FOLDER_ID
    try:
        return marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    data.mkdir(parents=True, exist_ok=True)
    name = f"{QUEUE}_{secrets.token_hex(8)}"
    draft = data / f"{FOLDER_ID}.{secrets.token_hex(4)}.tmp"
    draft.write_text(name + "\n", encoding="utf-8")
    try:
        os.link(draft, marker)  # whole or not at all; the first process's name wins
    except FileExistsError:
        name = marker.read_text(encoding="utf-8").strip()
    finally:
        draft.unlink()
    return name


class Host:
    """What this process's job workflows run with (the handlers of its app)."""

    handlers: dict[str, Handler] = {}  # noqa: RUF012 - the process's, on purpose
    running = 0
    cond = threading.Condition()


_REGISTERED: list[Any] = []


def register() -> None:
    """The job workflow, registered with DBOS once per process, before any launch."""
    if _REGISTERED:
        return
    from dbos import DBOS

    @DBOS.workflow(name=WORKFLOW)
    def run_job(kind: str, params: dict[str, Any], scope: list[str]) -> dict[str, Any]:
        return DBOS.run_step({"name": kind}, run_handler, kind, params)

    _REGISTERED.append(run_job)


def run_handler(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The job's work: {"result": ...} or {"error": one line}; it never raises."""
    with Host.cond:
        Host.running += 1
    try:
        handler = Host.handlers.get(kind)
        if handler is None:
            return {"error": f"no job kind {kind!r} in this service"}
        return {"result": handler(params)}
    except Problem as exc:
        return {"error": exc.detail}
    except Exception as exc:
        disk = storage_problem(exc)
        if disk is not None:  # a full or read-only disk: say so, it is not a bug
            log.warning("job (%s): %s", kind, disk.detail)
            return {"error": disk.detail}
        log.exception("job (%s) failed", kind)
        return {"error": FAILED}
    finally:
        with Host.cond:
            Host.running -= 1
            Host.cond.notify_all()


class DurableJobs:
    """A JobRunner on DBOS (see the module docstring), on `publishing`'s database
    (serve.publishing.Publishing: its url, client() and exists())."""

    def __init__(self, publishing: Any, handlers: dict[str, Handler], queue: str = QUEUE) -> None:
        self.queue = queue  # this data folder's (queue_for)
        self.url = publishing.url
        self.client: Callable[[], Any] = publishing.client
        self.exists: Callable[[], bool] = publishing.exists
        self.guard: Callable[[], Any] = publishing.guard
        Host.handlers = handlers
        register()
        self._engine: Any = None
        self._lock = threading.Lock()
        self._queue_made = False
        self._closed = False
        self._resuming: threading.Thread | None = None

    def listen_with_publisher(self) -> None:
        """This process's publishing worker runs jobs too (call before it starts)."""
        from igpreflight.publish.durable import engine

        if self.queue not in engine.ALSO_LISTEN:
            engine.ALSO_LISTEN.append(self.queue)
        self._engine = "publisher"

    def start(self) -> None:
        """An engine for jobs only, when this process does not publish; 503 when the
        database cannot be used."""
        from igpreflight.publish.durable.dbfaults import DatabaseFault
        from igpreflight.publish.durable.engine import Engine

        with self._lock:
            if self._engine is not None or self._closed:
                return
            engine = Engine(self.url, queues=(self.queue,))
            try:
                engine.start()
            except DatabaseFault as exc:
                raise Problem(503, str(exc), "database-unavailable") from None
            self._engine = engine
            self._register_queue()

    def resume(self) -> None:
        """At start: an engine that resumes the jobs a stopped service left (in the
        background; a database that is down is /readyz's to report, not a failed start)."""

        def run() -> None:
            try:
                self.start()
            except Problem as exc:
                log.warning("jobs are not resumed: %s", exc.detail)
            except Exception as exc:  # noqa: BLE001 - a start that fails is said, not raised
                log.warning("jobs are not resumed: %s", exc)

        self._resuming = threading.Thread(target=run, name="igp-jobs-start", daemon=True)
        self._resuming.start()

    def _register_queue(self) -> None:
        if not self._queue_made:
            self.client().register_queue(self.queue, worker_concurrency=1, polling_interval_sec=0.2)
            self._queue_made = True

    def submit(self, kind: str, params: dict[str, Any], principal: Principal) -> Job:
        if kind not in Host.handlers:
            raise ValueError(f"no job kind {kind!r}")
        self.start()  # a no-op once an engine listens here
        with self.guard():
            self._register_queue()
        job_id = "j_" + secrets.token_urlsafe(16)
        options = {"workflow_name": WORKFLOW, "queue_name": self.queue, "workflow_id": job_id}
        with self.guard():
            self.client().enqueue(options, kind, params, list(principal.scope))
            found = self.client().list_workflows(
                workflow_ids=[job_id], load_input=True, load_output=True
            )
        # The 202 says what GET /v1/jobs/{id} will: the row's created_at (whole seconds
        # on SQLite), not this process's clock, which put it up to a second later.
        recorded = job_of(found[0]) if found else None
        return recorded or Job(job_id, kind, params, tuple(principal.scope))

    def get(self, job_id: str, principal: Principal) -> Job | None:
        if not JOB_ID.match(job_id) or not self.exists():
            return None
        with self.guard():
            found = self.client().list_workflows(
                workflow_ids=[job_id], load_input=True, load_output=True
            )
        if not found:
            return None
        job = job_of(found[0])
        return job if job is not None and principal.covers(job.scope) else None

    def close(self, grace: float) -> None:
        """Let a job running here end (up to `grace` s), then stop the jobs' engine;
        a job still running is resumed by the next serve (its step runs again)."""
        if self._resuming is not None:
            self._resuming.join(60)  # an engine starting now is stopped below, not left
        with Host.cond:
            Host.cond.wait_for(lambda: Host.running == 0, grace)
        with self._lock:
            self._closed = True
            if self._engine not in (None, "publisher"):
                self._engine.close()
            self._engine = None

    def sweep(self) -> int:
        return 0  # the database keeps job rows with the posts'


def job_of(w: Any) -> Job | None:
    """A job's workflow row as a Job."""
    inp = w.input
    args = inp.get("args") if isinstance(inp, dict) else getattr(inp, "args", None)
    if not args or len(args) < 3:
        return None
    kind, params, scope = args[0], args[1], args[2]

    def at(ms: int | None) -> float | None:
        return ms / 1000.0 if ms else None

    created = at(w.created_at) or time.time()
    state, result, error = "queued", None, None
    if w.status == "PENDING":
        state = "running"
    elif w.status == "SUCCESS":
        out = w.output if isinstance(w.output, dict) else {}
        result, error = out.get("result"), out.get("error")
        state = "failed" if error is not None or result is None else "succeeded"
        if state == "failed" and error is None:
            error = FAILED
    elif w.status in ENDED_BADLY:
        state, error = "failed", FAILED
    finished = (
        at(getattr(w, "completed_at", None) or w.updated_at)
        if state in ("succeeded", "failed")
        else None
    )
    return Job(
        id=w.workflow_id,
        kind=str(kind),
        params=dict(params),
        scope=tuple(scope),
        state=state,
        created=created,
        started=at(getattr(w, "dequeued_at", None)),
        finished=finished,
        result=result,
        error=error,
    )

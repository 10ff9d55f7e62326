"""The three things a user does with the queue, start to end: `publish` (enqueue a
manifest's posts, then work until each is settled), `worker` (take up held and
uncertain posts, then run what comes due) and `status` (read; run nothing).

The API (api/durable.py) calls these with the options it has checked; everything
about the queue, the engine and their faults happens here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.model import Post
from igpreflight.publish.accounts import Account
from igpreflight.publish.durable.dbfaults import (
    DatabaseFault,
    check_postgres,
    describe,
    fault_line,
    missing_sqlite,
)
from igpreflight.publish.durable.engine import Engine
from igpreflight.publish.durable.plan import build_specs
from igpreflight.publish.durable.queries import ended_states, post_states
from igpreflight.publish.durable.queue import Enqueuer
from igpreflight.publish.legacy import NOTHING, read_journal
from igpreflight.publish.settings import PublishSettings
from igpreflight.publish.steps.results import PostError
from igpreflight.publish.steps.runtime import Runtime
from igpreflight.publish.steps.spec import PREFIX, Inherited, workflow_id
from igpreflight.states import PostState

# How often a running worker looks for held posts whose time has come (seconds).
REDECIDE = float(os.environ.get("IGPREFLIGHT_REDECIDE", "60"))

Notify = Callable[[str, str], None]


class Refused(Exception):
    """The batch cannot be sent as given (nothing was queued): one problem per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class RunOutcome:
    rows: list[dict[str, Any]] = field(default_factory=list)
    db: str = ""
    enqueued: int = 0
    engine: Engine | None = None


def legacy_reader(journal: Path) -> Callable[[Account, Post], Inherited | None]:
    """What a journal written by an earlier version says of a post: published (media
    id), or media_publish sent for a container whose outcome was never seen (tainted:
    the post settles it first)."""
    rows = read_journal(journal)

    def of(acc: Account, post: Post) -> Inherited | None:
        row = rows.get((acc.ig_user_id, post.id), NOTHING)
        if row.published:
            return Inherited(published=True, media_id=row.media_id)
        if row.sent_container:
            return Inherited(container_id=row.sent_container, tainted=True, sent_before=True)
        return None

    return of


def publish_run(
    posts: Sequence[Post],
    *,
    url: str,
    accounts_of: Callable[[Post], Account],
    settings: PublishSettings,
    dedupe_window: float | None,
    legacy: Callable[[Account, Post], Inherited | None],
    refusals: Callable[[list[Post]], list[str]],
    preflight: Callable[[list[Post], dict[str, Any]], dict[str, PostError]] | None,
    runtime: Runtime,
    ahead: int,
    enqueue_only: bool = False,
    watch: Callable[[list[dict[str, Any]]], None] | None = None,
    notify: Notify = lambda level, text: None,
) -> RunOutcome:
    """Enqueue every post once (see queue.py), then, unless `enqueue_only`, run the
    queue here until each post is settled. Posts this database or the earlier journal
    show published need neither files nor checks; `refusals` raise Refused for the
    whole batch; `preflight` refusals are queued to end failed at once."""
    check_postgres(url)
    with Enqueuer(url, ahead) as q:
        done = published_bases(q.client)
        todo = [
            p
            for p in posts
            if not ((legacy(accounts_of(p), p) or Inherited()).published)
            and workflow_id(accounts_of(p).name, p.id) not in done
        ]
        problems = refusals(todo)
        if problems:
            raise Refused(problems)
        probed: dict[str, Any] = {}
        refused = preflight(todo, probed) if preflight else {}
        specs = build_specs(
            posts,
            accounts_of,
            settings,
            dedupe_window=dedupe_window,
            legacy=legacy,
            probed=probed,
            refused=refused,
        )
        ids, before = q.enqueue(specs)
    if enqueue_only:
        return RunOutcome([], url, len(ids))
    engine = Engine(url, ahead=ahead, runtime=runtime, notify=notify)
    engine.start()
    try:
        rows = engine.wait(ids, watch=watch)
    except BaseException:  # Ctrl-C included: posts stay as they are for the next run
        engine.close()
        raise
    for r in rows:
        r["already"] = bool(r.get("already")) or (
            r["state"] == PostState.PUBLISHED and r["workflow_id"] in before
        )
    return RunOutcome(rows, url, len(ids), engine)


def published_bases(api: Any) -> set[str]:
    """First workflow ids of the posts this database shows published."""
    from igpreflight.publish.durable.queue import base_of

    found = api.list_workflows(workflow_id_prefix=PREFIX, status="SUCCESS", load_input=False)
    return {
        base_of(w.workflow_id)
        for w in found
        if isinstance(w.output, dict) and w.output.get("state") == PostState.PUBLISHED
    }


def existing(url: str, what: str) -> None:
    """A worker or `status` never makes a database: DatabaseFault when it is not there."""
    path = missing_sqlite(url)
    if path is not None:
        raise DatabaseFault(
            f"no publish database at {path}: `igpreflight publish` creates it"
            f" (give --db to {what} the one it made)"
        )
    check_postgres(url)


def worker_run(
    url: str,
    *,
    runtime: Runtime,
    ahead: int,
    until_idle: bool,
    stop: threading.Event,
    notify: Notify = lambda level, text: None,
) -> tuple[list[dict[str, Any]], Engine]:
    """A worker: held and uncertain posts are taken up again (their quota re-read, their
    container settled), then the queue runs here. With `until_idle`, returns once
    nothing is running, due or scheduled, with the rows of the posts it ran; else
    until `stop`, taking up held posts as their time comes."""
    existing(url, "the worker")
    with Enqueuer(url) as q:
        q.taken_up(due_only=False)
    engine = Engine(url, ahead=ahead, runtime=runtime, notify=notify)
    engine.start()
    if until_idle:
        rows = engine.wait([], until_idle=True, tick=lambda: _stopped(stop, engine))
        return [r for r in rows if r["workflow_id"] in engine.ran], engine
    while not stop.wait(REDECIDE):
        try:
            with Enqueuer(url) as q:
                q.taken_up(due_only=True)
        except Exception as exc:  # a database that blinks: the next look will do
            if describe(exc, url) is None:
                raise
            notify("warning", describe(exc, url) or str(exc))
    return [], engine


class Interrupted(BaseException):
    """`worker --until-idle` was told to stop (SIGTERM, Ctrl-C); `engine` still runs."""

    def __init__(self, engine: Engine) -> None:
        super().__init__("interrupted")
        self.engine = engine


def _stopped(stop: threading.Event, engine: Engine) -> None:
    if stop.is_set():
        raise Interrupted(engine)


def read_status(url: str) -> list[dict[str, Any]]:
    """Every post's latest attempt, read through a client: runs and writes nothing."""
    existing(url, "status")
    from dbos import DBOSClient

    try:
        client = DBOSClient(system_database_url=url, retry_connection_errors=False)
        try:
            rows = post_states(client)
        finally:
            client.destroy()
        live = live_workers(url)
    except Exception as exc:
        if "no such table" in str(exc) or ("relation" in str(exc) and "does not exist" in str(exc)):
            return []  # a database no publish has written yet
        line = fault_line(exc, url)
        if line is None:
            raise
        raise DatabaseFault(line) from None
    for r in rows:
        if r.get("running") and PostState(r["state"]).final:
            # It settled; its process stopped before its workflow recorded the end (a
            # run exits once every post has settled): what it came to is the state.
            r["running"] = False
        if r.get("running") and r["executor"] not in live:
            r["state"] = PostState.INTERRUPTED  # its worker is gone: the next one resumes it
        if not live and (r.get("running") or r["state"] in (PostState.SCHEDULED, PostState.QUEUED)):
            r["note"] = "no worker is running: `igpreflight worker` takes it up (never twice)"
    return rows


class EndedReader:
    """The attempts that ended at or after a time, read through one client kept open
    between reads (a watcher of the queue, the service's webhooks, reads every
    second): runs and writes nothing. A fault closes the client; the next read
    opens a new one. No queue tables yet: an empty list."""

    def __init__(self, url: str) -> None:
        existing(url, "status")
        self.url = url
        self.client: Any = None

    def read(self, after_ms: int) -> list[dict[str, Any]]:
        from dbos import DBOSClient

        try:
            if self.client is None:
                self.client = DBOSClient(
                    system_database_url=self.url, retry_connection_errors=False
                )
            return ended_states(self.client, after_ms)
        except Exception as exc:
            self.close()
            text = str(exc)
            if "no such table" in text or ("relation" in text and "does not exist" in text):
                return []
            line = fault_line(exc, self.url)
            if line is None:
                raise
            raise DatabaseFault(line) from None

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.destroy()


def live_workers(url: str) -> set[str]:
    """Executors whose heartbeat is fresh, read without creating anything."""
    import sqlalchemy as sa

    from igpreflight.publish.durable.workers import STALE_AFTER, alive, sa_url

    engine = sa.create_engine(sa_url(url))
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text("SELECT executor_id, host, pid, seen FROM igpreflight_workers")
            ).all()
    except sa.exc.DBAPIError:
        return set()
    finally:
        engine.dispose()
    import os
    import socket

    host = os.environ.get("IGPREFLIGHT_WORKER_HOST") or socket.gethostname()
    now = time.time()
    return {
        ex for ex, h, pid, seen in rows if now - seen <= STALE_AFTER and (h != host or alive(pid))
    }


def published_post_ids(url: str, account: str | None = None) -> set[str]:
    """Post ids the database at `url` shows published (for `account`, or any), read
    without running or writing anything (a dry run skips them); none without one."""
    if missing_sqlite(url) is not None:
        return set()
    try:
        rows = read_status(url)
    except DatabaseFault:
        return set()
    return {
        r["post_id"]
        for r in rows
        if account in (None, r["account"]) and r["state"] == PostState.PUBLISHED
    }

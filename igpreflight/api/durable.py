"""Publishing on the durable queue, for Python callers and the commands: `publish_many`
(a manifest's posts, each on its account), `worker` and `status`.

This module checks what the caller gave (accounts, tokens, options) and turns the
publisher's faults into the API's errors; the queue itself is run by
igpreflight/publish/durable/runs.py. Held and scheduled posts do not keep a run
waiting: the engine is handed back with the result, and `engine.exit(code)` (the
commands) or `engine.close()` (the Python API) leaves them for the next run or worker.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.api.errors import DatabaseError, PublishRefused, UsageError
from igpreflight.api.offloop import off_the_loop
from igpreflight.config import DEFAULT_RULES
from igpreflight.envelope import envelope
from igpreflight.model import Post

ACCOUNTS_ENV = "IGPREFLIGHT_ACCOUNTS"
GOOD = ("published", "scheduled")
HIDDEN = ("seq", "executor", "until_ts", "running")  # internal columns of a row


@dataclass
class DurableResult:
    """Every post's state (account, post id, state, media id, error, until)."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    db: str = ""
    enqueued: int = 0
    engine: Any = None  # the running engine (publish_many, worker), or None
    interrupted: bool = False  # a worker told to stop before it was idle

    @property
    def ok(self) -> bool:
        """Every post published or scheduled."""
        return all(r["state"] in GOOD for r in self.posts)

    def __getstate__(self) -> dict[str, Any]:
        # The engine is this process's (threads, a database client): a result pickled
        # to another process (a pool, a queue) failed on it; there it is None.
        return {**self.__dict__, "engine": None}

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.posts:
            counts[str(r["state"])] = counts.get(str(r["state"]), 0) + 1
        return {"posts": len(self.posts), **dict(sorted(counts.items()))}

    def to_dict(self) -> dict[str, Any]:
        rows = [{k: v for k, v in r.items() if k not in HIDDEN} for r in self.posts]
        return envelope(db=shown_db(self.db), summary=self.summary(), posts=rows)


def durable_wanted(posts: Sequence[Post], accounts: str | None, **flags: Any) -> bool:
    """Does this `publish` run report per account (the many-accounts document)? An
    accounts file, --enqueue, or posts naming an `account` say so; every other run
    is one account's and keeps the one-account document. Both run on the queue."""
    if accounts or os.environ.get(ACCOUNTS_ENV) or any(flags.values()):
        return True
    return any(p.extra.get("account") for p in posts)


def shown_db(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def db_for(db: str | None, manifest: str | os.PathLike[str] | None, *, create: bool = True) -> str:
    """--db as given, else the SQLite file beside the manifest (or in the current folder)."""
    from igpreflight.publish.durable.plan import db_url, default_db

    return db_url(db or default_db(manifest), create=create)


def resolver(accounts_file: str | None, default: Any = None) -> Callable[[Post], Any]:
    """Post -> its Account: the one it names, else `default` (the command's
    --ig-user-id / IG_USER_ID account), else IG_USER_ID. UsageError names what is missing."""
    from igpreflight.publish.accounts import AccountError, account_for, load_accounts
    from igpreflight.redaction import register_secret

    try:
        accounts = load_accounts(accounts_file)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    cache: dict[str | None, Any] = {}

    def of(post: Post) -> Any:
        name = post.extra.get("account")
        if name not in cache:
            try:
                cache[name] = (
                    default if name is None and default is not None else account_for(name, accounts)
                )
                register_secret(cache[name].token())
            except AccountError as exc:
                raise UsageError(f"post {post.id}: {exc}") from None
        return cache[name]

    return of


def check_accounts(accounts_file: str | None) -> None:
    """Every account of the file has its token variable set (UsageError naming it)."""
    from igpreflight.publish.accounts import AccountError, load_accounts
    from igpreflight.redaction import register_secret

    try:
        for acc in load_accounts(accounts_file).values():
            register_secret(acc.token())
    except AccountError as exc:
        raise UsageError(str(exc)) from None


def runtime_for(o: dict[str, Any]) -> Any:
    """The worker side of a run: uploads (--bucket), URL re-checks, the Graph host."""
    from igpreflight.publish.service import CdnMediaUrl, url_rechecker
    from igpreflight.publish.steps.runtime import Runtime

    uploader = None
    if o.get("upload") is not None:  # an UploadTarget
        uploader = CdnMediaUrl(o["upload"], allow_private=o.get("allow_private", False))
    return Runtime(
        media_url=uploader,
        url_checker=url_rechecker(o.get("allow_private", False)),
        graph_url=o.get("graph_url"),
        timeout=o.get("timeout", 30.0),
    )


def _faults() -> tuple[type[BaseException], type[BaseException]]:
    from igpreflight.publish.durable.dbfaults import DatabaseFault
    from igpreflight.publish.durable.runs import Refused

    return DatabaseFault, Refused


def load_posts(manifest: str | os.PathLike[str]) -> list[Post]:
    """A manifest's posts, a STORIES post with several media as several stories.
    ManifestError for a manifest that cannot be read."""
    from igpreflight.preflight.manifest import load_manifest
    from igpreflight.publish.params import expand_stories

    return expand_stories(load_manifest(manifest))


@off_the_loop
def publish_many(manifest: str | os.PathLike[str], posts: list[Post], **o: Any) -> DurableResult:
    """Enqueue `posts` (each post once, by account and post id) and, unless
    `enqueue_only`, work until each is settled. Options as `publish`'s: accounts_file,
    account (the Account of posts that name none), db, enqueue_only, ahead,
    dedupe_window (hours), allow_duplicate, check, rules, resumable, the waits,
    settle_window, the upload options, graph_url, timeout, journal (an earlier
    version's, read only), watch (sees every post's state while waiting), notify."""
    from igpreflight.publish.durable import runs
    from igpreflight.publish.durable.queue import DEFAULT_AHEAD
    from igpreflight.publish.legacy import default_journal_path
    from igpreflight.publish.service import preflight_refusals, publish_refusals, publish_settings
    from igpreflight.publish.steps.results import PostError

    of = resolver(o.get("accounts_file"), o.get("account"))
    for post in posts:
        of(post)  # every account and token variable is known before anything is queued
    allow_private = o.get("allow_private", False)

    def refusals(todo: list[Post]) -> list[str]:
        return publish_refusals(
            todo,
            bucket=o["upload"].bucket if o.get("upload") else None,
            resumable=bool(o.get("resumable")),
            allow_private=allow_private,
        )

    def preflight(todo: list[Post], probed: dict[str, Any]) -> dict[str, PostError]:
        rules = o.get("rules") or DEFAULT_RULES
        found = preflight_refusals(todo, allow_private=allow_private, rules=rules, kinds=probed)
        return {
            pid: PostError(str(i.error_class), str(i.message or ""), i.code, i.subcode, i.rule)
            for pid, i in found.items()
        }

    waits = ("first_wait", "max_wait", "give_up", "max_rate_wait", "settle_window")
    window = o.get("dedupe_window")
    DatabaseFault, Refused = _faults()
    try:
        outcome = runs.publish_run(
            posts,
            url=db_for(o.get("db"), manifest),
            accounts_of=of,
            settings=publish_settings(
                resumable=bool(o.get("resumable")), **{k: o.get(k) for k in waits}
            ),
            dedupe_window=None
            if o.get("allow_duplicate")
            else (24.0 if window is None else window) * 3600.0,
            legacy=runs.legacy_reader(Path(o.get("journal") or default_journal_path(manifest))),
            refusals=refusals,
            preflight=preflight if o.get("check", True) else None,
            runtime=runtime_for(o),
            ahead=o.get("ahead") or DEFAULT_AHEAD,
            enqueue_only=bool(o.get("enqueue_only")),
            watch=o.get("watch"),
            notify=o.get("notify") or (lambda level, text: None),
        )
    except Refused as exc:
        raise PublishRefused(exc.problems) from None
    except DatabaseFault as exc:
        raise DatabaseError(str(exc)) from None
    return DurableResult(
        outcome.rows, db=outcome.db, enqueued=outcome.enqueued, engine=outcome.engine
    )


@off_the_loop
def worker(
    db: str | None = None,
    *,
    until_idle: bool = True,
    stop: threading.Event | None = None,
    ahead: int | None = None,
    notify: Callable[[str, str], None] | None = None,
    **o: Any,
) -> DurableResult:
    """Run the durable queue in this process: held and uncertain posts are taken up
    again first (the quota re-read, the container settled). With `until_idle` (the
    default) it returns once nothing is running, due or scheduled, reporting the posts
    it ran; otherwise it runs until `stop` is set. The database must exist (`publish`
    makes it): DatabaseError otherwise. Options as `publish`'s: accounts_file,
    graph_url, allow_private, the upload options, timeout. `result.engine` is still
    running: `close()` it (held and scheduled posts stay for the next worker)."""
    from igpreflight.publish.durable import runs
    from igpreflight.publish.durable.queue import DEFAULT_AHEAD

    check_accounts(o.get("accounts_file"))
    url = db_for(db, None, create=False)
    DatabaseFault, _ = _faults()
    try:
        rows, engine = runs.worker_run(
            url,
            runtime=runtime_for(o),
            ahead=ahead or DEFAULT_AHEAD,
            until_idle=until_idle,
            stop=stop or threading.Event(),
            notify=notify or (lambda level, text: None),
        )
    except DatabaseFault as exc:
        raise DatabaseError(str(exc)) from None
    except runs.Interrupted as stopped:
        return DurableResult([], db=url, engine=stopped.engine, interrupted=True)
    return DurableResult(rows, db=url, engine=engine)


def status(db: str | None = None, manifest: str | os.PathLike[str] | None = None) -> DurableResult:
    """Every post of the publish database (its latest attempt), read without running
    or writing anything. DatabaseError when there is no database to read."""
    from igpreflight.publish.durable import runs

    url = db_for(db, manifest, create=False)
    DatabaseFault, _ = _faults()
    try:
        return DurableResult(runs.read_status(url), db=url)
    except DatabaseFault as exc:
        raise DatabaseError(str(exc)) from None


class EndedPosts:
    """The post attempts that ended (published, failed, held...) since a time, for a
    watcher of the database that reads every second (the service's webhooks): one
    database client is kept between reads. Runs and writes nothing; DatabaseError
    when there is no database to read (or it does not answer). `close()` when done."""

    def __init__(self, db: str | None) -> None:
        from igpreflight.publish.durable import runs

        DatabaseFault, _ = _faults()
        try:
            self._reader = runs.EndedReader(db_for(db, None, create=False))
        except DatabaseFault as exc:
            raise DatabaseError(str(exc)) from None

    def read(self, after: float) -> list[dict[str, Any]]:
        """Attempts that ended at or after `after` (epoch seconds, the clock of the
        process that ended each), oldest first, each row with `completed_at` (epoch ms)."""
        DatabaseFault, _ = _faults()
        try:
            return self._reader.read(int(after * 1000))
        except DatabaseFault as exc:
            raise DatabaseError(str(exc)) from None

    def close(self) -> None:
        self._reader.close()


def ended(db: str | None, after: float) -> list[dict[str, Any]]:
    """EndedPosts(db).read(after), once."""
    reader = EndedPosts(db)
    try:
        return reader.read(after)
    finally:
        reader.close()


post_states = status  # the name an earlier version of the API used

__all__ = [
    "DurableResult",
    "EndedPosts",
    "durable_wanted",
    "ended",
    "load_posts",
    "publish_many",
    "status",
    "worker",
]

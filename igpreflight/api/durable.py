"""Publishing on the durable engine: enqueue, work, read states.

`publish_many` enqueues a manifest's posts (each on its account, in order) and waits
until each is settled; `start_worker` runs the queue; `post_states` reads it. Every
publish goes through here: the commands in their own process, the Python API in a
child process (engine_process.py). Held and scheduled posts sleep inside the
engine's workflows, so the engine is handed back with the result:
`engine.exit(code)` ends the process at once (a later `publish` or worker takes
those posts up, never twice; they stay PENDING exactly as after a kill).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.api.errors import PublishRefused, UsageError
from igpreflight.config import DEFAULT_RULES
from igpreflight.envelope import envelope
from igpreflight.model import Post

ACCOUNTS_ENV = "IGPREFLIGHT_ACCOUNTS"
GOOD = ("published", "scheduled")


@dataclass
class DurableResult:
    """Every post's state (account, post id, state, media id, error, until)."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    db: str = ""
    enqueued: int = 0
    engine: Any = None  # the running engine (publish_many, start_worker), or None

    @property
    def ok(self) -> bool:
        """Every post published or scheduled."""
        return all(r["state"] in GOOD for r in self.posts)

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.posts:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        return {"posts": len(self.posts), **dict(sorted(counts.items()))}

    def to_dict(self) -> dict[str, Any]:
        rows = [
            {k: v for k, v in r.items() if k not in ("seq", "executor", "until_ts")}
            for r in self.posts
        ]
        return envelope(db=shown_db(self.db), summary=self.summary(), posts=rows)


def durable_wanted(posts: Sequence[Post], accounts: str | None, **flags: Any) -> bool:
    """Does this `publish` run report per account (the many-accounts document)? An
    accounts file, --enqueue, or posts naming an `account` say so; every other run
    is one account's and keeps the one-account document. Both run on the engine."""
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


def db_for(db: str | None, manifest: str | os.PathLike[str] | None) -> str:
    """--db as given, else the SQLite file beside the manifest (or in the current folder)."""
    from igpreflight.publish import engine as E

    if db:
        return E.db_url(db)
    if manifest is not None:
        return E.db_url(E.default_db(manifest))
    return E.db_url(str(Path(".igpreflight") / E.DEFAULT_DB_NAME))


def _resolver(accounts_file: str | None, default: Any = None) -> Callable[[Post], Any]:
    """Post -> its Account: the one it names, else `default` (the command's
    --ig-user-id / IG_USER_ID account), else IG_USER_ID. UsageError names what is missing."""
    from igpreflight.publish.accounts import AccountError, account_for, load_accounts
    from igpreflight.publish.graph import register_secret

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
    from igpreflight.publish.graph import register_secret

    try:
        for acc in load_accounts(accounts_file).values():
            register_secret(acc.token())
    except AccountError as exc:
        raise UsageError(str(exc)) from None


def _legacy(journal_path: Path) -> Callable[[Any, Post], tuple[str | None, bool, str | None]]:
    """What a journal written by an earlier version says of a post: published (media
    id), or media_publish sent for a container whose outcome was never seen."""
    from igpreflight.publish.legacy import NOTHING, read_journal

    rows = read_journal(journal_path)

    def of(acc: Any, post: Post) -> tuple[str | None, bool, str | None]:
        row = rows.get((acc.ig_user_id, post.id), NOTHING)
        return row.media_id, row.published, row.sent_container

    return of


def _runtime(o: dict[str, Any]) -> Any:
    from igpreflight.publish.flow import Runtime
    from igpreflight.publish.service import CdnMediaUrl, url_rechecker

    uploader = None
    if o.get("upload") is not None:  # an UploadTarget
        uploader = CdnMediaUrl(o["upload"], allow_private=o.get("allow_private", False))
    return Runtime(
        media_url=uploader,
        url_checker=url_rechecker(o.get("allow_private", False)),
        graph_url=o.get("graph_url"),
        timeout=o.get("timeout", 30.0),
    )


def publish_many(manifest: str | os.PathLike[str], posts: list[Post], **o: Any) -> DurableResult:
    """Enqueue `posts` (each post once, by account and post id) and, unless
    `enqueue_only`, wait until each is settled. Options as `publish`'s: accounts_file,
    account (the Account of posts that name none), db, enqueue_only, ahead,
    dedupe_window (hours), allow_duplicate, check, rules, resumable, the waits, the
    upload options, graph_url, timeout, journal (an earlier version's, read only),
    watch (sees every post's state while waiting). Posts this database or the
    earlier journal show published need neither files nor checks."""
    from igpreflight.publish import engine as E
    from igpreflight.publish.legacy import default_journal_path
    from igpreflight.publish.service import preflight_refusals, publish_refusals, publish_settings

    of = _resolver(o.get("accounts_file"), o.get("account"))
    for post in posts:
        of(post)  # every account and token variable is known before anything is queued
    legacy = _legacy(Path(o.get("journal") or default_journal_path(manifest)))
    url = db_for(o.get("db"), manifest)
    engine = E.Engine(url, ahead=o.get("ahead") or E.DEFAULT_AHEAD, runtime=_runtime(o))
    engine.start()
    try:
        done = engine.published_posts()
        todo = [
            p
            for p in posts
            if not legacy(of(p), p)[1] and E.workflow_id(of(p).name, p.id) not in done
        ]
        problems = publish_refusals(
            todo,
            bucket=o["upload"].bucket if o.get("upload") else None,
            resumable=bool(o.get("resumable")),
            allow_private=o.get("allow_private", False),
        )
        if problems:
            raise PublishRefused(problems)
        probed: dict[str, Any] = {}  # what check probed each media as: image or video
        refused = (
            preflight_refusals(
                todo,
                allow_private=o.get("allow_private", False),
                rules=o.get("rules") or DEFAULT_RULES,
                kinds=probed,
            )
            if o.get("check", True)
            else {}
        )
    except UsageError:
        engine.close()
        raise
    waits = ("first_wait", "max_wait", "give_up", "max_rate_wait")
    window = o.get("dedupe_window")
    specs = E.build_specs(
        [p for p in posts if p.id not in refused],
        of,
        publish_settings(resumable=bool(o.get("resumable")), **{k: o.get(k) for k in waits}),
        dedupe_window=None
        if o.get("allow_duplicate")
        else (24.0 if window is None else window) * 3600.0,
        legacy=legacy,
        probed=probed,
    )
    try:
        ids = engine.enqueue(specs)
        rows = [] if o.get("enqueue_only") else engine.wait_settled(ids, watch=o.get("watch"))
    except BaseException:  # Ctrl-C included: posts stay PENDING for the next run
        engine.close()
        raise
    for row in rows:
        row["already"] = row.get("already") or (
            row["state"] == E.PUBLISHED and row["workflow_id"] in engine.known_before
        )
    for post in posts:
        if post.id in refused:
            info = refused[post.id]
            error = {"error_class": info.error_class, "message": info.message, "rule": info.rule}
            rows.append(
                {"account": of(post).name, "post_id": post.id, "state": "failed", "error": error}
            )
    return DurableResult(rows, db=url, enqueued=len(ids), engine=engine)


def start_worker(db: str | None = None, *, ahead: int | None = None, **o: Any) -> Any:
    """A worker on `db` (started; `until_idle` then exit, or run until stopped)."""
    from igpreflight.publish import engine as E

    check_accounts(o.get("accounts_file"))
    engine = E.Engine(db_for(db, None), ahead=ahead or E.DEFAULT_AHEAD, runtime=_runtime(o))
    engine.start()
    return engine


def post_states(db: str | None = None, manifest: str | None = None) -> DurableResult:
    """Every post of the database, read without running anything."""
    from igpreflight.publish import engine as E

    url = db_for(db, manifest)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        raise UsageError(f"no publish database at {url[len('sqlite:///') :]}")
    return DurableResult(E.client_states(url), db=url)


__all__ = ["DurableResult", "durable_wanted", "post_states", "publish_many", "start_worker"]

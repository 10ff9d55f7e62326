"""`publish`: the Graph container flow for every post of a manifest, resumable."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.api.errors import PublishRefused, UsageError
from igpreflight.api.offloop import off_the_loop
from igpreflight.api.paths import PathLike
from igpreflight.api.uploading import UploadTarget, upload_target
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.envelope import envelope
from igpreflight.model import Post
from igpreflight.publish.dryrun import PlannedPost
from igpreflight.publish.graph import DEFAULT_API_VERSION
from igpreflight.publish.settings import Outcome
from igpreflight.states import MediaIdSource, PostState

DRY_RUN_BUCKET = "(dry run: no bucket needed)"
TOKEN_ENV = "IG_ACCESS_TOKEN"
USER_ENV = "IG_USER_ID"


@dataclass
class PublishResult:
    """One Outcome per post (published, failed or queued), for one account."""

    outcomes: list[Outcome] = field(default_factory=list)
    account: str = ""
    graph_url: str = ""
    journal: str = ""

    @property
    def ok(self) -> bool:
        """Every post published or scheduled (exit 0)."""
        return all(o.status in (PostState.PUBLISHED, PostState.SCHEDULED) for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        """The counts; `uncertain` only when some are (the document stays as it was)."""
        counts = {
            "posts": len(self.outcomes),
            "published": sum(o.status == "published" for o in self.outcomes),
            "already_published": sum(o.already for o in self.outcomes),
            "failed": sum(o.status == "failed" for o in self.outcomes),
            "queued": sum(o.status == "queued" for o in self.outcomes),
            "scheduled": sum(o.status == "scheduled" for o in self.outcomes),
        }
        uncertain = sum(o.status == "uncertain" for o in self.outcomes)
        return {**counts, "uncertain": uncertain} if uncertain else counts

    def auth_stops(self) -> dict[str, list[str]]:
        """reconnect-auth stops: each message once, with the posts it stopped."""
        stops: dict[str, list[str]] = {}
        for o in self.outcomes:
            if o.error_class == "reconnect-auth" and o.message:
                stops.setdefault(o.message, []).append(o.post_id)
        return stops

    def to_dict(self) -> dict[str, Any]:
        """The `publish --format json` document."""
        return envelope(
            account=self.account,
            graph_url=self.graph_url,
            journal=self.journal,
            summary=self.summary(),
            posts=[o.to_dict() for o in self.outcomes],
        )


@dataclass
class PublishPlan:
    """A dry run: the calls each post would make; `headers` go with every call."""

    posts: list[PlannedPost] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """False when a post would be refused (the real run's exit code is then 1)."""
        return not any(p.refused for p in self.posts)

    def to_dict(self) -> dict[str, Any]:
        """The `publish --dry-run --format json` document."""
        return envelope(
            dry_run=True,
            headers=self.headers,
            posts=[
                {
                    "id": p.post_id,
                    "media_type": p.media_type or None,
                    "note": p.note,
                    "refused": p.refused is not None,
                    "uploads": p.uploads,
                    "calls": [
                        {"method": c.method, "url": c.url, "params": c.params, "headers": c.headers}
                        for c in p.calls
                    ],
                }
                for p in self.posts
            ],
        )


@off_the_loop
def publish(
    manifest: PathLike | Sequence[Post],
    *,
    ig_user_id: str | None = None,
    graph_url: str | None = None,
    api_version: str = DEFAULT_API_VERSION,
    journal: PathLike | None = None,
    db: str | None = None,
    allow_private: bool = False,
    dry_run: bool = False,
    resumable: bool = False,
    check: bool = True,
    upload: UploadTarget | None = None,
    first_wait: float | None = None,
    max_wait: float | None = None,
    give_up: float | None = None,
    max_rate_wait: float | None = None,
    timeout: float = 30.0,
    ahead: int | None = None,
    dedupe_window: float = 24.0,
    allow_duplicate: bool = False,
    progress: Callable[[Outcome], None] | None = None,
    rules: RuleSelection | None = None,
    settle_window: float | None = None,
    accounts_file: str | None = None,
    **upload_fields: Any,
) -> PublishResult | PublishPlan:
    """Publish every post of `manifest` (a TOML/JSON file, or parsed posts) in order,
    on the durable engine (one DBOS workflow per post). Local media are uploaded to
    `upload` (an UploadTarget; or give its fields: `bucket=`, `presign=`...).

    The token comes only from $IG_ACCESS_TOKEN, the account from `ig_user_id` or
    $IG_USER_ID. The database `db` (default: .igpreflight/publish.sqlite beside the
    manifest, or beside `journal`) makes a second call resume and never publish a
    post twice; a post whose last attempt failed is tried again. `journal` is where
    an earlier version kept its journal (default .igpreflight/journal.sqlite beside
    the manifest): posts it shows published are not published again. A post whose
    caption and type the account published within `dedupe_window` hours fails as
    "already on Instagram (media id)" unless `allow_duplicate`.

    Before any call the batch is refused as a whole (PublishRefused) when some post
    can never be sent as given; with `check`, a post with a `check` error fails as
    fix-media. `dry_run` returns a PublishPlan and makes no call: it needs no token,
    account or bucket, lists the local files it would upload, and refuses what a
    real run would (`PublishPlan.ok` is False when a post is refused). `rules` is the
    project configuration: rules it turns off refuse nothing. Graph errors never
    raise: each post's Outcome says published, scheduled, failed, queued (held by
    a quota: a later run or worker publishes it) or uncertain (its media_publish was
    not seen through: the next run settles it from its container, never a second
    post). `settle_window` is how long an uncertain post's container must read
    FINISHED before media_publish is sent for it again (docs/publishing.md).
    `accounts_file` lets a dry run show each account's calls (posts naming an
    `account`); real runs with accounts go through `api.durable.publish_many`.

    Returns once every post is settled; the engine runs in this process and stops, so held
    and scheduled posts neither block nor end the caller (the next `publish` or
    `worker` takes them up). `progress` hears each post as it settles; if it has
    `start(total)` it hears the number of posts first, and if it has `status(text)`
    what a post waits for.
    """
    from igpreflight.preflight.manifest import load_manifest
    from igpreflight.publish.graph.client import graph_url_from_env
    from igpreflight.publish.legacy import default_journal_path, published_ids
    from igpreflight.publish.params import expand_stories
    from igpreflight.publish.service import preflight_refusals, publish_refusals
    from igpreflight.redaction import register_secret

    upload = upload_target(upload, upload_fields)  # or its fields: bucket=, presign=...
    rules_used = rules or DEFAULT_RULES
    token = os.environ.get(TOKEN_ENV, "").strip()
    register_secret(token)
    account = (ig_user_id or os.environ.get(USER_ENV, "")).strip()
    if not token and not dry_run:
        raise UsageError(f"{TOKEN_ENV} is not set: export the Instagram access token")
    if not account and not dry_run:
        raise UsageError(f"no Instagram user id: set {USER_ENV} or pass --ig-user-id")
    from_file = isinstance(manifest, (str, os.PathLike))
    if journal is None and db is None and not from_file:
        raise UsageError("give db= (or journal=) when passing posts instead of a manifest file")
    posts = expand_stories(load_manifest(manifest) if from_file else list(manifest))
    base = graph_url_from_env(graph_url)
    jpath = Path(journal if journal is not None else default_journal_path(manifest))  # type: ignore[arg-type]
    database = db or str(jpath.parent / "publish.sqlite")
    if dry_run:
        from igpreflight.publish.durable.runs import published_post_ids

        # what this database or an earlier version's journal shows published is skipped
        # (read only: a dry run creates no folder and no file)
        url = database if "://" in database else f"sqlite:///{Path(database).resolve()}"
        done = published_ids(jpath, account) | published_post_ids(url)
        todo = [p for p in posts if p.id not in done]
        problems = publish_refusals(
            todo,
            # a dry run uploads nothing, so it needs no bucket: it says what it would upload
            bucket=upload.bucket if upload else DRY_RUN_BUCKET,
            resumable=resumable,
            allow_private=allow_private,
        )
        if problems:
            raise PublishRefused(problems)
        refused = preflight_refusals(todo, allow_private=allow_private, rules=rules_used)
        return _plan(
            token,
            base,
            api_version,
            account,
            posts,
            done,
            resumable,
            refused if check else {},
            accounts_file,
        )
    from igpreflight.publish.accounts import DEFAULT_ACCOUNT, Account

    options = {
        "account": Account(DEFAULT_ACCOUNT, account, TOKEN_ENV, None, api_version),
        "graph_url": base,
        "journal": str(jpath),
        "db": database,
        "allow_private": allow_private,
        "resumable": resumable,
        "check": check,
        "rules": rules_used,
        "upload": upload,
        "first_wait": first_wait,
        "max_wait": max_wait,
        "give_up": give_up,
        "max_rate_wait": max_rate_wait,
        "timeout": timeout,
        "ahead": ahead,
        "dedupe_window": dedupe_window,
        "allow_duplicate": allow_duplicate,
        "settle_window": settle_window,
    }
    from igpreflight.api.durable import publish_many

    result = publish_many(
        manifest if from_file else jpath,  # type: ignore[arg-type]
        posts,
        watch=_watcher(progress),
        **options,
    )
    result.engine.close()  # scheduled posts stay on the queue for the next run or worker
    order = {p.id: i for i, p in enumerate(posts)}
    rows = sorted(result.posts, key=lambda r: order.get(r["post_id"], len(order)))
    return PublishResult(
        [outcome_of(r) for r in rows], account=account, graph_url=base, journal=result.db
    )


SETTLED = ("published", "failed", "duplicate", "held", "scheduled", "uncertain", "cancelled")


def _watcher(progress: Callable[[Outcome], None] | None) -> Callable[[list[dict]], None]:
    """The engine's rows, as `progress` hears them: start(total) first, each post as
    it settles, and status(text) with what the first unsettled post waits for
    (Instagram processing its containers): the posts behind it wait on it."""
    start = getattr(progress, "start", None)
    status = getattr(progress, "status", None)
    settled: set[str] = set()
    shown: list[str | None] = [None]

    def watch(rows: list[dict]) -> None:
        if progress is None:
            return
        if shown == [None]:
            shown[0] = ""
            if start is not None:
                start(len(rows))
        for row in rows:
            settling = row["state"] == "uncertain" and row.get("step")
            if row["state"] in SETTLED and not settling and row["workflow_id"] not in settled:
                settled.add(row["workflow_id"])
                progress(outcome_of(row))
        head = next((r for r in rows if r["state"] not in SETTLED and r.get("step")), None)
        text = f"post {head['post_id']}: {head['step']}" if head else None
        if status is not None and text and text != shown[0]:
            shown[0] = text
            status(text)

    return watch


def outcome_of(row: dict[str, Any]) -> Outcome:
    """A post's state on the queue, as the Outcome `publish` has always reported:
    held posts are `queued` (a later run or worker publishes them), a post already
    on Instagram is `failed` with error class `duplicate` and that media's id, and an
    uncertain post is `uncertain` (the next run settles it)."""
    state = row["state"]
    err = row.get("error") or {}
    status = {
        "published": PostState.PUBLISHED,
        "scheduled": PostState.SCHEDULED,
        "failed": PostState.FAILED,
        "duplicate": PostState.FAILED,
        "cancelled": PostState.FAILED,
        "uncertain": PostState.UNCERTAIN,
    }.get(state, PostState.QUEUED)
    source = row.get("source")
    return Outcome(
        row["post_id"],
        row.get("media_type") or "",
        status,
        media_id=row.get("media_id"),
        media_id_source=MediaIdSource(source) if source and status == "published" else None,
        container_id=row.get("container_id"),
        already=bool(row.get("already")),
        error_class="duplicate" if state == "duplicate" else err.get("error_class"),
        code=err.get("code"),
        subcode=err.get("subcode"),
        message=err.get("message")
        or (
            f"scheduled for {row.get('until') or row.get('publish_at')}"
            if state == "scheduled"
            else None
        ),
        rule=err.get("rule"),
    )


def _plan(
    token: str,
    base: str,
    api_version: str,
    account: str,
    posts: list[Post],
    done: set[str],
    resumable: bool,
    refused: dict[str, Any],
    accounts_file: str | None = None,
) -> PublishPlan:
    """The dry run: the calls, read from the same builders the publisher uses, for
    each account the posts name (its id and its quota read first)."""
    from igpreflight.publish.dryrun import plan_accounts
    from igpreflight.publish.graph.client import GraphClient

    try:
        with GraphClient(token, base_url=base, api_version=api_version) as client:
            plan = plan_accounts(
                client,
                account,
                posts,
                accounts_file=accounts_file,
                done=done,
                resumable=resumable,
                refused=refused,
            )
            return PublishPlan(plan, headers=client.plan("GET", "").headers)
    except ValueError as exc:  # an accounts file that cannot be read
        raise UsageError(str(exc)) from None


__all__ = ["PublishPlan", "PublishRefused", "PublishResult", "TOKEN_ENV", "USER_ENV", "publish"]

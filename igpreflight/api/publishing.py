"""`publish`: the Graph container flow for every post of a manifest, resumable."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from igpreflight.api.errors import PublishRefused, UsageError
from igpreflight.api.paths import PathLike
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.envelope import envelope
from igpreflight.model import Post
from igpreflight.publish.dryrun import PlannedPost
from igpreflight.publish.graph import DEFAULT_API_VERSION
from igpreflight.publish.settings import Outcome

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
        return all(o.status == "published" for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        return {
            "posts": len(self.outcomes),
            "published": sum(o.status == "published" for o in self.outcomes),
            "already_published": sum(o.already for o in self.outcomes),
            "failed": sum(o.status == "failed" for o in self.outcomes),
            "queued": sum(o.status == "queued" for o in self.outcomes),
        }

    def auth_stops(self) -> dict[str, list[str]]:
        """reconnect-auth stops: each message once, with the posts it left queued."""
        stops: dict[str, list[str]] = {}
        for o in self.outcomes:
            if o.error_class == "reconnect-auth" and o.status == "queued" and o.message:
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


def publish(
    manifest: PathLike | Sequence[Post],
    *,
    ig_user_id: str | None = None,
    graph_url: str | None = None,
    api_version: str = DEFAULT_API_VERSION,
    journal: PathLike | None = None,
    allow_private: bool = False,
    dry_run: bool = False,
    resumable: bool = False,
    check: bool = True,
    bucket: str | None = None,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    public_base_url: str | None = None,
    presign: int | None = None,
    acl: str | None = None,
    first_wait: float | None = None,
    max_wait: float | None = None,
    give_up: float | None = None,
    max_rate_wait: float | None = None,
    timeout: float = 30.0,
    progress: Callable[[Outcome], None] | None = None,
    rules: RuleSelection | None = None,
) -> PublishResult | PublishPlan:
    """Publish every post of `manifest` (a TOML/JSON file, or parsed posts) in order.

    The token comes only from $IG_ACCESS_TOKEN, the account from `ig_user_id` or
    $IG_USER_ID. The journal (default: .igpreflight/journal.sqlite beside the
    manifest) makes a second call resume and never publish a post twice. Before any
    call the batch is refused as a whole (PublishRefused) when some post can never be
    sent as given; with `check`, a post with a `check` error fails as fix-media.
    `dry_run` returns a PublishPlan and makes no call: it needs no token, account
    or bucket, lists the local files it would upload, and refuses what a real run
    would (`PublishPlan.ok` is False when a post is refused). `rules` is the project
    configuration: rules it turns off refuse nothing. Graph errors never raise:
    each post's Outcome says published, failed or queued.
    """
    from igpreflight.preflight.manifest import load_manifest
    from igpreflight.publish.graph import graph_url_from_env, register_secret
    from igpreflight.publish.journal import Journal, default_journal_path
    from igpreflight.publish.params import expand_stories
    from igpreflight.publish.service import (
        CdnMediaUrl,
        preflight_refusals,
        publish_posts,
        publish_refusals,
        publish_settings,
        published_ids,
        url_rechecker,
    )

    rules_used = rules or DEFAULT_RULES
    token = os.environ.get(TOKEN_ENV, "").strip()
    register_secret(token)
    account = (ig_user_id or os.environ.get(USER_ENV, "")).strip()
    if not token and not dry_run:
        raise UsageError(f"{TOKEN_ENV} is not set: export the Instagram access token")
    if not account and not dry_run:
        raise UsageError(f"no Instagram user id: set {USER_ENV} or pass --ig-user-id")
    from_file = isinstance(manifest, (str, os.PathLike))
    if journal is None and not from_file:
        raise UsageError("give journal= when passing posts instead of a manifest file")
    posts = expand_stories(load_manifest(manifest) if from_file else list(manifest))
    base = graph_url_from_env(graph_url)
    jpath = journal if journal is not None else default_journal_path(manifest)  # type: ignore[arg-type]
    reader = Journal.open_readonly(jpath)
    try:
        done = published_ids(reader, account)
        todo = [p for p in posts if p.id not in done]
        problems = publish_refusals(
            todo,
            # a dry run uploads nothing, so it needs no bucket: it says what it would upload
            bucket=bucket or (DRY_RUN_BUCKET if dry_run else None),
            resumable=resumable,
            allow_private=allow_private,
        )
        if problems:
            raise PublishRefused(problems)
        settings = publish_settings(
            resumable=resumable,
            first_wait=first_wait,
            max_wait=max_wait,
            give_up=give_up,
            max_rate_wait=max_rate_wait,
        )
        if dry_run:
            refused = preflight_refusals(todo, allow_private=allow_private, rules=rules_used)
            return _plan(
                token,
                base,
                api_version,
                account,
                posts,
                reader,
                resumable,
                refused if check else {},
            )
    finally:
        if reader is not None:
            reader.close()
    uploader = (
        CdnMediaUrl(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=endpoint_url,
            region=region,
            public_base_url=public_base_url,
            presign=presign,
            acl=acl,
            allow_private=allow_private,
        )
        if bucket
        else None
    )
    outcomes = publish_posts(
        posts,
        ig_user_id=account,
        token=token,
        journal_path=jpath,
        graph_url=base,
        api_version=api_version,
        settings=settings,
        media_url=uploader,
        url_checker=url_rechecker(allow_private),
        timeout=timeout,
        progress=progress,
        check=check,
        allow_private=allow_private,
        rules=rules_used,
    )
    return PublishResult(outcomes, account=account, graph_url=base, journal=os.fspath(jpath))


def _plan(
    token: str,
    base: str,
    api_version: str,
    account: str,
    posts: list[Post],
    journal: Any,
    resumable: bool,
    refused: dict[str, Any],
) -> PublishPlan:
    """The dry run: the calls, read from the same builders the publisher uses."""
    from igpreflight.publish.dryrun import plan_calls
    from igpreflight.publish.graph import GraphClient

    with GraphClient(token, base_url=base, api_version=api_version) as client:
        plan = plan_calls(
            client, account, posts, journal=journal, resumable=resumable, refused=refused
        )
        return PublishPlan(plan, headers=client.plan("GET", "").headers)


__all__ = ["PublishPlan", "PublishRefused", "PublishResult", "TOKEN_ENV", "USER_ENV", "publish"]

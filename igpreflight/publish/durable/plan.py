"""From a manifest's posts to the specs the queue runs: each post on its account, in
publish_at then manifest order, chained to the account's post before it; and where
the publish database is."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from igpreflight.model import Post
from igpreflight.preflight.rfc3339 import parse_rfc3339
from igpreflight.publish.accounts import Account
from igpreflight.publish.params import effective_media_type, is_video_item
from igpreflight.publish.settings import PublishSettings
from igpreflight.publish.steps.results import PostError
from igpreflight.publish.steps.spec import Inherited, PostSpec

DEFAULT_DB_NAME = "publish.sqlite"
DEFAULT_DEDUPE_WINDOW = 24 * 3600.0


def default_db(manifest: str | os.PathLike[str] | None) -> str:
    """A SQLite file beside the manifest (or in the current folder), where the journal
    has always been."""
    if manifest is None or str(manifest) == "-":
        base = Path.cwd()
    else:
        base = Path(manifest).resolve().parent
    return str(base / ".igpreflight" / DEFAULT_DB_NAME)


def db_url(db: str, *, create: bool = True) -> str:
    """`postgresql://...` and `sqlite:///...` as given; a path becomes a SQLite URL
    (its folder made when `create`)."""
    if "://" in db:
        return db
    path = Path(db).expanduser().resolve()
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def build_specs(
    posts: Sequence[Post],
    accounts_of: Callable[[Post], Account],
    settings: PublishSettings,
    *,
    dedupe_window: float | None,
    legacy: Callable[[Account, Post], Inherited | None] | None = None,
    probed: Mapping[str, Any] | None = None,
    refused: Mapping[str, PostError] | None = None,
) -> list[PostSpec]:
    """One spec per post, chained per account in publish_at (then manifest) order.
    `probed` is what `check` probed each media as (MediaItem.key -> Kind): image or
    video is then decided from facts, not names. `refused` posts are queued too, to
    end failed at once with their refusal (so `status` lists every post)."""
    probed = probed or {}
    refused = refused or {}
    by_account: dict[str, list[tuple[float, int, Post, Account]]] = {}
    for i, post in enumerate(posts):
        acc = accounts_of(post)
        at = post.extra.get("publish_at")
        when = parse_rfc3339(at) if at else float("-inf")
        by_account.setdefault(acc.name, []).append((when, i, post, acc))
    specs: list[PostSpec] = []
    for rows in by_account.values():
        prev: str | None = None
        for seq, (when, _i, post, acc) in enumerate(sorted(rows, key=lambda r: (r[0], r[1]))):
            hint = post.media_type or None
            kinds = tuple(
                bool(is_video_item(m, None if hint == "CAROUSEL" else hint, probed.get(m.key)))
                for m in post.media
            )
            spec = PostSpec(
                account=acc,
                post=post,
                media_type=effective_media_type(post, list(kinds)),
                kinds=kinds,
                seq=seq,
                prev=prev,
                publish_at=None if when == float("-inf") else when,
                settings=settings,
                dedupe_window=dedupe_window,
                refusal=refused.get(post.id),
                inherit=legacy(acc, post) if legacy else None,
            )
            specs.append(spec)
            prev = spec.wid
    return specs

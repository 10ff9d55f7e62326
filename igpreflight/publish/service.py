"""One call that publishes a list of posts: client, journal and publisher wired together.

For `publish`, `run` and `igpreflight.api`: callers hand over posts and settings
and get one Outcome per post, without knowing how the three pieces fit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from igpreflight.model import MediaItem, Post
from igpreflight.publish.graph import DEFAULT_API_VERSION, GraphClient, graph_url_from_env
from igpreflight.publish.journal import Journal
from igpreflight.publish.publisher import Publisher
from igpreflight.publish.settings import Clock, MediaUrl, Outcome, PublishSettings, UrlChecker


def publish_posts(
    posts: Sequence[Post],
    *,
    ig_user_id: str,
    token: str,
    journal_path: str | os.PathLike[str],
    graph_url: str | None = None,
    api_version: str = DEFAULT_API_VERSION,
    settings: PublishSettings | None = None,
    media_url: MediaUrl | None = None,
    url_checker: UrlChecker | None = None,
    clock: Clock | None = None,
    timeout: float = 30.0,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Publish `posts` in order for one account; safe to call again with the same journal.

    `media_url` turns a local MediaItem into a public URL (an upload); without it
    only URL media (and, with `settings.resumable`, local videos) can be sent.
    Never raises for Graph errors: each Outcome says published, failed or queued.
    """
    client = GraphClient(
        token, base_url=graph_url_from_env(graph_url), api_version=api_version, timeout=timeout
    )
    try:
        journal = Journal(journal_path, now=clock.now) if clock else Journal(journal_path)
        with journal:
            publisher = Publisher(
                client,
                journal,
                ig_user_id,
                settings=settings,
                clock=clock,
                media_url=media_url,
                url_checker=url_checker,
            )
            return publisher.run(posts, progress)
    finally:
        client.close()


class CdnMediaUrl:
    """Local media -> public URL through the CDN module, once per file."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.cache: dict[str, str] = {}

    def __call__(self, item: MediaItem) -> str:
        if item.url:
            return item.url
        if item.resolved not in self.cache:
            from igpreflight.publish.cdn import upload_file

            self.cache[item.resolved] = upload_file(item.resolved, **self.options).url
        return self.cache[item.resolved]


def url_rechecker(allow_private: bool) -> UrlChecker:
    """9004/2207052 re-check: the URL rules again, against the local file when there is one."""
    from igpreflight.publish.urlcheck import check_url

    def check(url: str, item: MediaItem) -> tuple[bool, str]:
        local = item.resolved if item.resolved and os.path.isfile(item.resolved) else None
        result = check_url(url, local_path=local, allow_private=allow_private)
        return result.ok, "; ".join(f"{f.rule} {f.message}" for f in result.errors) or "ok"

    return check

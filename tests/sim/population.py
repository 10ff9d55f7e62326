"""What a schedule's world holds: its accounts and posts (one of each kind the
schedule names), and their specs as `publish` builds them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igpreflight.model import MediaItem, Post
from igpreflight.publish.accounts import Account
from igpreflight.publish.durable.plan import build_specs
from igpreflight.publish.settings import PublishSettings

from .instagram import START

if TYPE_CHECKING:
    from .world import Schedule

SETTINGS = PublishSettings(jitter=0.1, settle_window=180.0)


def make_posts(schedule: Schedule) -> list[Post]:
    return [_post(schedule, i, kind) for i, kind in enumerate(schedule.posts)]


def make_accounts(schedule: Schedule) -> list[Account]:
    return [
        Account(f"acc{a}", f"1784140000000{a:04d}", "SIM_TOKEN") for a in range(schedule.accounts)
    ]


def make_specs(accounts: list[Account], posts: list[Post]) -> list[Any]:
    by_name = {a.name: a for a in accounts}
    return build_specs(
        posts, lambda p: by_name[p.extra["account"]], SETTINGS, dedupe_window=86400.0
    )


def _post(schedule: Schedule, i: int, kind: str) -> Post:
    account = f"acc{i % schedule.accounts}"
    ext = "mp4" if kind == "reel" else "jpg"
    url = f"https://cdn.sim/{account}/p{i}.{ext}"
    extra: dict[str, Any] = {"account": account}
    if kind == "later":
        extra["publish_at"] = f"{_stamp(START + 900 + 60 * i)}"
    caption = None if kind in ("bare", "story") else f"caption p{i}"
    media = (MediaItem(path=url, resolved="", url=url),)
    if kind == "carousel":
        media = tuple(MediaItem(path=f"{url}#{n}", resolved="", url=f"{url}#{n}") for n in (1, 2))
    mtype = {"story": "STORIES", "reel": "REELS", "carousel": "CAROUSEL"}.get(kind, "IMAGE")
    return Post(id=f"p{i}", media_type=mtype, media=media, caption=caption, extra=extra)


def _stamp(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

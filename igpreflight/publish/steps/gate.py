"""Step: may the post be published now? The account's quota (QUOTA001) and its
recent media (a post already on Instagram is a duplicate).

The quota is read once per account per process and counted down as posts pass; a
post is held only on a quota read at most `Runtime.QUOTA_FRESH` old, so every new
run and every worker re-reads `content_publishing_limit` before it decides that a
held post stays held. The recent media are read once per run (REFRESH for a worker).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from igpreflight.preflight.rules.quota import QuotaFacts, check_quota
from igpreflight.publish.graph.errors import GraphError
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.settings import QUOTA_WINDOW
from igpreflight.publish.steps.results import Duplicate, Failed, Held, PostError, Proceed
from igpreflight.publish.steps.runtime import AccountState, Runtime
from igpreflight.publish.steps.spec import PostSpec
from igpreflight.publish.steps.verdicts import LOOK_AGAIN

log = logging.getLogger("igpreflight.publish")

# How a post's media types show in GET /{ig-user-id}/media (a Reel lists as VIDEO).
LISTED_TYPES = {
    "IMAGE": {"IMAGE"},
    "REELS": {"VIDEO", "REELS"},
    "VIDEO": {"VIDEO", "REELS"},
    "CAROUSEL": {"CAROUSEL_ALBUM", "CAROUSEL"},
}
RECENT_MEDIA_FIELDS = "caption,timestamp,media_type"


def gate(rt: Runtime, spec: PostSpec) -> Proceed | Duplicate | Held | Failed:
    """Proceed (a quota slot is reserved for the post), Duplicate, Held, or Failed when
    the account is stopped (reconnect-auth)."""
    acc, settings = spec.account, spec.settings
    stopped = rt.stopped(acc)
    if stopped is not None:
        return Failed(stopped)
    st = rt.account(acc)
    with st.lock:
        caption = spec.post.caption
        if spec.dedupe_window is not None and caption and spec.media_type in LISTED_TYPES:
            recent = recent_media(rt, spec, st)
            dup = duplicate(
                recent,
                caption,
                spec.media_type,
                rt.now() - spec.dedupe_window,
                rt.ledger.our_media_ids(acc.name),
            )
            if dup is not None:
                return Duplicate(dup)
        if not settings.check_quota:
            return Proceed()
        # A hold is never decided on an old read, nor for a post held before on the
        # read that held it: the quota is read again (the window may have moved on).
        again = spec.inherit is not None and spec.inherit.held and not reread_done(rt, spec)
        if st.remaining is None or (
            st.remaining <= 0 and (again or rt.now() - st.quota_read_at > rt.QUOTA_FRESH)
        ):
            _read_quota(rt, spec, st)
        assert st.remaining is not None
        found = check_quota(QuotaFacts(st.total or 0, st.remaining))
        if found:
            until = st.frees_at or quota_frees_at(st.recent, rt.now())
            rule = found[0].rule
            return Held(
                until,
                PostError(ErrorClass.WAIT_QUOTA.value, f"{rule}: {found[0].message}", rule=rule),
            )
        st.remaining -= 1  # reserved for this post; given back if it does not publish
    return Proceed()


def reread_done(rt: Runtime, spec: PostSpec) -> bool:
    """Whether this attempt of a held post has had its fresh quota read (once)."""
    st = rt.account(spec.account)
    done = spec.wid in st.reread
    st.reread.add(spec.wid)
    return done


def read_quota_once(rt: Runtime, spec: PostSpec) -> None:
    st = rt.account(spec.account)
    with st.lock:
        if st.remaining is None:
            _read_quota(rt, spec, st)


def quota_used_up(rt: Runtime, spec: PostSpec) -> None:
    """Instagram refused a publish for the quota (9/2207042): the account's posts in
    this process are held without trying, until the quota is read again."""
    st = rt.account(spec.account)
    with st.lock:
        st.remaining, st.quota_read_at = 0, rt.now()
        st.total = st.total or spec.settings.fallback_quota


def release_quota(rt: Runtime, spec: PostSpec) -> None:
    """A post that passed the gate did not publish: its reserved slot is free again."""
    st = rt.account(spec.account)
    with st.lock:
        if st.remaining is not None:
            st.remaining += 1


def note_published(rt: Runtime, spec: PostSpec, media_id: str | None) -> None:
    """This run's own publish, for the duplicate check of the posts after it."""
    st = rt.account(spec.account)
    with st.lock:
        if st.recent is not None:
            listed = next(iter(LISTED_TYPES.get(spec.media_type, {spec.media_type})))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(rt.now()))
            row = {"id": media_id or "", "caption": spec.post.caption or "", "timestamp": stamp}
            st.recent.insert(0, {**row, "media_type": listed})


def _read_quota(rt: Runtime, spec: PostSpec, st: AccountState) -> None:
    acc, settings = spec.account, spec.settings
    try:
        got = rt.retrying(acc, settings, lambda c: c.publishing_limit(acc.ig_user_id))
    except GraphError as err:
        log.info("content_publishing_limit of %s unavailable (%s)", acc.name, err)
        got = None
    st.frees_at = None
    if got is None:
        # Unreadable: count what this database published for the account in the window.
        times = rt.ledger.own_publishes(acc.name, rt.now() - QUOTA_WINDOW)
        got = (len(times), settings.fallback_quota)
        st.frees_at = min(times) + QUOTA_WINDOW if times else None
        log.info("account %s: %d own publishes in 24 h, limit %d assumed", acc.name, *got)
    used, total = got
    st.total = total
    st.remaining = max(0, total - used)
    st.quota_read_at = rt.now()


def recent_media(rt: Runtime, spec: PostSpec, st: AccountState | None = None, *, fresh=False):
    """The account's recent media (read once per REFRESH, or now when `fresh`)."""
    st = st or rt.account(spec.account)
    if fresh or st.recent is None or rt.now() - st.recent_read_at > rt.REFRESH:
        st.recent = _read_recent(rt, spec)
        st.recent_read_at = rt.now()
    return st.recent


def _read_recent(rt: Runtime, spec: PostSpec) -> list[dict[str, Any]]:
    acc = spec.account
    try:
        data = rt.retrying(
            acc,
            spec.settings,
            lambda c: c.request(
                "GET", f"{acc.ig_user_id}/media", {"fields": RECENT_MEDIA_FIELDS, "limit": 50}
            ),
        )
    except GraphError as err:
        log.info("recent media of %s unavailable (%s); no duplicate check", acc.name, err)
        return []
    rows = data.get("data")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def epoch(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def duplicate(
    recent: list[dict[str, Any]], caption: str, media_type: str, horizon: float, ours: set[str]
) -> str | None:
    """The id of a media with this caption and this type published since `horizon`
    (epoch) by anyone but this database's own posts. A Reel is not an image."""
    types = LISTED_TYPES[media_type]
    for m in recent:
        when = epoch(m.get("timestamp"))
        if when is None or when < horizon or str(m.get("id")) in ours:
            continue
        if (m.get("caption") or "").strip() == caption.strip() and m.get("media_type") in types:
            return str(m.get("id"))
    return None


def quota_frees_at(recent: list[dict[str, Any]] | None, now: float) -> float:
    """When a slot frees: 24 h after the oldest post still counted (known from the
    recent media when they were read), else in an hour (a guess: the next run or
    worker reads the quota again before it keeps the post held)."""
    if recent:
        horizon = now - QUOTA_WINDOW
        times = sorted(t for m in recent if (t := epoch(m.get("timestamp"))) and t > horizon)
        if times:
            return times[0] + QUOTA_WINDOW
    return now + LOOK_AGAIN

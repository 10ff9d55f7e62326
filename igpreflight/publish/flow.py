"""The Graph calls of one post, step by step, for the durable engine (engine.py).

Each public function here is one durable step: it makes its calls, retries what
SPEC section 6 says to retry, and returns a small dict the engine records. Nothing
here knows DBOS; nothing here stores a token: the token is read from the account's
environment variable when the client is made.

Per process and per account (`Runtime`): one HTTP client, the quota read once per
run, the account's recent media read once per run (issue 14's dedupe), and the
usage headers of the last answer, so a busy account slows only itself.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from igpreflight.catalog import ErrorClass
from igpreflight.limits import POST_LIMITS
from igpreflight.model import Post
from igpreflight.preflight.rules.quota import QuotaFacts, check_quota
from igpreflight.publish.accounts import Account
from igpreflight.publish.graph import (
    DEFAULT_API_VERSION,
    GraphClient,
    GraphError,
    Usage,
    container_status_error,
    graph_url_from_env,
)
from igpreflight.publish.params import Slot, container_params, slots_for
from igpreflight.publish.settings import QUOTA_WINDOW, MediaUrl, PublishSettings, UrlChecker

log = logging.getLogger("igpreflight.publish")

# How a post's media types show in GET /{ig-user-id}/media.
_LISTED_TYPES = {
    "IMAGE": {"IMAGE"},
    "REELS": {"VIDEO", "REELS"},
    "VIDEO": {"VIDEO", "REELS"},
    "CAROUSEL": {"CAROUSEL_ALBUM", "CAROUSEL"},
}
RECENT_MEDIA_FIELDS = "caption,timestamp,media_type"
# A worker that runs for hours reads the quota (when used up) and the recent media
# again after this long; a `publish` run reads each once.
REFRESH = 600.0


@dataclass
class _AccountState:
    client: GraphClient
    lock: threading.Lock = field(default_factory=threading.Lock)
    remaining: int | None = None  # quota left in this run (read once)
    total: int | None = None
    quota_read_at: float = 0.0
    recent: list[dict[str, Any]] | None = None  # recent media (read once)
    recent_read_at: float = 0.0
    usage: Usage = field(default_factory=Usage)
    calls: int = 0


class Runtime:
    """What a worker process brings to every post: uploads, URL re-checks, clients."""

    def __init__(
        self,
        *,
        media_url: MediaUrl | None = None,
        url_checker: UrlChecker | None = None,
        graph_url: str | None = None,
        timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.media_url = media_url
        self.url_checker = url_checker
        self.graph_url = graph_url
        self.timeout = timeout
        self.rng = rng or random.Random()
        self._accounts: dict[str, _AccountState] = {}
        self._lock = threading.Lock()
        self._app_usage = Usage()  # X-App-Usage is the app's, shared by every account

    def account(self, acc: Account) -> _AccountState:
        with self._lock:
            st = self._accounts.get(acc.name)
            if st is None:
                client = GraphClient(
                    acc.token(),
                    base_url=graph_url_from_env(acc.graph_url or self.graph_url),
                    api_version=acc.api_version or DEFAULT_API_VERSION,
                    timeout=self.timeout,
                )
                st = self._accounts[acc.name] = _AccountState(client)
            return st

    def calls(self) -> dict[str, int]:
        with self._lock:
            return {name: st.calls for name, st in self._accounts.items()}

    def close(self) -> None:
        with self._lock:
            for st in self._accounts.values():
                st.client.close()
            self._accounts.clear()

    # ---- one call, paced by the usage headers ----------------------------------------

    def call(
        self, acc: Account, settings: PublishSettings, fn: Callable[[GraphClient], Any]
    ) -> Any:
        """One Graph call for `acc`: waits first when the account's business use case
        (or the app) is out of calls, then records what the answer's headers say."""
        st = self.account(acc)
        for usage in (st.usage, self._app_usage):
            if usage.exhausted:
                wait = min(usage.wait_seconds or settings.rate_wait_default, settings.rate_wait_max)
                log.info("usage headers of account %s ask for %.1f s", acc.name, wait)
                time.sleep(wait)
        try:
            return fn(st.client)
        finally:
            st.calls += 1
            usage = st.client.last_usage
            st.usage = Usage(0.0, usage.business_pct, usage.regain_seconds, usage.retry_after)
            if usage.app_pct:
                self._app_usage = Usage(usage.app_pct)


# ---- results --------------------------------------------------------------------------


def failure(err: GraphError | None = None, message: str | None = None, **extra: Any) -> dict:
    """A recorded failure: class, code, subcode, message, rule (never a token: the
    client redacts messages)."""
    cls = err.error_class.value if err is not None else ErrorClass.PERMANENT.value
    return {
        "error_class": extra.pop("error_class", cls),
        "code": err.code if err is not None else None,
        "subcode": err.subcode if err is not None else None,
        "message": message or (str(err.message) if err is not None else ""),
        "rule": err.rule if err is not None else None,
        **extra,
    }


def _sleep(rt: Runtime, settings: PublishSettings, seconds: float) -> None:
    if seconds > 0:
        j = settings.jitter
        time.sleep(seconds * (1 + rt.rng.uniform(-j, j)) if j else seconds)


def _retry_wait(settings: PublishSettings, tries: int) -> float:
    return min(settings.max_wait, settings.retry_wait * settings.backoff ** (tries - 1))


def _retrying(
    rt: Runtime, acc: Account, settings: PublishSettings, fn: Callable[[GraphClient], Any]
) -> Any:
    """retry-same (bounded, backoff) and rate limits (wait as the headers say); other
    errors go up. Only for calls that are safe to repeat (not media_publish)."""
    tries = rate_waits = 0
    while True:
        try:
            return rt.call(acc, settings, fn)
        except GraphError as err:
            cls = err.error_class
            if cls is ErrorClass.WAIT_QUOTA and not _quota_error(err):
                wait = err.usage.wait_seconds or settings.rate_wait_default * 2**rate_waits
                if wait <= settings.rate_wait_max and rate_waits < settings.rate_waits:
                    rate_waits += 1
                    time.sleep(wait)
                    continue
            if cls is ErrorClass.RETRY_SAME:
                tries += 1
                if tries < settings.retry_attempts:
                    _sleep(rt, settings, _retry_wait(settings, tries))
                    continue
            raise


def _quota_error(err: GraphError) -> bool:
    return err.code == 9 or err.subcode == 2207042


# ---- step: containers -----------------------------------------------------------------


def plan_slots(post: Post, media_type: str, kinds: list[bool]) -> list[Slot]:
    return slots_for(post, media_type, kinds)


def create_containers(
    rt: Runtime,
    acc: Account,
    settings: PublishSettings,
    post: Post,
    media_type: str,
    slots: list[Slot],
    children: list[str] | None = None,
) -> dict[str, Any]:
    """POST /{ig-user-id}/media for each slot -> {"ids": [...], "created": t} or a failure."""
    ids: list[str] = []
    for s in slots:
        try:
            url = None
            if s.item is not None:
                url = rt.media_url(s.item) if rt.media_url else s.item.url
                if url is None:
                    return {"failed": failure(message=f"{s.item.path}: no URL to send")}
            cover = None
            if post.cover is not None and s.publishable and s.is_video:
                cover = rt.media_url(post.cover) if rt.media_url else post.cover.url
            params = container_params(
                post, media_type, s, media_url=url, cover_url=cover, children=children
            )
        except Exception as exc:  # an upload or URL verdict: the post fails, no container
            info = getattr(exc, "info", None)
            if info is not None:
                return {"failed": failure(message=info.message, error_class=info.error_class)}
            return {"failed": failure(message=f"upload failed: {exc}")}
        try:
            data = _retrying(
                rt, acc, settings, lambda c, p=params: c.create_container(acc.ig_user_id, p)
            )
        except GraphError as err:
            return {"failed": failure(err, _where(err, s)), "retryable": _recreatable(err)}
        ids.append(str(data["id"]))
    return {"ids": ids, "created": time.time()}


def _where(err: GraphError, s: Slot | None) -> str:
    where = f" ({s.item.path})" if s is not None and s.item is not None else ""
    hint = ""
    if err.error_class is ErrorClass.FIX_MEDIA and err.rule:
        hint = f"; preflight rule {err.rule} catches this: run `igpreflight check` / `fix`"
    return f"{err.code_text}: {err.message}{where}{hint}"


def _recreatable(err: GraphError) -> bool:
    return err.error_class in (ErrorClass.RECREATE_CONTAINER, ErrorClass.RETRY_SAME)


def first_wait(settings: PublishSettings, slots: list[Slot]) -> float:
    """Images a few seconds, videos by size (as the one-account publisher does)."""
    wait = 0.0
    for s in slots:
        if s.is_video:
            size = _size(s.item.resolved) if s.item is not None else 0
            w = min(
                settings.first_wait_max,
                settings.first_wait_video + settings.first_wait_per_mb * size / 1e6,
            )
        else:
            w = settings.first_wait_image
        wait = max(wait, w)
    return wait


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def wait_ready(
    rt: Runtime,
    acc: Account,
    settings: PublishSettings,
    slots: list[Slot],
    ids: list[str],
    created: float,
) -> dict[str, Any]:
    """Poll every container until all are FINISHED -> {"ready": True} or a failure
    ({"recreate": True} when a new container may succeed). The first poll comes once
    the wait sized to the media has passed since creation; the next ones back off."""
    pending = dict(zip(ids, slots, strict=True))
    _sleep_until(created + first_wait(settings, slots))
    tries = 0
    while pending:
        for cid in list(pending):
            try:
                code, status = _retrying(rt, acc, settings, lambda c, i=cid: c.container_status(i))
            except GraphError as err:
                return {
                    "failed": failure(err, _where(err, pending[cid])),
                    "recreate": _recreatable(err),
                }
            if code in ("FINISHED", "PUBLISHED"):
                del pending[cid]
            elif code in ("ERROR", "EXPIRED"):
                err = container_status_error(cid, code, status)
                return {
                    "failed": failure(err, _where(err, pending[cid])),
                    "recreate": _recreatable(err),
                }
        if not pending:
            break
        tries += 1
        give_up = (
            settings.give_up_video
            if any(s.is_video for s in pending.values())
            else settings.give_up_image
        )
        if time.time() - created >= give_up:
            return {
                "failed": failure(
                    message=f"container {next(iter(pending))} still IN_PROGRESS after {give_up:.0f} s",
                    error_class=ErrorClass.RETRY_SAME.value,
                )
            }
        # Next poll: half the sized wait, then doubling (capped), so a container ready a
        # little late costs one more poll, not a fixed long wait.
        nominal = first_wait(settings, list(pending.values()))
        _sleep(
            rt,
            settings,
            min(settings.max_wait, max(0.05, nominal / 2) * settings.backoff ** (tries - 1)),
        )
    return {"ready": True}


def _sleep_until(t: float) -> None:
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


# ---- step: the gate before media_publish ----------------------------------------------


def gate(
    rt: Runtime,
    acc: Account,
    settings: PublishSettings,
    post: Post,
    media_type: str,
    *,
    dedupe_window: float | None,
    ours: Callable[[], set[str]],
) -> dict[str, Any]:
    """May the post be published now? {"ok": True}, {"duplicate": media_id}, or
    {"held": why, "until": epoch}. Quota and recent media are read once per account per
    run; this run's own publishes are counted from then on."""
    st = rt.account(acc)
    with st.lock:
        if dedupe_window is not None and post.caption and media_type in _LISTED_TYPES:
            if st.recent is None or time.time() - st.recent_read_at > REFRESH:
                st.recent = _recent_media(rt, acc, settings)
                st.recent_read_at = time.time()
            dup = _duplicate(st.recent, post.caption, media_type, dedupe_window, ours())
            if dup is not None:
                return {"duplicate": dup}
        if settings.check_quota:
            stale = time.time() - st.quota_read_at > REFRESH
            if st.remaining is None or (st.remaining <= 0 and stale):
                _read_quota(rt, acc, settings, st)
                st.quota_read_at = time.time()
            assert st.remaining is not None
            found = check_quota(QuotaFacts(st.total or 0, st.remaining))
            if found:
                return {
                    "held": f"{found[0].rule}: {found[0].message}",
                    "rule": found[0].rule,
                    "until": _quota_frees_at(st.recent, st.total or 0),
                }
            st.remaining -= 1  # reserved for this post; given back if it does not publish
    return {"ok": True}


def release_quota(rt: Runtime, acc: Account) -> None:
    """A post that passed the gate did not publish: its reserved slot is free again."""
    st = rt.account(acc)
    with st.lock:
        if st.remaining is not None:
            st.remaining += 1


def note_published(
    rt: Runtime, acc: Account, caption: str | None, media_type: str, media_id: str | None
) -> None:
    st = rt.account(acc)
    with st.lock:
        if st.recent is not None:
            st.recent.insert(
                0,
                {
                    "id": media_id or "",
                    "caption": caption or "",
                    "media_type": next(iter(_LISTED_TYPES.get(media_type, {media_type}))),
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
                },
            )


def _read_quota(rt: Runtime, acc: Account, settings: PublishSettings, st: _AccountState) -> None:
    try:
        got = _retrying(rt, acc, settings, lambda c: c.publishing_limit(acc.ig_user_id))
    except GraphError as err:
        log.info("content_publishing_limit of %s unavailable (%s)", acc.name, err)
        got = None
    used, total = got if got is not None else (0, POST_LIMITS.default_quota_per_24h)
    st.total = total
    st.remaining = max(0, total - used)


def _recent_media(rt: Runtime, acc: Account, settings: PublishSettings) -> list[dict[str, Any]]:
    try:
        data = _retrying(
            rt,
            acc,
            settings,
            lambda c: c.request(
                "GET", f"{acc.ig_user_id}/media", {"fields": RECENT_MEDIA_FIELDS, "limit": 50}
            ),
        )
    except GraphError as err:
        log.info("recent media of %s unavailable (%s); no duplicate check", acc.name, err)
        return []
    rows = data.get("data")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _epoch(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def _duplicate(
    recent: list[dict[str, Any]], caption: str, media_type: str, window: float, ours: set[str]
) -> str | None:
    """The id of a media with this caption and type published within `window` seconds,
    by anyone but this database's own posts."""
    horizon = time.time() - window
    types = _LISTED_TYPES[media_type]
    for m in recent:
        when = _epoch(m.get("timestamp"))
        if when is None or when < horizon or str(m.get("id")) in ours:
            continue
        if (m.get("caption") or "").strip() == caption.strip() and m.get("media_type") in types:
            return str(m.get("id"))
    return None


def _quota_frees_at(recent: list[dict[str, Any]] | None, total: int) -> float:
    """When a slot frees: 24 h after the oldest post still counted (known from the
    recent media when they were read), else in an hour to look again."""
    if recent:
        horizon = time.time() - QUOTA_WINDOW
        times = sorted(t for m in recent if (t := _epoch(m.get("timestamp"))) and t > horizon)
        if times:
            return times[0] + QUOTA_WINDOW
    return time.time() + 3600.0


# ---- step: media_publish, never twice -------------------------------------------------


def publish(
    rt: Runtime, acc: Account, settings: PublishSettings, cid: str, *, settle_first: bool
) -> dict[str, Any]:
    """media_publish for container `cid` -> {"media_id", "source"} | {"recreate"} |
    {"held"} | {"failed"}.

    When `settle_first` (this step may have run before: the workflow was resumed) and
    after any attempt whose outcome was not seen, the container is asked first: a
    container that shows PUBLISHED is the post, published; it is never sent twice.
    """
    tries = builder = 0
    ask = settle_first
    while True:
        if ask:
            try:
                code, status = _retrying(rt, acc, settings, lambda c: c.container_status(cid))
            except GraphError as err:
                return {"failed": failure(err, _where(err, None))}
            if code == "PUBLISHED":
                return {"media_id": None, "source": "container"}
            if code in ("ERROR", "EXPIRED"):
                err = container_status_error(cid, code, status)
                return {"failed": failure(err, _where(err, None)), "recreate": _recreatable(err)}
            if code != "FINISHED":
                tries += 1
                if tries >= settings.retry_attempts:
                    return {
                        "failed": failure(
                            message=f"container {cid} is {code or 'not ready'}",
                            error_class=ErrorClass.RETRY_SAME.value,
                        )
                    }
                _sleep(rt, settings, _retry_wait(settings, tries))
                continue
        try:
            media_id = rt.call(acc, settings, lambda c: c.publish(acc.ig_user_id, cid))
            return {"media_id": media_id, "source": "media_publish"}
        except GraphError as err:
            ask = True  # whatever happened, the container decides before another try
            cls = err.error_class
            if (err.code, err.subcode) == (24, 2207008):
                builder += 1
                if builder > settings.builder_retries:
                    return {"failed": failure(err, _where(err, None)), "recreate": True}
                _sleep(rt, settings, settings.builder_window / (settings.builder_retries + 1))
                continue
            if cls is ErrorClass.WAIT_QUOTA:
                if _quota_error(err):
                    [f] = check_quota(QuotaFacts(0, 0, refusal=f"{err.code_text}: {err.message}"))
                    return {
                        "held": f"{f.rule}: {f.message}",
                        "rule": f.rule,
                        "until": time.time() + 3600.0,
                    }
                wait = err.usage.wait_seconds or settings.rate_wait_default
                if wait > settings.rate_wait_max:
                    return {
                        "held": f"rate limited ({err.code_text}: {err.message})",
                        "until": time.time() + wait,
                    }
                time.sleep(wait)
                continue
            if cls is ErrorClass.RETRY_SAME:
                tries += 1
                if tries >= settings.retry_attempts:
                    if err.uncertain and _shows_published(rt, acc, settings, cid):
                        return {"media_id": None, "source": "container"}
                    return {
                        "failed": failure(
                            err, f"media_publish failed {tries} times: {_where(err, None)}"
                        )
                    }
                _sleep(rt, settings, _retry_wait(settings, tries))
                continue
            if cls is ErrorClass.RECREATE_CONTAINER:
                return {"failed": failure(err, _where(err, None)), "recreate": True}
            return {"failed": failure(err, _where(err, None))}


def _shows_published(rt: Runtime, acc: Account, settings: PublishSettings, cid: str) -> bool:
    """After a last attempt whose answer was lost: did it go through after all?"""
    try:
        code, _ = _retrying(rt, acc, settings, lambda c: c.container_status(cid))
    except GraphError:
        return False
    return code == "PUBLISHED"

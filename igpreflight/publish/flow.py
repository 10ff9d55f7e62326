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
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from igpreflight.catalog import ErrorClass, lookup_graph_error
from igpreflight.model import MediaItem, Post
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
from igpreflight.publish.params import (
    Slot,
    container_params,
    goes_resumable,
    slots_for,
    wants_cover,
)
from igpreflight.publish.settings import (
    QUOTA_WINDOW,
    UPLOAD_FAILED,
    Clock,
    MediaUrl,
    PublishSettings,
    UrlChecker,
)

log = logging.getLogger("igpreflight.publish")

# Set while the engine of this process closes: every wait of a step or workflow ends
# with Abandoned, which DBOS does not record (it is no Exception), so the workflow
# stays PENDING exactly as a kill leaves it and the next worker resumes it.
STOPPING = threading.Event()


class Abandoned(BaseException):
    """The engine is closing: this post stops where it is, unrecorded, to be resumed."""


class StoppableClock:
    """Real time, whose sleeps end early (Abandoned) when the engine closes."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and STOPPING.wait(seconds):
            raise Abandoned()


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
    stopped: dict[str, Any] | None = None  # reconnect-auth: every later step fails at once
    stopped_at: float = 0.0
    not_found: int = 0  # 24/2207006 seen (a repeat means the token cannot see the media)
    frees_at: float | None = None  # when the oldest of our own counted publishes leaves the window


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
        clock: Clock | None = None,
    ) -> None:
        self.media_url = media_url
        self.url_checker = url_checker
        self.graph_url = graph_url
        self.timeout = timeout
        self.rng = rng or random.Random()
        # Every wait and every "now" of a step goes through the clock: tests drive the
        # emulator's virtual clock with it.
        self.clock: Clock = clock or StoppableClock()
        # Hears what a step waits for ("Instagram is processing 2 containers"); the
        # engine forwards it as the post's state, so a terminal shows the long waits.
        self.activity: Callable[[str], None] = lambda text: None
        # When an account's quota cannot be read: the times (epoch, on `clock`) this
        # database published for the account since a moment; the engine answers it.
        self.own_publishes: Callable[[Account, float], list[float]] = lambda acc, since: []
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

    def stop_account(self, acc: Account, err: GraphError) -> None:
        """reconnect-auth: one message for the account; its later steps make no call."""
        st = self.account(acc)
        info = lookup_graph_error(err.code, err.subcode)
        advice = info.advice if info else "reconnect the account"
        # The catalog speaks of IG_ACCESS_TOKEN; an account's token is in its own variable.
        advice = advice.replace("IG_ACCESS_TOKEN", acc.token_env)
        st.stopped = failure(
            err,
            f"Graph error {err.code_text} ({err.message}): {advice}."
            f" Publishing stopped for account {acc.name}: its remaining posts were not sent;"
            " run publish again once it is reconnected.",
            error_class=ErrorClass.RECONNECT_AUTH.value,
        )
        st.stopped_at = self.clock.now()

    def stopped(self, acc: Account) -> dict[str, Any] | None:
        """The account's reconnect-auth failure, while it holds (a worker looks again
        after REFRESH: the token may have been renewed)."""
        st = self.account(acc)
        if st.stopped is not None and self.clock.now() - st.stopped_at > REFRESH:
            st.stopped = None
        return dict(st.stopped) if st.stopped is not None else None

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
                self.clock.sleep(wait)
        try:
            return fn(st.client)
        except GraphError as err:
            if err.error_class is ErrorClass.RECONNECT_AUTH:
                self.stop_account(acc, err)
            raise
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
        rt.clock.sleep(seconds * (1 + rt.rng.uniform(-j, j)) if j else seconds)


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
                wait = err.usage.wait_seconds or settings.rate_backoff.delay(rate_waits)
                if wait <= settings.rate_wait_max and rate_waits < settings.rate_waits:
                    rate_waits += 1
                    rt.clock.sleep(wait)
                    continue
            if cls is ErrorClass.RETRY_SAME:
                tries += 1
                if tries < settings.retry_attempts:
                    _sleep(rt, settings, settings.retry_backoff.delay(tries - 1))
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
    """POST /{ig-user-id}/media for each slot (a local video with --resumable: then its
    bytes to the upload host) -> {"ids": [...], "created": t} or a failure. Every URL
    the post needs is had (uploaded, URL-checked) before its first container."""
    if settings.check_quota:
        # The account's first call of the run is the quota read (once): a token that
        # no longer works stops the account before any container is made.
        st = rt.account(acc)
        with st.lock:
            if st.remaining is None:
                _read_quota(rt, acc, settings, st)
                st.quota_read_at = rt.clock.now()
    stopped = rt.stopped(acc)
    if stopped is not None:
        return {"failed": stopped}
    urls: list[tuple[str | None, str | None]] = []
    for s in slots:
        try:
            url = None
            if s.item is not None and not goes_resumable(s, settings.resumable):
                url = _url(rt, s.item)
            cover = None
            if post.cover is not None and wants_cover(media_type, s):
                cover = _url(rt, post.cover)
        except Exception as exc:  # an upload or URL verdict: the post fails, no container
            return {"failed": _upload_failure(exc)}
        urls.append((url, cover))
    ids: list[str] = []
    for s, (url, cover) in zip(slots, urls, strict=True):
        resumable = goes_resumable(s, settings.resumable)
        params = container_params(
            post,
            media_type,
            s,
            media_url=url,
            cover_url=cover,
            children=children,
            resumable=resumable,
        )
        try:
            data = _retrying(
                rt, acc, settings, lambda c, p=params: c.create_container(acc.ig_user_id, p)
            )
        except GraphError as err:
            return _container_failed(rt, acc, settings, err, s, at_create=True)
        cid = str(data["id"])
        if resumable:
            assert s.item is not None
            uri, path = str(data.get("uri") or ""), s.item.resolved
            try:
                _retrying(
                    rt,
                    acc,
                    settings,
                    lambda c, u=uri, f=path, i=cid: c.upload_video(u, f, context=i),
                )
            except GraphError as err:
                return {"failed": _failed(rt, acc, err, s, host=_origin(uri))}
        ids.append(cid)
    return {"ids": ids, "created": rt.clock.now()}


def _url(rt: Runtime, item: MediaItem) -> str:
    """The item's public URL: as given, or from the uploader (which checks it)."""
    if item.url:
        return item.url
    if rt.media_url is None:
        raise ValueError(
            f"{item.path}: a local file needs a public URL (upload it with --bucket)"
            " or, for a video, --resumable"
        )
    return rt.media_url(item)


def _upload_failure(exc: Exception) -> dict[str, Any]:
    info = getattr(exc, "info", None)  # MediaRefused: the URL fails the URL rules
    if info is not None:
        return failure(message=info.message, error_class=info.error_class, rule=info.rule)
    if isinstance(exc, ValueError):
        return failure(message=str(exc), error_class=ErrorClass.FIX_MEDIA.value)
    return failure(message=f"upload failed: {exc}", error_class=UPLOAD_FAILED)


def _container_failed(
    rt: Runtime,
    acc: Account,
    settings: PublishSettings,
    err: GraphError,
    s: Slot | None,
    *,
    at_create: bool = False,
) -> dict[str, Any]:
    """A container that failed (at creation or while processing): a failure, with
    "recreate" when a new container may succeed (recreate-container; retry-same for a
    container that failed processing; 9004/2207052, media not fetched, when the URL
    check passes again now), or "held" when a rate limit asks for a long wait."""
    if err.error_class is ErrorClass.WAIT_QUOTA:
        return _held(rt, err, settings)
    again = err.error_class is ErrorClass.RECREATE_CONTAINER if at_create else _recreatable(err)
    if not again and _fetch_again(rt, settings, err, s):
        again = True
    if (err.code, err.subcode) == (24, 2207006):
        _not_found(rt, acc, err)
    return {"failed": _failed(rt, acc, err, s), "recreate": again}


def _held(rt: Runtime, err: GraphError, settings: PublishSettings) -> dict[str, Any]:
    """A rate limit too long to wait out in a step (or the publishing limit): the post
    is held and tried again when the headers say access is back."""
    if _quota_error(err):
        [f] = check_quota(QuotaFacts(0, 0, refusal=f"{err.code_text}: {err.message}"))
        return {
            "held": f"{f.rule}: {f.message}",
            "rule": f.rule,
            "until": rt.clock.now() + 3600.0,
        }
    wait = err.usage.wait_seconds or settings.rate_wait_default
    return {
        "held": f"rate limited ({err.code_text}: {err.message}); about {wait / 60:.0f} min"
        " to regain access",
        "error_class": ErrorClass.WAIT_QUOTA.value,
        "until": rt.clock.now() + wait,
    }


def _not_found(rt: Runtime, acc: Account, err: GraphError) -> None:
    """24/2207006 twice means the token cannot see the account's media: reconnect-auth."""
    st = rt.account(acc)
    st.not_found += 1
    if st.not_found > 1:
        rt.stop_account(acc, err)


def _fetch_again(rt: Runtime, settings: PublishSettings, err: GraphError, s: Slot | None) -> bool:
    """9004/2207052: when the URL check passes now, wait (a minute) and try again."""
    if err.subcode != 2207052 or s is None or s.item is None or not s.item.url:
        return False
    if rt.url_checker is None:
        return False
    ok, summary = rt.url_checker(s.item.url, s.item)
    if not ok:
        log.info("URL check of %s fails: %s", s.item.url, summary)
        return False
    log.info(
        "URL check passes again for %s; retrying in %.0f s", s.item.url, settings.fetch_retry_wait
    )
    rt.clock.sleep(settings.fetch_retry_wait)
    return True


def _failed(
    rt: Runtime, acc: Account, err: GraphError, s: Slot | None, host: str | None = None
) -> dict[str, Any]:
    """The recorded failure for `err`: the account's stop message for reconnect-auth."""
    if err.error_class is ErrorClass.RECONNECT_AUTH:
        return rt.stopped(acc) or failure(err)
    stopped = rt.stopped(acc)
    if stopped is not None:
        return stopped
    return failure(err, _where(err, s, graph=rt.account(acc).client.base_url, host=host))


def _where(
    err: GraphError, s: Slot | None, *, graph: str | None = None, host: str | None = None
) -> str:
    if err.network:
        # Nothing was heard from Instagram: the host that could not be reached is the
        # story, not the media it would have fetched.
        target = f"upload host {host}" if host else f"Graph API at {_origin(graph or '')}"
        return f"{err.code_text}: {err.message} ({target})"
    where = f" ({s.item.path})" if s is not None and s.item is not None else ""
    hint = ""
    if err.error_class is ErrorClass.FIX_MEDIA and err.rule:
        hint = f"; preflight rule {err.rule} catches this: run `igpreflight check` / `fix`"
    return f"{err.code_text}: {err.message}{where}{hint}"


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: where a call went, without path or query."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


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
    n = len(pending)
    rt.activity(f"Instagram is processing {n} container{'s' if n > 1 else ''}")
    _sleep_until(rt, created + first_wait(settings, slots))
    tries = 0
    while pending:
        for cid in list(pending):
            stopped = rt.stopped(acc)
            if stopped is not None:
                return {"failed": stopped}
            try:
                code, status = _retrying(rt, acc, settings, lambda c, i=cid: c.container_status(i))
            except GraphError as err:
                if err.error_class is ErrorClass.WAIT_QUOTA:
                    return _held(rt, err, settings)
                if (err.code, err.subcode) == (24, 2207006):
                    _not_found(rt, acc, err)  # the container is gone: a new one may do
                return {
                    "failed": _failed(rt, acc, err, pending[cid]),
                    "recreate": _recreatable(err) and rt.stopped(acc) is None,
                    "index": ids.index(cid),
                }
            if code in ("FINISHED", "PUBLISHED"):
                del pending[cid]
            elif code in ("ERROR", "EXPIRED"):
                err = container_status_error(cid, code, status)
                return {
                    **_container_failed(rt, acc, settings, err, pending[cid]),
                    "index": ids.index(cid),
                }
        if not pending:
            break
        tries += 1
        give_up = (
            settings.give_up_video
            if any(s.is_video for s in pending.values())
            else settings.give_up_image
        )
        if rt.clock.now() - created >= give_up:
            return {
                "failed": failure(
                    message=f"container {next(iter(pending))} still IN_PROGRESS after"
                    f" {give_up:.0f} s; run publish again to keep waiting",
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


def _sleep_until(rt: Runtime, t: float) -> None:
    delay = t - rt.clock.now()
    if delay > 0:
        rt.clock.sleep(delay)


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
    stopped = rt.stopped(acc)
    if stopped is not None:
        return {"failed": stopped}
    st = rt.account(acc)
    with st.lock:
        if dedupe_window is not None and post.caption and media_type in _LISTED_TYPES:
            if st.recent is None or rt.clock.now() - st.recent_read_at > REFRESH:
                st.recent = _recent_media(rt, acc, settings)
                st.recent_read_at = rt.clock.now()
            dup = _duplicate(
                st.recent, post.caption, media_type, rt.clock.now() - dedupe_window, ours()
            )
            if dup is not None:
                return {"duplicate": dup}
        if settings.check_quota:
            stale = rt.clock.now() - st.quota_read_at > REFRESH
            if st.remaining is None or (st.remaining <= 0 and stale):
                _read_quota(rt, acc, settings, st)
                st.quota_read_at = rt.clock.now()
            assert st.remaining is not None
            found = check_quota(QuotaFacts(st.total or 0, st.remaining))
            if found:
                return {
                    "held": f"{found[0].rule}: {found[0].message}",
                    "rule": found[0].rule,
                    "until": st.frees_at or _quota_frees_at(st.recent, rt.clock.now()),
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
                    "timestamp": time.strftime(
                        "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(rt.clock.now())
                    ),
                },
            )


def _read_quota(rt: Runtime, acc: Account, settings: PublishSettings, st: _AccountState) -> None:
    try:
        got = _retrying(rt, acc, settings, lambda c: c.publishing_limit(acc.ig_user_id))
    except GraphError as err:
        log.info("content_publishing_limit of %s unavailable (%s)", acc.name, err)
        got = None
    st.frees_at = None
    if got is None:
        # Unreadable: count what this database published for the account in the window.
        times = rt.own_publishes(acc, rt.clock.now() - QUOTA_WINDOW)
        got = (len(times), settings.fallback_quota)
        st.frees_at = min(times) + QUOTA_WINDOW if times else None
        log.info("account %s: %d own publishes in 24 h, limit %d assumed", acc.name, *got)
    used, total = got
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
    recent: list[dict[str, Any]], caption: str, media_type: str, horizon: float, ours: set[str]
) -> str | None:
    """The id of a media with this caption and type published since `horizon` (epoch),
    by anyone but this database's own posts."""
    types = _LISTED_TYPES[media_type]
    for m in recent:
        when = _epoch(m.get("timestamp"))
        if when is None or when < horizon or str(m.get("id")) in ours:
            continue
        if (m.get("caption") or "").strip() == caption.strip() and m.get("media_type") in types:
            return str(m.get("id"))
    return None


def _quota_frees_at(recent: list[dict[str, Any]] | None, now: float) -> float:
    """When a slot frees: 24 h after the oldest post still counted (known from the
    recent media when they were read), else in an hour to look again."""
    if recent:
        horizon = now - QUOTA_WINDOW
        times = sorted(t for m in recent if (t := _epoch(m.get("timestamp"))) and t > horizon)
        if times:
            return times[0] + QUOTA_WINDOW
    return now + 3600.0


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
                return {"failed": _failed(rt, acc, err, None)}
            if code == "PUBLISHED":
                return {"media_id": None, "source": "container"}
            if code in ("ERROR", "EXPIRED"):
                err = container_status_error(cid, code, status)
                return {"failed": _failed(rt, acc, err, None), "recreate": _recreatable(err)}
            if code != "FINISHED":
                tries += 1
                if tries >= settings.retry_attempts:
                    return {
                        "failed": failure(
                            message=f"container {cid} is {code or 'not ready'}",
                            error_class=ErrorClass.RETRY_SAME.value,
                        )
                    }
                _sleep(rt, settings, settings.retry_backoff.delay(tries - 1))
                continue
        try:
            media_id = rt.call(acc, settings, lambda c: c.publish(acc.ig_user_id, cid))
            return {"media_id": media_id, "source": "media_publish"}
        except GraphError as err:
            cls = err.error_class
            # Whatever happened, the container decides before another try; a rate
            # limit refused the call, so there is nothing to look at.
            ask = cls is not ErrorClass.WAIT_QUOTA
            if (err.code, err.subcode) == (24, 2207008):
                builder += 1
                if builder > settings.builder_retries:
                    return {"failed": _failed(rt, acc, err, None), "recreate": True}
                _sleep(rt, settings, settings.builder_window / (settings.builder_retries + 1))
                continue
            if cls is ErrorClass.WAIT_QUOTA:
                wait = err.usage.wait_seconds or settings.rate_wait_default
                if _quota_error(err) or wait > settings.rate_wait_max:
                    return _held(rt, err, settings)
                rt.clock.sleep(wait)
                continue
            if cls is ErrorClass.RETRY_SAME:
                tries += 1
                if tries >= settings.retry_attempts:
                    if err.uncertain and _shows_published(rt, acc, settings, cid):
                        return {"media_id": None, "source": "container"}
                    return {
                        "failed": failure(
                            err,
                            f"media_publish failed {tries} times: {_where(err, None, graph=rt.account(acc).client.base_url)}",
                        )
                    }
                _sleep(rt, settings, settings.retry_backoff.delay(tries - 1))
                continue
            if cls is ErrorClass.RECREATE_CONTAINER:
                if (err.code, err.subcode) == (24, 2207006):
                    _not_found(rt, acc, err)  # a repeat stops the account (reconnect-auth)
                again = rt.stopped(acc) is None
                return {"failed": _failed(rt, acc, err, None), "recreate": again}
            return {"failed": _failed(rt, acc, err, None)}


def _shows_published(rt: Runtime, acc: Account, settings: PublishSettings, cid: str) -> bool:
    """After a last attempt whose answer was lost: did it go through after all?"""
    try:
        code, _ = _retrying(rt, acc, settings, lambda c: c.container_status(cid))
    except GraphError:
        return False
    return code == "PUBLISHED"

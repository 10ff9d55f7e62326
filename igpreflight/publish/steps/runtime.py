"""What a worker process brings to every step: one Graph client per account, the
account's quota and recent media read once, the usage headers of its last answer,
the clock every wait goes through, and the ledger (what this database published).

Nothing here is recorded: a process that dies loses it and the next one rebuilds it
(the quota and recent media are read again, which is what a new run must do).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from igpreflight.publish.accounts import Account
from igpreflight.publish.backoff import Backoff
from igpreflight.publish.graph import DEFAULT_API_VERSION
from igpreflight.publish.graph.errors import GraphError, Usage
from igpreflight.publish.graph.table import ErrorClass, lookup_graph_error
from igpreflight.publish.settings import Clock, MediaUrl, PublishSettings, UrlChecker
from igpreflight.publish.steps.results import PostError

log = logging.getLogger("igpreflight.publish")

# Set while the engine of this process closes: every wait of a step ends with
# Abandoned, which is no Exception, so the durable queue records nothing of the step
# and the workflow stays as a kill leaves it, for the next worker.
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


class Ledger(Protocol):
    """What the durable queue knows that a step needs: this database's own posts."""

    def our_media_ids(self, account: str) -> set[str]:
        """Media ids this database's posts of `account` published (never duplicates)."""
        ...

    def own_publishes(self, account: str, since: float) -> list[float]:
        """When this database published posts of `account` since `since` (epoch)."""
        ...


class NoLedger:
    def our_media_ids(self, account: str) -> set[str]:
        return set()

    def own_publishes(self, account: str, since: float) -> list[float]:
        return []


@dataclass
class AccountState:
    """One account as this process knows it (see the module docstring)."""

    client: Any  # GraphClient, or the simulator's
    lock: threading.RLock = field(default_factory=threading.RLock)
    remaining: int | None = None  # quota left (read once, then counted down)
    total: int | None = None
    quota_read_at: float = float("-inf")
    frees_at: float | None = None  # when the oldest counted publish leaves the window
    recent: list[dict[str, Any]] | None = None  # recent media (read once)
    recent_read_at: float = float("-inf")
    usage: Usage = field(default_factory=Usage)
    usage_at: float = float("-inf")  # when `usage` was read (its wait counts from then)
    calls: int = 0
    stopped: PostError | None = None  # reconnect-auth: every later step fails at once
    stopped_at: float = 0.0
    not_found: int = 0  # 24/2207006 on fresh containers (a repeat: the token cannot see)
    reread: set[str] = field(default_factory=set)  # held posts' attempts whose quota was re-read


ClientFactory = Callable[[Account, "Runtime"], Any]


def graph_client(acc: Account, rt: Runtime) -> Any:
    from igpreflight.publish.graph import client

    return client.GraphClient(
        acc.token(),
        base_url=client.graph_url_from_env(acc.graph_url or rt.graph_url),
        api_version=acc.api_version or DEFAULT_API_VERSION,
        timeout=rt.timeout,
    )


class Runtime:
    """Uploads, URL re-checks, clients and caches, per process (see the module docstring)."""

    REFRESH = 600.0  # a worker reads the recent media again after this long
    QUOTA_FRESH = 60.0  # a hold is decided on a quota read at most this old

    def __init__(
        self,
        *,
        media_url: MediaUrl | None = None,
        url_checker: UrlChecker | None = None,
        graph_url: str | None = None,
        timeout: float = 30.0,
        rng: random.Random | None = None,
        clock: Clock | None = None,
        client_factory: ClientFactory = graph_client,
        ledger: Ledger | None = None,
    ) -> None:
        self.media_url = media_url
        self.url_checker = url_checker
        self.graph_url = graph_url
        self.timeout = timeout
        self.rng = rng or random.Random()
        self.clock: Clock = clock or StoppableClock()
        self.client_factory = client_factory
        self.ledger: Ledger = ledger or NoLedger()
        self._accounts: dict[str, AccountState] = {}
        self._lock = threading.Lock()
        self._app_usage = Usage()  # X-App-Usage is the app's, shared by every account
        self._app_usage_seen = float("-inf")

    def account(self, acc: Account) -> AccountState:
        with self._lock:
            st = self._accounts.get(acc.name)
            if st is None:
                st = self._accounts[acc.name] = AccountState(self.client_factory(acc, self))
            return st

    def now(self) -> float:
        return self.clock.now()

    def wait(self, policy: Backoff, n: int) -> None:
        """Wait `n` (0-based) of a backoff policy, jittered by this process's rng: every
        wait of the publisher goes through here (tests/test_backoff.py)."""
        self.clock.sleep(policy.jittered(n, self.rng))

    def close(self) -> None:
        with self._lock:
            for st in self._accounts.values():
                close = getattr(st.client, "close", None)
                if close is not None:
                    close()
            self._accounts.clear()

    def calls(self) -> dict[str, int]:
        with self._lock:
            return {name: st.calls for name, st in self._accounts.items()}

    # ---- reconnect-auth: the account stops ---------------------------------------------

    def stop_account(self, acc: Account, err: GraphError) -> None:
        """reconnect-auth: one message for the account; its later steps make no call."""
        st = self.account(acc)
        info = lookup_graph_error(err.code, err.subcode)
        advice = info.advice if info else "reconnect the account"
        # The catalog speaks of IG_ACCESS_TOKEN; an account's token is in its own variable.
        advice = advice.replace("IG_ACCESS_TOKEN", acc.token_env)
        st.stopped = PostError(
            ErrorClass.RECONNECT_AUTH.value,
            f"Graph error {err.code_text} ({err.message}): {advice}."
            f" Publishing stopped for account {acc.name}: its remaining posts were not sent;"
            " run publish again once it is reconnected.",
            err.code,
            err.subcode,
        )
        st.stopped_at = self.now()

    def stopped(self, acc: Account) -> PostError | None:
        """The account's reconnect-auth stop, while it holds (a worker looks again after
        REFRESH: the token may have been renewed)."""
        st = self.account(acc)
        if st.stopped is not None and self.now() - st.stopped_at > self.REFRESH:
            st.stopped = None
        return st.stopped

    # ---- one call, paced by the usage headers ------------------------------------------

    def call(self, acc: Account, settings: PublishSettings, fn: Callable[[Any], Any]) -> Any:
        """One Graph call for `acc`: waits first when the account's business use case
        (or the app) is out of calls, then keeps what the answer's headers say."""
        st = self.account(acc)
        for usage, seen in ((st.usage, st.usage_at), (self._app_usage, self._app_usage_seen)):
            if usage.exhausted:
                # What the headers asked for, less the time since they were read.
                wait = (usage.wait_seconds or settings.rate_wait_default) - (self.now() - seen)
                if wait <= 0:
                    continue
                if wait > settings.rate_wait_max:
                    # Longer than a step may wait: no call; the step holds the post, and
                    # whoever takes it up next asks Graph again (as a held post re-reads
                    # the quota) instead of trusting these headers once more.
                    st.usage, self._app_usage = Usage(), Usage()
                    raise throttled(usage, wait)
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
            usage = getattr(st.client, "last_usage", None) or Usage()
            st.usage = Usage(0.0, usage.business_pct, usage.regain_seconds, usage.retry_after)
            st.usage_at = self.now()
            if usage.app_pct:
                self._app_usage = Usage(usage.app_pct)
                self._app_usage_seen = st.usage_at

    def retrying(self, acc: Account, settings: PublishSettings, fn: Callable[[Any], Any]) -> Any:
        """A call safe to repeat (never media_publish): retry-same with backoff, rate
        limits waited out as the headers say; every other error goes up."""
        tries = rate_waits = 0
        while True:
            try:
                return self.call(acc, settings, fn)
            except GraphError as err:
                cls = err.error_class
                if cls is ErrorClass.WAIT_QUOTA and not quota_error(err):
                    wait = err.usage.wait_seconds or settings.rate_backoff.delay(rate_waits)
                    if wait <= settings.rate_wait_max and rate_waits < settings.rate_waits:
                        rate_waits += 1
                        self.clock.sleep(wait)
                        continue
                if cls is ErrorClass.RETRY_SAME:
                    tries += 1
                    if tries < settings.retry_attempts:
                        self.wait(settings.retry_backoff, tries - 1)
                        continue
                raise


def throttled(usage: Usage, wait: float) -> GraphError:
    """The usage headers of the last answer say 100 % with `wait` seconds to regain
    access: the rate limit Graph would answer (code 4 or 80002), without sending the
    call. Certain: nothing was sent."""
    return GraphError(
        None,
        4 if usage.app_pct >= 100 and usage.business_pct < 100 else 80002,
        None,
        True,
        f"usage headers at {max(usage.app_pct, usage.business_pct):.0f} %;"
        " no call sent until access is regained",
        headers={"retry-after": f"{wait:.0f}"},
    )


def quota_error(err: GraphError) -> bool:
    """The publishing limit (9/2207042), not a rate limit: it lasts until the window moves."""
    return err.code == 9 or err.subcode == 2207042

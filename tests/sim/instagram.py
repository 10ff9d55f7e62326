"""Instagram for the crash-point simulator: in process, on a virtual clock, with faults.

It answers what the real Graph API answers (the codes of SPEC section 6 and of the
HTTP emulator in fixtures/graph_emulator/, which stays the reference over HTTP), fast
and deterministically:

- a container reads IN_PROGRESS for its processing time, then FINISHED; EXPIRED after
  its lifetime; PUBLISHED once a media_publish for it has taken effect;
- a media_publish may take `processing` seconds to take effect (a caller that timed
  out or died meanwhile does not stop it): meanwhile the container reads FINISHED and
  another media_publish for it answers 24/2207006; afterwards 24/2207008;
- the account's quota (9/2207042) and its recent media (GET /{user}/media).

`Fault`s (faults.py) fire on the nth call to an endpoint, or the nth read of one
container. `published` records every media ever made, by post: the simulator's
at-most-once property counts them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from igpreflight.publish.graph.errors import Usage

from .answers import USAGE_LONG, builder_gone, error, network, rate_limited
from .clock import START, Clock, SimCrash
from .faults import CALL_KINDS, WRITE_KINDS, Fault

__all__ = ["CALL_KINDS", "START", "WRITE_KINDS", "Clock", "Fault", "Instagram", "SimCrash"]

LIFETIME = 86400.0


F = TypeVar("F", bound=Callable[..., Any])


def locked(method: F) -> F:
    """One call at a time (the DBOS-backed world calls from several threads)."""

    @functools.wraps(method)
    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        with self.ig.lock:
            return method(self, *args, **kwargs)

    return call  # type: ignore[return-value]


@dataclass
class Container:
    id: str
    user: str
    post: str  # which post's (its media URL), for the properties
    media_type: str
    params: dict[str, Any]
    created: float
    ready_at: float
    children: tuple[str, ...] = ()
    is_item: bool = False
    pub_at: float | None = None  # when a media_publish for it takes (took) effect
    media_id: str | None = None
    builder_gone: bool = False  # every media_publish answers 2207008; never published
    remake_refused: bool = False  # every media_publish answers -1/2207032; never published


@dataclass
class Instagram:
    clock: Clock
    processing: float = 30.0  # how long a media_publish takes to take effect
    delays: tuple[float, ...] = (3.0, 8.0, 20.0)  # container processing times, in turn
    quota_total: int = 50
    lifetime: float = LIFETIME  # a container not published within it reads EXPIRED
    faults: list[Fault] = field(default_factory=list)
    calm: bool = False  # faults have stopped
    containers: dict[str, Container] = field(default_factory=dict)
    made: dict[str, int] = field(default_factory=dict)  # container id -> its rank (from 1)
    published: list[tuple[str, str, str, float]] = field(
        default_factory=list
    )  # post, media, user, at
    counts: dict[str, int] = field(default_factory=dict)
    elsewhere: set[str] = field(default_factory=set)  # posts published by someone else
    elsewhere_now: bool = False  # the phone app publishes the container this call reads
    revoked: bool = False
    renewable: bool = False  # the token's expiry is one the user renews before a re-run
    quota_full: set[str] = field(default_factory=set)
    burst: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_crash: Callable[[], None] = lambda: None  # a fault kills the calling worker
    _next: int = 17_900_000_000_000_001

    def client(self, user: str, die: Any) -> Client:
        return Client(self, user, die)

    def renew(self) -> bool:
        """The user renews an expired token before running again (t190_renewed)."""
        renewed, self.renewable = self.revoked and self.renewable, False
        self.revoked = self.revoked and not renewed
        return renewed

    def settle_down(self) -> None:
        """Faults stop: the token works again, the quota window has moved on."""
        self.calm = True
        self.revoked = False
        self.quota_full.clear()
        self.burst = 0

    # ---- bookkeeping ----------------------------------------------------------------

    def new_id(self) -> str:
        self._next += 1
        return str(self._next)

    def fault_for(self, endpoint: str, aim: str = "") -> str | None:
        """The first fault of this call; `elsewhere_now` says whether the phone app
        publishes first (no answer of the call: it goes with any fault of it)."""
        self.elsewhere_now = False
        if self.calm:
            return None
        names = (endpoint, "any", aim) if aim else (endpoint, "any")
        for name in names:
            self.counts[name] = self.counts.get(name, 0) + 1
        hits = [
            f.kind for f in self.faults if f.endpoint in names and f.nth == self.counts[f.endpoint]
        ]
        self.elsewhere_now = "elsewhere" in hits
        answers = [k for k in hits if k != "elsewhere"]
        return answers[0] if answers else (hits[0] if hits else None)

    def publish_elsewhere(self, cid: str) -> None:
        """The phone app publishes the container just before this read, if it can: a
        FINISHED one, of a post it has not published already (its user posts it once)."""
        c = self.containers.get(cid)
        if c is None or c.pub_at is not None or c.is_item or c.post.split("#")[0] in self.elsewhere:
            return
        if self.status(c) == "FINISHED":
            self.carry_out(c)
            self.elsewhere.add(c.post.split("#", 1)[0])

    def status(self, c: Container) -> str:
        now = self.clock.now()
        if c.pub_at is not None:
            return "PUBLISHED" if now >= c.pub_at else "FINISHED"
        if now - c.created >= self.lifetime:
            return "EXPIRED"
        if c.children:
            kids = [self.status(self.containers[k]) for k in c.children]
            if "EXPIRED" in kids:
                return "EXPIRED"
            if any(k != "FINISHED" for k in kids) or now < c.ready_at:
                return "IN_PROGRESS"
            return "FINISHED"
        return "IN_PROGRESS" if now < c.ready_at else "FINISHED"

    def used(self, user: str) -> int:
        horizon = self.clock.now() - 86400
        return sum(1 for _p, _m, u, at in self.published if u == user and at > horizon)

    def carry_out(self, c: Container, delay: float = 0.0) -> str:
        media_id = self.new_id()
        c.pub_at, c.media_id = self.clock.now() + delay, media_id
        for k in c.children:
            self.containers[k].pub_at = c.pub_at
        self.published.append((c.post, media_id, c.user, c.pub_at))
        return media_id


class Client:
    """One worker's Graph client for one account (the methods the steps call)."""

    base_url = "https://graph.sim"

    def __init__(self, ig: Instagram, user: str, die: Any) -> None:
        self.ig, self.user, self.die = ig, user, die
        self.last_usage = Usage()

    def close(self) -> None:
        pass

    def _enter(self, endpoint: str, cid: str = "") -> str | None:
        """Faults before the call (for a read of container `cid`, those aimed at its
        reads too: "status#<rank>"); the kind that acts after it, if any."""
        self.die()  # a dead worker's threads make no call
        ig = self.ig
        aim = f"status#{ig.made.get(cid, 0)}" if cid else ""
        kind = ig.fault_for(endpoint, aim)
        if cid and ig.elsewhere_now:
            ig.publish_elsewhere(cid)
        if ig.burst > 0 and not ig.calm:
            ig.burst -= 1
            raise error(1, None, "An unknown error occurred", 500, transient=True)
        if kind == "crash_before":
            ig.on_crash()
            raise SimCrash()
        if kind == "burst":
            ig.burst = 4
            kind = "e500"
        if kind in ("t190", "t190_renewed"):
            ig.renewable = kind == "t190_renewed" and (ig.renewable or not ig.revoked)
            ig.revoked = True
        if ig.revoked and not ig.calm:
            raise error(190, 463, "Error validating access token: Session has expired.")
        if kind == "drop":
            raise network(sent=True)
        if kind == "e500":
            raise error(1, None, "An unknown error occurred", 500, transient=True)
        if kind == "e2207006":
            raise error(24, 2207006, "The media cannot be found.")
        if kind == "e2207008":
            raise builder_gone()
        if kind == "e2207032":
            raise error(-1, 2207032, "Create media fail, please try to re-create media.")
        if kind == "rate_short":
            raise rate_limited(1)
        if kind == "rate_long":
            raise rate_limited(120)
        if kind == "quota":
            ig.quota_full.add(self.user)
        if kind == "raise":
            raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")
        self.last_usage = USAGE_LONG if kind == "usage_long" else Usage()
        return kind

    def _leave(self, kind: str | None) -> None:
        if kind == "crash_after":
            self.ig.on_crash()
            raise SimCrash()
        if kind == "lost190":
            self.ig.revoked, self.ig.renewable = True, False
        if kind in ("lost", "timeout", "lost190"):
            raise network(sent=True)
        if kind == "unknown_done":
            raise error(2, None, "An unexpected error has occurred.", 400, transient=True)
        if kind == "e2207001_done":
            raise error(-1, 2207001, "Instagram server error. Try again.")
        if kind == "e2207032_done":
            raise error(-1, 2207032, "Create media fail, please try to re-create media.")
        if kind == "e1_99_done":
            raise error(1, 99, "An unknown error occurred", 400)
        if kind == "eminus1_done":
            raise error(-1, None, "An unexpected error has occurred.", 400)
        if kind == "e9007_done":
            raise error(9007, 2207027, "The media is not ready for publishing.")
        if kind == "e2207008_done":
            raise builder_gone()

    # ---- the calls --------------------------------------------------------------------

    @locked
    def create_container(self, user: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = self._enter("create")
        ig = self.ig
        now = ig.clock.now()
        children = tuple(c for c in str(params.get("children") or "").split(",") if c)
        for k in children:
            child = ig.containers.get(k)
            if child is None or ig.status(child) == "EXPIRED":
                raise error(-2, 2207020, f"Child {k} has expired.")
            if ig.status(child) != "FINISHED":
                raise error(9007, 2207027, f"Child {k} is not FINISHED.")
        url = params.get("image_url") or params.get("video_url")
        post = str(url) if url else ig.containers[children[0]].post
        delay = ig.delays[len(ig.containers) % len(ig.delays)]
        c = Container(
            ig.new_id(),
            user,
            post,
            str(params.get("media_type") or "IMAGE"),
            dict(params),
            now,
            now + delay,
            children,
            str(params.get("is_carousel_item")) in ("True", "true"),
        )
        ig.containers[c.id] = c
        ig.made[c.id] = len(ig.made) + 1
        if kind == "expire":
            c.created = now - self.ig.lifetime
        self._leave(kind)
        return {"id": c.id}

    @locked
    def container_status(self, cid: str) -> tuple[str, str]:
        kind = self._enter("status", cid)
        c = self.ig.containers.get(cid)
        if kind == "gone" and c is not None and c.pub_at is None:
            del self.ig.containers[cid]
            c = None
        if c is None:
            raise error(100, 33, f"Object with ID '{cid}' does not exist")
        if kind == "expire" and c.pub_at is None:
            c.created = self.ig.clock.now() - self.ig.lifetime
        self._leave(kind)
        code = self.ig.status(c)
        return code, code

    @locked
    def publish(self, user: str, cid: str) -> str | None:
        kind = self._enter("publish")
        ig = self.ig
        c = ig.containers.get(cid)
        if c is None or c.is_item:
            raise error(24, 2207006, "The media cannot be found.")
        if kind in ("expire", "e2207008_expired") and c.pub_at is None:
            c.created = ig.clock.now() - ig.lifetime
        code = ig.status(c)
        if c.pub_at is not None:
            if ig.clock.now() < c.pub_at:  # still publishing an earlier call
                raise error(24, 2207006, "The media cannot be found.")
            raise builder_gone()
        if kind in ("e2207008_dead", "e2207008_expired"):
            c.builder_gone = kind == "e2207008_dead"
            raise builder_gone()
        if c.builder_gone and code == "FINISHED":
            raise builder_gone()
        if kind == "e2207032_dead":
            c.remake_refused = True
        if c.remake_refused and code == "FINISHED":
            raise error(-1, 2207032, "Create media fail, please try to re-create media.")
        if code == "EXPIRED":
            raise error(-2, 2207020, "The media you are trying to access has expired.")
        if code == "IN_PROGRESS":
            raise error(9007, 2207027, "The media is not ready for publishing.")
        if user in ig.quota_full or ig.used(user) >= ig.quota_total:
            raise error(9, 2207042, "You reached maximum number of posts.")
        if kind == "no_id":
            return None
        slow = kind in (
            "timeout",
            "crash_after",
            "unknown_done",
            "e2207001_done",
            "e2207032_done",
            "e1_99_done",
            "eminus1_done",
            "e9007_done",
            "e2207008_done",
        )
        media_id = ig.carry_out(c, ig.processing if slow else 0.0)
        self._leave(kind)
        return None if kind == "no_id_done" else media_id

    @locked
    def publishing_limit(self, user: str) -> tuple[int, int] | None:
        kind = self._enter("limit")
        self._leave(kind)
        full = user in self.ig.quota_full
        total = self.ig.quota_total
        return (total if full else self.ig.used(user)), total

    @locked
    def request(self, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any):
        kind = self._enter("media")
        self._leave(kind)
        ig = self.ig
        now = ig.clock.now()
        rows = []
        for c in sorted(ig.containers.values(), key=lambda c: c.pub_at or 0, reverse=True):
            if c.user != self.user or c.pub_at is None or c.pub_at > now or c.is_item:
                continue
            if c.media_type == "STORIES":
                continue  # stories are not listed
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(c.pub_at))
            listed = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(
                c.media_type, c.media_type
            )
            caption = str(c.params.get("caption") or "")
            rows.append(
                {"id": c.media_id, "caption": caption, "timestamp": stamp, "media_type": listed}
            )
        return {"data": rows[:50]}

    def upload_video(self, uri: str, path: str, *, context: str = "") -> dict[str, Any]:
        raise AssertionError("the simulator's posts use URLs")

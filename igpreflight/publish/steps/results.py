"""What each step of a post returns: small frozen values, one class per outcome.

The durable workflow records these (DBOS pickles them; the simulator keeps them in
memory) and decides the next step by their type alone: no dict with sentinel keys,
no `None` meaning success. A step never raises for a Graph error or for an
exception of its own: it returns `Failed`, `Recreate`, `Held`, `Unseen` or
`StepCrashed` instead (see `steps/guard.py`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from igpreflight.states import MediaIdSource


@dataclass(frozen=True)
class PostError:
    """Why a post did not publish (yet): its class (an ErrorClass value, `upload` or
    `duplicate`), Graph's code and subcode when Graph answered, one line, the rule."""

    error_class: str
    message: str
    code: int | None = None
    subcode: int | None = None
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PostError | None:
        if not data:
            return None
        return cls(
            str(data.get("error_class") or "permanent"),
            str(data.get("message") or ""),
            data.get("code"),
            data.get("subcode"),
            data.get("rule"),
        )


# ---- containers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """Containers made for a phase (a carousel's children, or the published one)."""

    ids: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class Ready:
    """Every container of the phase reads FINISHED."""


@dataclass(frozen=True)
class Recreate:
    """This container cannot be published, but a new one may be: `index` is the child
    to make again (None: the container that is published)."""

    error: PostError
    index: int | None = None


@dataclass(frozen=True)
class Failed:
    """The post stops here (it was not published): fix what `error` says, run again."""

    error: PostError


@dataclass(frozen=True)
class Held:
    """Not now: the account's quota or a long rate limit. The attempt ends; the next
    run or worker decides again (re-reading content_publishing_limit). `sent`: a
    media_publish for the post's container reached Instagram before the hold (refused,
    as it said), so the next attempt reads a 2207006 as "still publishing"."""

    until: float
    error: PostError
    sent: bool = False


# ---- the gate before media_publish ---------------------------------------------------


@dataclass(frozen=True)
class Proceed:
    """Quota and duplicate checks passed: a quota slot is reserved for this post."""


@dataclass(frozen=True)
class Duplicate:
    """The account already shows a media with this caption and type."""

    media_id: str | None  # None: containers.whose found none of a post's own published


# ---- media_publish and settling ------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """On Instagram. `media_id` is None when neither the answer nor the account's media
    gave it (a story, a caption-less post settled by its container)."""

    media_id: str | None
    source: MediaIdSource
    at: float


@dataclass(frozen=True)
class Unseen:
    """media_publish for `container_id` may have taken effect and no answer said so
    (lost answer, time-out, 5xx, a reply without an id, a resumed workflow): the post
    is uncertain from `at` and must be settled from its container."""

    container_id: str
    why: str
    at: float
    # -1/2207032 or -1/2207053 ("re-create media"): counted, so a container refused
    # that way at every send is taken for dead (see publishing.REMAKE_REFUSALS).
    remake: bool = False


@dataclass(frozen=True)
class SettleAgain:
    """A media_publish for a container already sent once answered what Instagram
    answers while it still publishes, or has published (2207006, 2207008, EXPIRED), or
    a fresh container's 2207008 outlived the builder's retries: the container decides,
    never a new container while it may still publish."""

    container_id: str
    why: str
    at: float
    busy: bool = False  # 2207006: Instagram is still carrying out an earlier media_publish
    # 2207008 ("already published", or a builder not ready or gone): a container that
    # then reads FINISHED through the settle window can never be published (settle).
    refused: bool = False
    remake: bool = False  # -1/2207032 or -1/2207053, as on Unseen


@dataclass(frozen=True)
class NotPublished:
    """Settled: the container did not publish. `dead` (EXPIRED, ERROR) means a new
    container is needed; otherwise it stayed FINISHED past the settle window and
    media_publish may be sent again for it."""

    container_id: str
    dead: bool
    status: str


@dataclass(frozen=True)
class Unsettled:
    """The container could not be read to the end (token error, a long outage): the
    post stays uncertain; the next run or worker settles it first."""

    container_id: str
    error: PostError


# ---- waiting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What the account's previous post (`prev`) came to, as far as this post cares:
    `state` is a PostState value; `before_turn` names the post it had to wait for when
    it ended before its own turn (failed, or published by someone else); `until` when it is held or scheduled."""

    prev: str
    state: str | None
    before_turn: str | None = None
    until: float | None = None
    reason: str | None = None
    behind: str | None = None  # the post that holds the line (its id)


@dataclass(frozen=True)
class StepCrashed:
    """The step raised (a bug, bad input such as a lone surrogate): its one line."""

    message: str


def scrubbed(value: Any, scrub: Any) -> Any:
    """`value` with `scrub` applied to every string inside it (dataclasses, dicts,
    lists, tuples): what a step returns is redacted before it is recorded."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return scrub(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: scrubbed(getattr(value, f.name), scrub) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {k: scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrubbed(v, scrub) for v in value)
    return value

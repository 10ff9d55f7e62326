"""What a post's workflow is started with, and what an earlier attempt hands on.

A `PostSpec` is recorded by the durable queue as the workflow's input (DBOS pickles
it): it holds no secret, only the account's name, user id and the *name* of its
token variable. Ids: `igp:<account>:<post id>` for the first attempt, then
`...~2`, `...~3` for the attempts a later run makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from igpreflight.model import Post
from igpreflight.publish.accounts import Account
from igpreflight.publish.settings import PublishSettings
from igpreflight.publish.steps.results import PostError

PREFIX = "igp:"
ATTEMPT = "~"


def workflow_id(account: str, post_id: str, attempt: int = 1) -> str:
    """`igp:<account>:<post id>[~n]`, always valid UTF-8: an id with a lone surrogate
    (refused by preflight, POST021, and still queued to end failed) is written with
    the surrogate escaped, as a database can store it."""
    base = _encodable(f"{PREFIX}{account}:{post_id}")
    return base if attempt <= 1 else f"{base}{ATTEMPT}{attempt}"


def _encodable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def attempt_of(wid: str, base: str) -> int | None:
    """The attempt number of workflow `wid` of the post whose first id is `base`."""
    if wid == base:
        return 1
    tail = wid[len(base) :]
    if wid.startswith(base) and tail[:1] == ATTEMPT and tail[1:].isdigit():
        return int(tail[1:])
    return None


# How many of a post's containers its attempts hand on (`Inherited.earlier`).
EARLIER_KEPT = 10


@dataclass(frozen=True)
class Inherited:
    """What the attempt before this one (or an earlier version's journal) left.

    `tainted`: media_publish may have been sent for `container_id` and its outcome was
    never seen, so this attempt settles it before anything else. `sent_before`: it was
    sent and settled unpublished, so an answer such as 2207006 for it still means
    "look again", never "make a new one". Without either, `container_id` is a
    container made for a post that was held, used again when it still reads FINISHED.
    """

    container_id: str | None = None
    tainted: bool = False
    since: float | None = None
    sent_before: bool = False
    created_at: float | None = None
    published: bool = False  # an earlier version's journal says published
    media_id: str | None = None
    held: bool = False  # the attempt before was held: its quota is read again first
    # Top containers the post's earlier attempts made (the latest EARLIER_KEPT): one of
    # them reading PUBLISHED makes a media with its caption its own, not a duplicate.
    earlier: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostSpec:
    """A post, its account, its place in the account's order and its settings."""

    account: Account
    post: Post
    media_type: str
    kinds: tuple[bool, ...]  # per media item: a video?
    seq: int  # its place in the account's order
    prev: str | None  # the workflow of the account's post before it
    publish_at: float | None
    settings: PublishSettings
    dedupe_window: float | None  # None: --allow-duplicate
    attempt: int = 1
    refusal: PostError | None = None  # refused by preflight: ends failed, makes no call
    inherit: Inherited | None = None

    @property
    def base(self) -> str:
        return workflow_id(self.account.name, self.post.id)

    @property
    def wid(self) -> str:
        return workflow_id(self.account.name, self.post.id, self.attempt)

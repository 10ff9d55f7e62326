"""The named states of a post on its way to Instagram, as string enums.

Media types are Graph's `media_type` values (the manifest, the post rules, the
planner and the publisher all speak them); a post's state is the publish protocol's
(docs/publishing.md), stored in the durable queue's events and outputs.

Every member is a `str` whose value is the exact text Graph sends or the journal
stores, so rows written by earlier versions read back as members, JSON and SQLite
see plain strings, and `f"{MediaType.REELS}"` is `REELS` (not `MediaType.REELS`)
on every supported Python. A leaf module: it imports nothing from igpreflight.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """`enum.StrEnum` of Python 3.11: str() and format() give the value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class MediaType(StrEnum):
    """Graph's `media_type` of a post or carousel child. VIDEO is Graph's old name for a
    feed video (now REELS); it is still accepted for carousel children."""

    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    REELS = "REELS"
    STORIES = "STORIES"
    CAROUSEL = "CAROUSEL"


POST_TYPES = (MediaType.IMAGE, MediaType.REELS, MediaType.STORIES, MediaType.CAROUSEL)
"""The media types a post may declare (VIDEO is reported as retired)."""
CAROUSEL_ITEM_TYPES = (MediaType.IMAGE, MediaType.VIDEO)
VIDEO_TYPES = (MediaType.REELS, MediaType.VIDEO)
"""The media types whose (single) item is a video."""


class PostState(StrEnum):
    """Where a post stands on its way to Instagram (SPEC section 10, docs/publishing.md).

    The protocol's states first, in the order a post meets them; then what only a
    reader of the queue says (`status`): a post whose worker died, `interrupted`.
    """

    QUEUED = "queued"  # enqueued, not started, or waiting for the account's previous post
    SCHEDULED = "scheduled"  # waiting for its publish_at
    HELD = "held"  # quota or a long rate limit: the next run or worker decides again
    CREATING = "creating"  # its containers are being created (and uploaded)
    PROCESSING = "processing"  # Instagram processes its containers; they are polled
    PUBLISHING = "publishing"  # media_publish is about to be sent or in flight
    UNCERTAIN = "uncertain"  # a media_publish whose outcome was not seen: settle first
    PUBLISHED = "published"
    FAILED = "failed"  # with an error class; the next `publish` tries it again
    DUPLICATE = "duplicate"  # already on Instagram (the account's recent media say so)
    CANCELLED = "cancelled"  # its workflow was cancelled by hand
    INTERRUPTED = "interrupted"  # status only: running on a worker that is gone

    @property
    def final(self) -> bool:
        """Nothing more happens to this attempt (a later run may start another)."""
        return self in FINAL_STATES

    @property
    def settled(self) -> bool:
        """A run may stop waiting for it: final, or waiting for a time (held, scheduled)."""
        return self in FINAL_STATES or self in (PostState.HELD, PostState.SCHEDULED)


FINAL_STATES = frozenset(
    {
        PostState.PUBLISHED,
        PostState.FAILED,
        PostState.DUPLICATE,
        PostState.CANCELLED,
        PostState.HELD,
        PostState.UNCERTAIN,
    }
)
"""An attempt that ended; held and uncertain ones are taken up again by the next run
or worker (a new attempt), published ones never."""


class MediaIdSource(StrEnum):
    """How a published post's media id was learnt."""

    MEDIA_PUBLISH = "media_publish"  # the answer to media_publish
    CONTAINER = "container"  # the container showed PUBLISHED (media_publish's answer was lost)
    JOURNAL = "journal"  # a journal of an earlier version recorded it published


class UploadStatus(StrEnum):
    """How one file's upload ended (`upload`, and the staging of `publish`)."""

    UPLOADED = "uploaded"
    SKIPPED = "skipped"  # the bucket already holds these bytes under the same key
    REFUSED = "refused"  # it fails `check`: not uploaded
    FAILED = "failed"  # unreadable, or the storage refused it


__all__ = [
    "CAROUSEL_ITEM_TYPES",
    "POST_TYPES",
    "VIDEO_TYPES",
    "FINAL_STATES",
    "MediaIdSource",
    "MediaType",
    "PostState",
    "StrEnum",
    "UploadStatus",
]

"""The named states of a post on its way to Instagram, as string enums.

Media types are Graph's `media_type` values (the manifest, the post rules, the
planner and the publisher all speak them); post and container states are what
the publish journal stores; a publish outcome is one of the post's final states.

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


class PostStatus(StrEnum):
    """Where a post stands in the journal; the last three are also a run's outcomes."""

    QUEUED = "queued"  # not started, or stopped by a quota/auth stop: the next run continues
    ACTIVE = "active"  # containers being created or polled
    PUBLISHING = "publishing"  # media_publish sent (or about to be): outcome must be looked up
    PUBLISHED = "published"
    FAILED = "failed"  # stopped with an error class; the next run starts from fresh containers
    SCHEDULED = "scheduled"  # publish_at is still ahead: the engine publishes it then


class ContainerStatus(StrEnum):
    """A container's state: Graph's `status_code` values plus our bookkeeping states."""

    CREATING = "CREATING"  # about to POST /media; no id yet
    UPLOADING = "UPLOADING"  # resumable container created; bytes not confirmed sent
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"
    PUBLISHED = "PUBLISHED"
    REPLACED = "replaced"  # superseded by a newer container for the same slot

    @classmethod
    def from_graph(cls, status_code: str | None) -> ContainerStatus | None:
        """Graph's `status_code` as a member; None for a missing or unknown code
        (the publisher keeps polling those)."""
        try:
            return cls(status_code) if status_code else None
        except ValueError:
            return None

    @property
    def dead(self) -> bool:
        """True when this container can never be published (a new one is needed)."""
        return self in (ContainerStatus.ERROR, ContainerStatus.EXPIRED, ContainerStatus.REPLACED)


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
    "ContainerStatus",
    "MediaIdSource",
    "MediaType",
    "PostStatus",
    "StrEnum",
    "UploadStatus",
]

"""What a file is (its kind) and where it will be used (its role, from `--as`).

Each role has its own limits; `role_for` maps a file's kind and the user's `--as`
to it, and `ROLE_LABEL` spells a role as `--as` does. Importable from `model`.
"""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """What a file is, decided by its content, never by its extension."""

    IMAGE = "image"
    VIDEO = "video"
    UNKNOWN = "unknown"


class Role(str, Enum):
    """Where a media file will be used; each role has its own limits."""

    FEED_IMAGE = "feed_image"
    CAROUSEL_IMAGE = "carousel_image"
    STORY_IMAGE = "story_image"
    COVER = "cover"
    REELS = "reels"
    STORY_VIDEO = "story_video"
    CAROUSEL_VIDEO = "carousel_video"

    @property
    def is_image(self) -> bool:
        return self in (Role.FEED_IMAGE, Role.CAROUSEL_IMAGE, Role.STORY_IMAGE, Role.COVER)


class AsOption(str, Enum):
    """The user's `--as` choice; combined with a file's kind it gives a Role."""

    AUTO = "auto"
    FEED = "feed"
    REELS = "reels"
    STORY = "story"
    CAROUSEL_ITEM = "carousel-item"


def role_for(kind: Kind, as_: AsOption | str) -> Role | None:
    """Map a file kind and an `--as` value to the role whose limits apply.

    `feed` on a video and `reels` on an image both mean "a single post of this
    file": a lone video is a Reel, a lone image a feed image.
    """
    as_ = AsOption(as_)
    if kind is Kind.IMAGE:
        return {
            AsOption.STORY: Role.STORY_IMAGE,
            AsOption.CAROUSEL_ITEM: Role.CAROUSEL_IMAGE,
        }.get(as_, Role.FEED_IMAGE)
    if kind is Kind.VIDEO:
        return {
            AsOption.STORY: Role.STORY_VIDEO,
            AsOption.CAROUSEL_ITEM: Role.CAROUSEL_VIDEO,
        }.get(as_, Role.REELS)
    return None


ROLE_LABEL: dict[Role, str] = {
    Role.FEED_IMAGE: "feed",
    Role.CAROUSEL_IMAGE: "carousel-item",
    Role.STORY_IMAGE: "story",
    Role.COVER: "cover",
    Role.REELS: "reels",
    Role.STORY_VIDEO: "story",
    Role.CAROUSEL_VIDEO: "carousel-item",
}

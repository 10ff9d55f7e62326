"""A profile: one platform's limit table, or a team's house rules, as plain data.

A profile holds one ImageLimits per image role, one VideoLimits per video role and
the PostLimits, plus where each value comes from. It is a frozen dataclass of
tuples, so it hashes, pickles into worker processes and compares by value; the
rules read their limits from the profile a file is checked under.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any, SupportsIndex

from igpreflight.limits import FIELD_GROUPS, ImageLimits, PostLimits, Source, VideoLimits
from igpreflight.model import Role
from igpreflight.records import record

# A role as profiles name it, per section (the `--as` words: [image.story], [video.reels]).
IMAGE_ROLES: dict[Role, str] = {
    Role.FEED_IMAGE: "feed",
    Role.CAROUSEL_IMAGE: "carousel-item",
    Role.STORY_IMAGE: "story",
    Role.COVER: "cover",
}
VIDEO_ROLES: dict[Role, str] = {
    Role.REELS: "reels",
    Role.STORY_VIDEO: "story",
    Role.CAROUSEL_VIDEO: "carousel-item",
}
SECTION_ROLES = {"image": IMAGE_ROLES, "video": VIDEO_ROLES}


def role_key(role: Role) -> str:
    """The name of `role` in its section: feed, carousel-item, story, cover, reels."""
    return IMAGE_ROLES.get(role) or VIDEO_ROLES[role]


@record
class Profile:
    """The limits of one target (a platform, or house rules on top of one)."""

    name: str
    platform: str  # who rescales, converts or refuses, as messages name it
    images: tuple[ImageLimits, ...]
    videos: tuple[VideoLimits, ...]
    post: PostLimits
    description: str = ""
    extends: str | None = None  # the profile a house profile tightens
    sources: tuple[tuple[str, Source], ...] = ()
    # Where the profile was defined ("built-in", a config file); not part of its value.
    origin: str = field(default="built-in", compare=False)

    def image(self, role: Role) -> ImageLimits:
        for limits in self.images:
            if limits.role is role:
                return limits
        raise KeyError(f"{role} is not an image role")

    def video(self, role: Role) -> VideoLimits:
        for limits in self.videos:
            if limits.role is role:
                return limits
        raise KeyError(f"{role} is not a video role")

    def limits(self, role: Role) -> ImageLimits | VideoLimits:
        return self.image(role) if role.is_image else self.video(role)

    @property
    def takes_images(self) -> bool:
        """False for a profile that publishes videos only (facebook-reels)."""
        return any(i.accepted_formats or i.tolerated_formats for i in self.images)

    def source(self, section: str, role: Role | None, name: str) -> Source | None:
        """Where the value of field `name` comes from: the role's own source, else the
        section's, by field name or by its group (FIELD_GROUPS)."""
        table = dict(self.sources)
        group = FIELD_GROUPS.get(section, {}).get(name)
        keys = []
        if role is not None:
            keys += [f"{section}.{role_key(role)}.{name}", f"{section}.{role_key(role)}.{group}"]
        keys += [f"{section}.{name}", f"{section}.{group}"]
        return next((table[k] for k in keys if k in table), None)

    def __str__(self) -> str:
        return self.name

    def __hash__(self) -> int:
        # Equal profiles share these; hashing every value would cost each Target a walk.
        return hash((self.name, self.platform, self.extends))

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        """A built-in profile travels to a worker process by name, not by value."""
        by_name = _BY_NAME.get(self.name)
        if by_name is not None and by_name[0] is self:
            return (by_name[1], (self.name,))
        return super().__reduce_ex__(protocol)


# The profiles that travel by name, each with the function that finds it again by that
# name in the process it goes to. builtin.py registers its own (`travels_by_name`): it
# builds them from this module, so this one cannot import it back.
_BY_NAME: dict[str, tuple[Profile, Callable[[str], Profile]]] = {}


def travels_by_name(profile: Profile, lookup: Callable[[str], Profile]) -> None:
    """Pickle `profile` as `lookup(profile.name)`: `lookup` must be a module-level
    function that returns this very profile in any process."""
    _BY_NAME[profile.name] = (profile, lookup)

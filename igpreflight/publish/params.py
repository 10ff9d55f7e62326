"""What each container creation sends, per media type and role (SPEC section 6).

Shared by the publisher and `--dry-run`, so the plan shows exactly the
parameters a real run would send.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from typing import Any
from urllib.parse import urlsplit

from igpreflight import formats
from igpreflight.model import Kind, MediaItem, Post, Tag
from igpreflight.states import VIDEO_TYPES, MediaType

SINGLE, CHILD, PARENT = "single", "child", "parent"


PARENT_SLOT = -1  # the carousel parent, or the only container of a single post


@dataclass(frozen=True)
class Slot:
    """One container a post needs: a single post's media, a carousel child, or the parent."""

    slot: int  # child index, or PARENT_SLOT for the container that is published
    role: str  # single, child, parent
    item: MediaItem | None  # None for a carousel parent
    is_video: bool
    publishable: bool


def effective_media_type(post: Post, kinds: list[bool]) -> str:
    """The post's media_type, inferred as the checker does when the manifest leaves it out."""
    if post.media_type:
        return post.media_type.upper()
    if len(post.media) > 1:
        return MediaType.CAROUSEL
    return MediaType.REELS if kinds and kinds[0] else MediaType.IMAGE


def is_video_item(
    item: MediaItem, hint: str | None = None, kind: Kind | None = None
) -> bool | None:
    """True for a video, False for an image, None when nothing tells.

    The item's own media_type decides first, then `kind`, the probed facts'
    kind (what `check` found); without facts, the content of a local file (its
    magic bytes), then the post's media_type (`hint`). Only a URL nobody probed
    falls back to what its name suggests.
    """
    if item.media_type in VIDEO_TYPES:
        return True
    if item.media_type == MediaType.IMAGE:
        return False
    if kind in (Kind.IMAGE, Kind.VIDEO):
        return kind is Kind.VIDEO
    if item.resolved and os.path.isfile(item.resolved):
        sniffed = _sniff_file(item.resolved)
        if sniffed is not None:
            return sniffed is Kind.VIDEO
    if hint in VIDEO_TYPES:
        return True
    if hint == MediaType.IMAGE:
        return False
    if item.url:
        named = formats.kind_for_extension(os.path.splitext(urlsplit(item.url).path)[1])
        if named is not Kind.UNKNOWN:
            return named is Kind.VIDEO
    return None


def _sniff_file(path: str) -> Kind | None:
    try:
        with open(path, "rb") as fh:
            fmt = formats.identify(fh.read(64))
    except OSError:
        return None
    return fmt.kind if fmt is not None else None


def slots_for(post: Post, media_type: str, kinds: list[bool]) -> list[Slot]:
    """The containers a post needs, in creation order (children first, parent last)."""
    if media_type == MediaType.CAROUSEL:
        children = [Slot(i, CHILD, item, kinds[i], False) for i, item in enumerate(post.media)]
        return [*children, Slot(PARENT_SLOT, PARENT, None, False, True)]
    return [Slot(PARENT_SLOT, SINGLE, post.media[0], kinds[0], True)]


def goes_resumable(slot: Slot, resumable: bool) -> bool:
    """A local video sent by resumable upload (`--resumable`), rather than by URL."""
    item = slot.item
    return bool(
        resumable
        and slot.is_video
        and item is not None
        and not item.url
        and item.resolved
        and os.path.isfile(item.resolved)
    )


def _tags(tags: tuple[Tag, ...], key: str) -> list[dict[str, Any]] | None:
    out = []
    for t in tags:
        entry: dict[str, Any] = {key: getattr(t, key)}
        if t.x is not None:
            entry["x"] = t.x
        if t.y is not None:
            entry["y"] = t.y
        out.append(entry)
    return out or None


def container_params(
    post: Post,
    media_type: str,
    slot: Slot,
    *,
    media_url: str | None,
    cover_url: str | None = None,
    children: list[str] | None = None,
    resumable: bool = False,
) -> dict[str, Any]:
    """Parameters of POST /{ig-user-id}/media for one slot. None values are not sent."""
    p: dict[str, Any] = {}
    if slot.role == PARENT:
        p["media_type"] = MediaType.CAROUSEL
        p["children"] = ",".join(children or [])
        p["caption"] = post.caption
        p["collaborators"] = list(post.collaborators) or None
        p["location_id"] = post.location_id
        # product tags belong to the children (SPEC 5 puts them on media items)
        return _clean(p)

    item = slot.item
    assert item is not None
    media_key = "video_url" if slot.is_video else "image_url"
    if resumable:
        p["upload_type"] = "resumable"
    else:
        p[media_key] = media_url
    if slot.role == CHILD:
        p["is_carousel_item"] = True
        if slot.is_video:
            p["media_type"] = MediaType.VIDEO
        p["user_tags"] = _tags(item.user_tags, "username")
        p["product_tags"] = _tags(item.product_tags, "product_id")
        p["alt_text"] = item.alt_text if not slot.is_video else None
        return _clean(p)

    # A single post: IMAGE (no media_type), REELS, STORIES (or what the user gave).
    if media_type != MediaType.IMAGE:
        p["media_type"] = media_type
    user_tags = post.user_tags or item.user_tags
    product_tags = post.product_tags or item.product_tags
    p["user_tags"] = _tags(user_tags, "username")
    if media_type != MediaType.STORIES:
        p["caption"] = post.caption
        p["product_tags"] = _tags(product_tags, "product_id")
        p["collaborators"] = list(post.collaborators) or None
        p["location_id"] = post.location_id
    if not slot.is_video and media_type == MediaType.IMAGE:
        p["alt_text"] = post.alt_text or item.alt_text
    elif wants_cover(media_type, slot):  # stories take no cover, thumbnail or audio
        p["share_to_feed"] = post.share_to_feed
        p["cover_url"] = cover_url
        # SPEC: thumb_offset is ignored when a cover is given (POST018), so not sent.
        p["thumb_offset"] = post.thumb_offset if cover_url is None else None
        p["audio_name"] = post.extra.get("audio_name") if post.extra else None
    return _clean(p)


def wants_cover(media_type: str, slot: Slot) -> bool:
    """Only a single video post (a Reel) takes cover_url / thumb_offset / share_to_feed."""
    return slot.role == SINGLE and slot.is_video and media_type in VIDEO_TYPES


def _clean(p: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if v is not None}


def expand_stories(posts: Sequence[Post]) -> list[Post]:
    """A STORIES post with several media is several stories, published in order.

    Each becomes its own post `id#1`, `id#2`... (its own journal key), so a crash
    between two stories resumes at the next one and none is published twice.
    """
    out: list[Post] = []
    for post in posts:
        if post.media_type == MediaType.STORIES and len(post.media) > 1:
            out.extend(
                dc_replace(post, id=f"{post.id}#{n}", media=(item,))
                for n, item in enumerate(post.media, start=1)
            )
        else:
            out.append(post)
    return out

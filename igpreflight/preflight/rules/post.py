"""Post rules POST001-POST021: pure functions of a Post and the facts of its media.

A post rule never opens a file: what it knows of a media item comes from
PostContext.facts (keyed by MediaItem.key: the local path, or the URL). An item whose facts are
missing or Unreadable is skipped by every rule that depends on its kind or size
(the file itself carries FILE001).

Caption tokens (POST002-POST004), documented for users:
- URLs (http://, https://, www.) and e-mail addresses are removed first, so
  `https://x.com/#about` and `ana@example.com` count as nothing.
- A hashtag is `#` followed by letters, digits or `_` (any script), with at least
  one non-digit (Instagram does not link `#1`), not directly after a letter,
  digit, `#`, `&` or `/` (`C#`, `&#39;` are not hashtags).
- A mention is `@` followed by an Instagram username (ASCII letters, digits,
  `_` and `.`, not ending with `.`), not directly after a letter, digit, `@` or `.`.
- Every occurrence counts (a repeated tag counts twice): the conservative reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS
from igpreflight.model import (
    Facts,
    Finding,
    ImageFacts,
    Kind,
    MediaItem,
    Post,
    Role,
    Severity,
    Tag,
    Unreadable,
    VideoFacts,
)
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.fmt import fmt_int, fmt_ratio, relative_gap
from igpreflight.states import CAROUSEL_ITEM_TYPES, POST_TYPES, VIDEO_TYPES, MediaType
from igpreflight.textcheck import describe, invalid_chars

# exactly one media; STORIES may hold several
SINGLE_MEDIA_TYPES = (MediaType.IMAGE, MediaType.REELS, MediaType.VIDEO)

# The numbers in rule summaries (what `igpreflight rules` lists).
_P = POST_LIMITS
_items = f"{_P.min_carousel_items} to {_P.max_carousel_items}"

_URL_RE = re.compile(r"(?i)(?:\bhttps?://|\bwww\.)\S+")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HASHTAG_RE = re.compile(r"(?<![\w#&/])#(?=\w*[^\W\d])\w+")
_MENTION_RE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")


@lru_cache(maxsize=128)
def _strip_links(caption: str) -> str:
    """The caption without its links and e-mail addresses (whose # and @ are no
    tags); three rules ask for it, so the last captions are remembered."""
    if "://" in caption or "www." in caption.lower():
        caption = _URL_RE.sub(" ", caption)
    return _EMAIL_RE.sub(" ", caption) if "@" in caption else caption


def hashtags(caption: str | None) -> list[str]:
    """Every hashtag occurrence in a caption, as written (see the module docstring)."""
    return _HASHTAG_RE.findall(_strip_links(caption)) if caption else []


def mentions(caption: str | None) -> list[str]:
    """Every @mention occurrence in a caption, as written (see the module docstring)."""
    return _MENTION_RE.findall(_strip_links(caption)) if caption else []


# ---------------------------------------------------------------- helpers


def _facts(item: MediaItem | None, ctx: PostContext) -> ImageFacts | VideoFacts | None:
    """The readable facts of an item, or None (unknown, unreadable or not probed)."""
    if item is None or not item.key:
        return None
    facts: Facts | None = ctx.facts.get(item.key)
    if facts is None or isinstance(facts, Unreadable):
        return None
    return facts


def _kind(item: MediaItem | None, ctx: PostContext) -> Kind | None:
    facts = _facts(item, ctx)
    return facts.kind if facts is not None else None


def post_type(post: Post, ctx: PostContext) -> str:
    """The post's media_type, or the one the engine would infer when none was given."""
    given = (post.media_type or "").upper()
    if given:
        return given
    if len(post.media) > 1:
        return MediaType.CAROUSEL
    return (
        MediaType.REELS
        if _kind(post.media[0] if post.media else None, ctx) is Kind.VIDEO
        else MediaType.IMAGE
    )


def _label(item: MediaItem, index: int | None = None) -> str:
    return f"item {index + 1} ({item.path})" if index is not None else item.path


def _kind_word(kind: Kind) -> str:
    return "a video" if kind is Kind.VIDEO else "an image"


@dataclass(frozen=True)
class TagGroup:
    """The tags one container receives: a single post's (post-level and its media's
    together) or one carousel child's. `item` None: tags with no media (post-level
    tags on a carousel), judged only on what needs no kind."""

    item: MediaItem | None
    index: int | None  # the carousel position, None for a single-media post
    user_tags: tuple[Tag, ...]
    product_tags: tuple[Tag, ...]

    def where(self) -> str:
        if self.item is None:
            return "on the carousel post"
        return f"on {_label(self.item, self.index)}" if self.index is not None else ""


def tag_groups(post: Post, ctx: PostContext) -> list[TagGroup]:
    if post_type(post, ctx) != MediaType.CAROUSEL:
        first = post.media[0] if post.media else None
        users = post.user_tags + (first.user_tags if first else ())
        products = post.product_tags + (first.product_tags if first else ())
        return [TagGroup(first, None, users, products)]
    groups = [
        TagGroup(item, i, item.user_tags, item.product_tags) for i, item in enumerate(post.media)
    ]
    if post.user_tags or post.product_tags:
        groups.append(TagGroup(None, None, post.user_tags, post.product_tags))
    return groups


def _where(group: TagGroup) -> str:
    text = group.where()
    return f" {text}" if text else ""


def _tag_name(tag: Tag) -> str:
    if tag.product_id is not None:
        return f"product {tag.product_id}"
    return f"@{tag.username}" if tag.username else "unnamed tag"


def _in_unit(v: float | None) -> bool:
    return v is None or 0.0 <= v <= 1.0


# ---------------------------------------------------------------- caption


@REGISTRY.post_rule(
    "POST001",
    Severity.ERROR,
    f"caption is at most {_P.max_caption} characters",
    graph=(36004, 2207010),
    todo="shorten the caption",
    limits=("post.max_caption", "post.emoji_as_utf8_bytes"),
)
def caption_length(post: Post, ctx: PostContext) -> Iterator[Finding]:
    n = caption_units(post.caption or "", ctx.limits.emoji_as_utf8_bytes)
    if n > ctx.limits.max_caption:
        how = " (emoji counted as their UTF-8 bytes)" if ctx.limits.emoji_as_utf8_bytes else ""
        yield caption_length.finding(
            f"caption is {fmt_int(n)} characters{how}; "
            f"the limit is {fmt_int(ctx.limits.max_caption)}",
        )


def is_emoji(ch: str) -> bool:
    """Pictographs, symbols and the joiners and selectors that build emoji sequences."""
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or cp in (0x200D, 0xFE0F, 0x20E3)
        or 0x1F1E6 <= cp <= 0x1F1FF
        or 0xE0020 <= cp <= 0xE007F
    )


def caption_units(caption: str, emoji_as_utf8_bytes: bool = False) -> int:
    """A caption's length as the platform counts it: code points (Instagram), or with
    each emoji code point counted as its UTF-8 bytes (Threads: "emojis are counted
    as the number of UTF-8 bytes")."""
    if not emoji_as_utf8_bytes:
        return len(caption)  # code points, not bytes or UTF-16 units
    return sum(len(ch.encode("utf-8", "surrogatepass")) if is_emoji(ch) else 1 for ch in caption)


@REGISTRY.post_rule(
    "POST002",
    Severity.ERROR,
    f"caption has at most {_P.max_hashtags} hashtags",
    graph=(None, 2207010),
    todo="remove hashtags",
    limits=("post.max_hashtags",),
)
def hashtag_count(post: Post, ctx: PostContext) -> Iterator[Finding]:
    n = len(hashtags(post.caption))
    if n > ctx.limits.max_hashtags:
        yield hashtag_count.finding(
            f"caption has {n} hashtags; the limit is {ctx.limits.max_hashtags}"
        )


@REGISTRY.post_rule(
    "POST004",
    Severity.WARNING,
    f"caption has at most {_P.hashtag_cap_announced} hashtags "
    f"(announced cap; over {_P.hashtag_spam_risk} is a spam risk)",
    graph=(4, 2207051),
    todo=f"use {_P.hashtag_cap_announced} hashtags or fewer",
    limits=("post.hashtag_cap_announced", "post.hashtag_spam_risk"),
)
def hashtag_advice(post: Post, ctx: PostContext) -> Iterator[Finding]:
    lim = ctx.limits
    n = len(hashtags(post.caption))
    if n <= lim.hashtag_cap_announced or n > lim.max_hashtags:  # over 30 is POST002's error
        return
    risk = (
        f"; more than {lim.hashtag_spam_risk} is a spam risk" if n > lim.hashtag_spam_risk else ""
    )
    reason = lim.hashtag_cap_reason.format(platform=lim.platform, cap=lim.hashtag_cap_announced)
    yield hashtag_advice.finding(f"caption has {n} hashtags; {reason}{risk}")


@REGISTRY.post_rule(
    "POST003",
    Severity.ERROR,
    f"caption has at most {_P.max_mentions} @mentions",
    graph=(100, 2207040),
    todo="remove mentions",
    limits=("post.max_mentions",),
)
def mention_count(post: Post, ctx: PostContext) -> Iterator[Finding]:
    n = len(mentions(post.caption))
    if n > ctx.limits.max_mentions:
        yield mention_count.finding(
            f"caption has {n} @mentions; the limit is {ctx.limits.max_mentions}"
        )


def _tag_key(tag: str) -> str:
    return tag.lstrip("#").casefold()


@REGISTRY.post_rule(
    "POST022",
    Severity.ERROR,
    "caption has the profile's required hashtags and none of its forbidden ones (house rules)",
    todo="edit the caption's hashtags",
    limits=("post.required_hashtags", "post.forbidden_hashtags"),
)
def house_hashtags(post: Post, ctx: PostContext) -> Iterator[Finding]:
    lim = ctx.limits
    if not (lim.required_hashtags or lim.forbidden_hashtags):
        return
    if post_type(post, ctx) == MediaType.STORIES:
        return  # a story shows no caption
    used = {_tag_key(t) for t in hashtags(post.caption)}
    missing = [t for t in lim.required_hashtags if _tag_key(t) not in used]
    banned = [t for t in lim.forbidden_hashtags if _tag_key(t) in used]
    if missing:
        yield house_hashtags.finding(
            f"caption lacks the required hashtag{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}"
        )
    if banned:
        yield house_hashtags.finding(
            f"caption has the forbidden hashtag{'s' if len(banned) > 1 else ''} {', '.join(banned)}"
        )


@REGISTRY.post_rule(
    "POST012",
    Severity.WARNING,
    "a caption on a story or carousel child is ignored",
    todo="remove it (stories show no caption; a carousel's goes on the carousel itself)",
)
def ignored_caption(post: Post, ctx: PostContext) -> Iterator[Finding]:
    kind = post_type(post, ctx)
    if kind == MediaType.STORIES and post.caption:
        yield ignored_caption.finding(
            f"caption is set on a STORIES post; {ctx.limits.platform} ignores it"
        )
    for i, item in enumerate(post.media):
        if item.caption and kind == MediaType.CAROUSEL:
            yield ignored_caption.finding(
                f"caption on carousel {_label(item, i)} is ignored; only the carousel's caption shows",
            )


# ---------------------------------------------------------------- media types


@REGISTRY.post_rule(
    "POST005",
    Severity.ERROR,
    f"carousel has {_items} items",
    graph=(100, 2207028),
    todo=f"use {_items} items",
    limits=("post.min_carousel_items", "post.max_carousel_items"),
)
def carousel_size(post: Post, ctx: PostContext) -> Iterator[Finding]:
    lim = ctx.limits
    n = len(post.media)
    if post_type(post, ctx) == MediaType.CAROUSEL and not (
        lim.min_carousel_items <= n <= lim.max_carousel_items
    ):
        yield carousel_size.finding(
            f"carousel has {n} item{'s' if n != 1 else ''}; it takes "
            f"{lim.min_carousel_items} to {lim.max_carousel_items}",
        )


@REGISTRY.post_rule(
    "POST006",
    Severity.ERROR,
    "media_type is IMAGE, REELS, STORIES or CAROUSEL and matches the file",
    graph=(100, 2207023),
    todo="set media_type to match the media",
)
def media_type(post: Post, ctx: PostContext) -> Iterator[Finding]:
    kind = post_type(post, ctx)
    if kind not in (*POST_TYPES, MediaType.VIDEO):
        yield media_type.finding(
            f"media_type {post.media_type} is unknown; use {', '.join(POST_TYPES)}"
        )
        return
    if kind == MediaType.VIDEO:
        yield media_type.finding(
            "media_type VIDEO is deprecated for single posts (since 2023-11-09); use REELS",
        )
    if kind in SINGLE_MEDIA_TYPES and len(post.media) != 1:
        yield media_type.finding(
            f"media_type {kind} takes 1 media, got {len(post.media)}; "
            "use CAROUSEL for 2 to 10 items",
        )
    if kind in SINGLE_MEDIA_TYPES:
        want = Kind.VIDEO if kind in VIDEO_TYPES else Kind.IMAGE
        for item in post.media:
            got = _kind(item, ctx)
            if got is not None and got is not want:
                fix = MediaType.REELS if got is Kind.VIDEO else MediaType.IMAGE
                yield media_type.finding(
                    f"media_type {kind} needs {_kind_word(want)}, but {item.path} is "
                    f"{_kind_word(got)}; use {fix}",
                )
    if kind == MediaType.CAROUSEL:
        for i, item in enumerate(post.media):
            t = (item.media_type or "").upper()
            got = _kind(item, ctx)
            if t not in CAROUSEL_ITEM_TYPES or got is None:
                continue  # other types are POST013's
            want = Kind.VIDEO if t == MediaType.VIDEO else Kind.IMAGE
            if got is not want:
                yield media_type.finding(
                    f"carousel {_label(item, i)} is marked {t} but is {_kind_word(got)}; "
                    f"use {'VIDEO' if got is Kind.VIDEO else 'IMAGE'}",
                )


@REGISTRY.post_rule(
    "POST013",
    Severity.ERROR,
    "carousel items are images or videos (no Reels, Stories or nested carousels)",
    graph=(100, 2207023),
    todo="use IMAGE or VIDEO items",
)
def carousel_item_types(post: Post, ctx: PostContext) -> Iterator[Finding]:
    if post_type(post, ctx) != MediaType.CAROUSEL:
        return
    for i, item in enumerate(post.media):
        t = (item.media_type or "").upper()
        if t and t not in CAROUSEL_ITEM_TYPES:
            yield carousel_item_types.finding(
                f"carousel {_label(item, i)} has media_type {t}; carousel items are "
                f"{' or '.join(CAROUSEL_ITEM_TYPES)}",
            )


@REGISTRY.post_rule(
    "POST014",
    Severity.WARNING,
    "carousel items share the first item's aspect ratio (others are cropped)",
    todo="give every item the same ratio",
    limits=("post.carousel_aspect_tolerance",),
)
def carousel_ratios(post: Post, ctx: PostContext) -> Iterator[Finding]:
    if post_type(post, ctx) != MediaType.CAROUSEL or not post.media:
        return
    first = _facts(post.media[0], ctx)
    if first is None or not first.aspect:
        return
    base = first.aspect
    base_text = f"{fmt_ratio(base)} ({first.display_width}x{first.display_height})"
    for i, item in enumerate(post.media[1:], start=1):
        facts = _facts(item, ctx)
        if facts is None or not facts.aspect:
            continue
        if relative_gap(facts.aspect, base) > ctx.limits.carousel_aspect_tolerance:
            yield carousel_ratios.finding(
                f"carousel {_label(item, i)} is {fmt_ratio(facts.aspect)} "
                f"({facts.display_width}x{facts.display_height}) but the first item is "
                f"{base_text}; {ctx.limits.platform} crops it to the first item's ratio",
            )


# ---------------------------------------------------------------- video options


@REGISTRY.post_rule(
    "POST007",
    Severity.ERROR,
    "thumb_offset is inside the video (0 <= ms < duration)",
    graph=(1, 2207057),
    todo="choose an offset inside the video",
)
def thumb_offset(post: Post, ctx: PostContext) -> Iterator[Finding]:
    t = post.thumb_offset
    if t is None or post_type(post, ctx) == MediaType.CAROUSEL or not post.media:
        return
    if post.cover is not None:
        return  # a cover wins and thumb_offset is ignored (POST018 says so)
    facts = _facts(post.media[0], ctx)
    is_video = post_type(post, ctx) in VIDEO_TYPES or (
        facts is not None and facts.kind is Kind.VIDEO
    )
    if not is_video:
        return
    if t < 0:
        yield thumb_offset.finding(f"thumb_offset {t} ms is negative; it must be 0 <= t < duration")
        return
    if isinstance(facts, VideoFacts) and facts.duration is not None:
        ms = facts.duration * 1000
        if t >= ms:
            yield thumb_offset.finding(
                f"thumb_offset {fmt_int(t)} ms is not inside the video "
                f"(0 <= t < {fmt_int(round(ms))} ms)",
            )


@REGISTRY.post_rule(
    "POST018",
    Severity.WARNING,
    "thumb_offset is ignored when a cover is given",
    todo="give one of the two",
)
def offset_and_cover(post: Post, ctx: PostContext) -> Iterator[Finding]:
    if post.thumb_offset is not None and post.cover is not None:
        yield offset_and_cover.finding(
            f"thumb_offset {fmt_int(post.thumb_offset)} ms and cover {post.cover.path} are both given; "
            "the cover wins and thumb_offset is ignored",
        )


# What the publisher sends only with a Reel: on any other post Instagram never gets them.
REEL_ONLY_FIELDS = ("share_to_feed", "cover", "thumb_offset")


@REGISTRY.post_rule(
    "POST020",
    Severity.WARNING,
    "share_to_feed, cover and thumb_offset are set only on Reels (elsewhere they are dropped)",
    todo="remove them (only a video published as REELS takes them)",
)
def reel_only_fields(post: Post, ctx: PostContext) -> Iterator[Finding]:
    kind = post_type(post, ctx)
    if kind in VIDEO_TYPES:
        return
    given = [name for name in REEL_ONLY_FIELDS if getattr(post, name) is not None]
    if given:
        one = len(given) == 1
        article = "an" if kind[:1] in "AEIOU" else "a"
        yield reel_only_fields.finding(
            f"{' and '.join(given)} {'is' if one else 'are'} set on {article} {kind} post; "
            f"only a Reel takes {'it' if one else 'them'}, so {ctx.limits.platform} never receives "
            f"{'it' if one else 'them'}"
        )


# ---------------------------------------------------------------- tags


@REGISTRY.post_rule(
    "POST008",
    Severity.ERROR,
    "product tags on images have x/y in 0.0..1.0; videos have none",
    graph=(None, 2207035),
    todo="fix the tag coordinates",
)
def product_tag_positions(post: Post, ctx: PostContext) -> Iterator[Finding]:
    for g in tag_groups(post, ctx):
        kind = _kind(g.item, ctx)
        if kind is Kind.VIDEO:
            placed = [t for t in g.product_tags if t.x is not None or t.y is not None]
            if placed:
                names = ", ".join(_tag_name(t) for t in placed)
                yield product_tag_positions.finding(
                    f"product tag(s) {names}{_where(g)} have x/y, but the media is a video; "
                    "video product tags take no x/y",
                )
        elif kind is Kind.IMAGE:
            unplaced = [t for t in g.product_tags if t.x is None or t.y is None]
            if unplaced:
                names = ", ".join(_tag_name(t) for t in unplaced)
                yield product_tag_positions.finding(
                    f"product tag(s) {names}{_where(g)} have no x/y; "
                    "image product tags need x and y in 0.0..1.0",
                )


@REGISTRY.post_rule(
    "POST009",
    Severity.ERROR,
    "product tag ids are unique",
    graph=(None, 2207036),
    todo="remove duplicate product ids",
)
def duplicate_products(post: Post, ctx: PostContext) -> Iterator[Finding]:
    for g in tag_groups(post, ctx):
        seen: set[str] = set()
        dupes: list[str] = []
        for t in g.product_tags:
            if t.product_id is None:
                continue
            if t.product_id in seen and t.product_id not in dupes:
                dupes.append(t.product_id)
            seen.add(t.product_id)
        if dupes:
            yield duplicate_products.finding(
                f"product id(s) {', '.join(dupes)} tagged more than once{_where(g)}; "
                "each product may be tagged once",
            )


@REGISTRY.post_rule(
    "POST010",
    Severity.ERROR,
    "user and product tag x/y are inside 0.0..1.0",
    graph=(None, 2207037),
    todo="fix the tag coordinates",
)
def tag_coordinates(post: Post, ctx: PostContext) -> Iterator[Finding]:
    for g in tag_groups(post, ctx):
        for t in (*g.user_tags, *g.product_tags):
            bad = [f"{axis}={v:g}" for axis, v in (("x", t.x), ("y", t.y)) if not _in_unit(v)]
            if bad:
                yield tag_coordinates.finding(
                    f"tag {_tag_name(t)}{_where(g)} has {' and '.join(bad)}; "
                    "x and y must be within 0.0..1.0",
                )


@REGISTRY.post_rule(
    "POST011",
    Severity.ERROR,
    f"at most {_P.max_product_tags} product tags",
    graph=(None, 2207040),
    todo="remove product tags",
    limits=("post.max_product_tags",),
)
def product_tag_count(post: Post, ctx: PostContext) -> Iterator[Finding]:
    for g in tag_groups(post, ctx):
        n = len(g.product_tags)
        if n > ctx.limits.max_product_tags:
            yield product_tag_count.finding(
                f"{n} product tags{_where(g)}; the limit is {ctx.limits.max_product_tags}",
            )


@REGISTRY.post_rule(
    "POST016",
    Severity.ERROR,
    f"user tags: x/y required on images, not allowed on carousel videos, at most {_P.max_user_tags}",
    graph=(None, 2207040),
    todo="fix the user tags",
    limits=("post.max_user_tags",),
)
def user_tags(post: Post, ctx: PostContext) -> Iterator[Finding]:
    carousel = post_type(post, ctx) == MediaType.CAROUSEL
    story = post_type(post, ctx) == MediaType.STORIES
    for g in tag_groups(post, ctx):
        if not g.user_tags:
            continue
        kind = _kind(g.item, ctx)
        n = len(g.user_tags)
        if n > ctx.limits.max_user_tags:
            yield user_tags.finding(
                f"{n} user tags{_where(g)}; the limit is {ctx.limits.max_user_tags}"
            )
        nameless = [t for t in g.user_tags if not t.username]
        if nameless:
            yield user_tags.finding(f"{len(nameless)} user tag(s){_where(g)} have no username")
        if carousel and kind is Kind.VIDEO:
            yield user_tags.finding(
                f"{n} user tag(s){_where(g)}, a carousel video; carousel videos take none",
            )
        elif kind is Kind.IMAGE and not story:
            unplaced = [t for t in g.user_tags if t.x is None or t.y is None]
            if unplaced:
                names = ", ".join(_tag_name(t) for t in unplaced)
                yield user_tags.finding(
                    f"user tag(s) {names}{_where(g)} have no x/y; "
                    "image user tags need x and y in 0.0..1.0",
                )


# ---------------------------------------------------------------- other fields


@REGISTRY.post_rule(
    "POST017",
    Severity.ERROR,
    f"alt_text is at most {IMAGE_LIMITS[Role.FEED_IMAGE].max_alt_text} characters and only on images",
    todo="shorten the alt text",
    limits=("image.max_alt_text",),
)
def alt_text(post: Post, ctx: PostContext) -> Iterator[Finding]:
    limit = ctx.max_alt_text
    carousel = post_type(post, ctx) == MediaType.CAROUSEL
    texts: list[tuple[str, MediaItem | None, str]] = []
    if post.alt_text is not None:
        owner = None if carousel else (post.media[0] if post.media else None)
        texts.append((post.alt_text, owner, "the carousel post" if carousel else "the post"))
    for i, item in enumerate(post.media):
        if item.alt_text is not None:
            texts.append((item.alt_text, item, _label(item, i if carousel else None)))
    for text, owner, where in texts:
        n = len(text)
        if n > limit:
            yield alt_text.finding(
                f"alt_text on {where} is {fmt_int(n)} characters; the limit is {fmt_int(limit)}",
            )
        if owner is None and carousel:
            yield alt_text.finding(
                "alt_text is set on the carousel post; only images take alt text: "
                "set it on each image item",
            )
        elif _kind(owner, ctx) is Kind.VIDEO:
            yield alt_text.finding(
                f"alt_text is set on {where}, a video; only images take alt text"
            )


@REGISTRY.post_rule(
    "POST019",
    Severity.ERROR,
    f"at most {_P.max_collaborators} collaborators",
    todo="remove collaborators",
    limits=("post.max_collaborators",),
)
def collaborators(post: Post, ctx: PostContext) -> Iterator[Finding]:
    n = len(post.collaborators)
    if n > ctx.limits.max_collaborators:
        yield collaborators.finding(
            f"{n} collaborators; the limit is {ctx.limits.max_collaborators}"
        )


def post_texts(post: Post) -> Iterator[tuple[str, str]]:
    """(field, text) of every text of a post: what Instagram receives (captions,
    alt texts, tags, collaborators, location, audio name) and the post id, which
    names it in the queue, the database and every report."""
    yield "the post id", post.id
    fields = (("caption", post.caption), ("alt_text", post.alt_text))
    fields += (("location_id", post.location_id), ("audio_name", post.extra.get("audio_name")))
    for name, text in fields:
        if isinstance(text, str):
            yield name, text
    for i, name in enumerate(post.collaborators):
        yield f"collaborator #{i + 1}", name
    yield from _tag_texts(post.user_tags, post.product_tags, "")
    items = [*post.media, *([post.cover] if post.cover else [])]
    for i, item in enumerate(items):
        where = " of the cover" if item is post.cover else f" of media #{i + 1}"
        for name, text in (("caption", item.caption), ("alt_text", item.alt_text)):
            if text is not None:
                yield name + where, text
        yield from _tag_texts(item.user_tags, item.product_tags, where)


def _tag_texts(
    users: tuple[Tag, ...], products: tuple[Tag, ...], where: str
) -> Iterator[tuple[str, str]]:
    for i, tag in enumerate(users):
        if tag.username is not None:
            yield f"user tag #{i + 1}{where} (username)", tag.username
    for i, tag in enumerate(products):
        if tag.product_id is not None:
            yield f"product tag #{i + 1}{where} (product_id)", tag.product_id


@REGISTRY.post_rule(
    "POST021",
    Severity.ERROR,
    "text fields are valid Unicode: no lone UTF-16 surrogate, no NUL character",
    todo="replace the broken character (often half an emoji cut by JavaScript's .slice()) "
    "or remove it",
)
def valid_text(post: Post, ctx: PostContext) -> Iterator[Finding]:
    for field, text in post_texts(post):
        bad = invalid_chars(text)
        if not bad:
            continue
        position, char = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        yield valid_text.finding(
            f"{field} holds {describe(char)} at character {position + 1}{more}; "
            "it cannot be encoded as UTF-8, so Instagram cannot receive it",
        )


# ---------------------------------------------------------------- batch


def _caption_key(caption: str | None) -> str:
    """Captions that differ only in spacing are the same caption."""
    return " ".join((caption or "").split())


@REGISTRY.batch_rule(
    "POST015",
    Severity.WARNING,
    "captions are not duplicated within a batch (spam risk)",
    graph=(None, 2207051),
    todo="vary the captions",
)
def duplicate_captions(posts: list[Post]) -> Mapping[str, list[Finding]]:
    by_caption: dict[str, list[str]] = {}
    for post in posts:
        key = _caption_key(post.caption)
        if key:
            by_caption.setdefault(key, []).append(post.id)
    out: dict[str, list[Finding]] = {}
    for ids in by_caption.values():
        if len(ids) < 2:
            continue
        for post_id in ids:
            others = [i for i in ids if i != post_id] or [post_id]
            out.setdefault(post_id, []).append(
                duplicate_captions.finding(
                    f"the same caption is used by {len(ids)} posts in this batch "
                    f"(also {', '.join(others)}); duplicate captions are a spam risk",
                )
            )
    return out

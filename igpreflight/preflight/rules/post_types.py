"""Post rules on media_type and carousel items (POST005, POST006, POST013, POST014).

They judge the post's media_type (given, or inferred by `post_type`) against the
number and kind of its media, and a carousel's items against each other.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import POST_LIMITS
from igpreflight.model import Finding, Kind, Post, Severity
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.fmt import fmt_ratio, relative_gap
from igpreflight.preflight.rules.post import _facts, _kind, _kind_word, _label, post_type
from igpreflight.states import CAROUSEL_ITEM_TYPES, POST_TYPES, VIDEO_TYPES, MediaType

# exactly one media; STORIES may hold several
SINGLE_MEDIA_TYPES = (MediaType.IMAGE, MediaType.REELS, MediaType.VIDEO)

# The numbers in rule summaries (what `igpreflight rules` lists).
_P = POST_LIMITS
_items = f"{_P.min_carousel_items} to {_P.max_carousel_items}"


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

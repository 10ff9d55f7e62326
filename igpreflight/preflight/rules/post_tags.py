"""Post rules on user and product tags (POST008-POST011, POST016).

Tags are judged per container that receives them (`TagGroup`): a single post's
post-level and media tags together, or each carousel child's, since the kind of
that container's media decides whether tags take x/y.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import POST_LIMITS
from igpreflight.model import Finding, Kind, MediaItem, Post, Severity, Tag
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.post import _kind, _label, post_type
from igpreflight.records import record
from igpreflight.states import MediaType

# The numbers in rule summaries (what `igpreflight rules` lists).
_P = POST_LIMITS


@record
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

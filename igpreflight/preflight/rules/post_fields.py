"""Post rules on the post's other fields (POST017, POST019, POST021): alt text,
collaborators, and every text field being valid Unicode (`post_texts` lists them).
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS
from igpreflight.model import Finding, Kind, MediaItem, Post, Role, Severity, Tag
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.fmt import fmt_int
from igpreflight.preflight.rules.post import _kind, _label, post_type
from igpreflight.states import MediaType
from igpreflight.textcheck import describe, invalid_chars

# The numbers in rule summaries (what `igpreflight rules` lists).
_P = POST_LIMITS


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

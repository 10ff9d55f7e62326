"""Post rules on the fields only a Reel takes (POST007, POST018, POST020).

thumb_offset, cover and share_to_feed go with a video published as REELS; these
rules say when one is outside the video, overridden by another, or dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.model import Finding, Kind, Post, Severity, VideoFacts
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.fmt import fmt_int
from igpreflight.preflight.rules.post import _facts, post_type
from igpreflight.states import VIDEO_TYPES, MediaType


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

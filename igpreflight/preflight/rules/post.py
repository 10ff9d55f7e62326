"""Post rules: what every post rule reads of a post, and the caption rules (POST001-POST004,
POST012, POST022, POST023).

The post family's other rules live next to it, one module per kind of field:
`post_types.py` (media_type and carousel items), `post_video_options.py` (the
fields only a Reel takes), `post_tags.py` (user and product tags), `post_fields.py`
(alt text, collaborators, valid text) and `post_batch.py` (a whole batch).
They share this module's view of a post: `post_type` and the facts of its media.

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

Links (POST023) are the same URLs, counted once each as Threads counts them: a
link's trailing punctuation, its scheme, a final `/` and letter case are ignored,
so `www.x.com`, `https://WWW.x.com/` and `www.x.com.` are one link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from igpreflight.limits import POST_LIMITS
from igpreflight.model import (
    Facts,
    Finding,
    ImageFacts,
    Kind,
    MediaItem,
    Post,
    Severity,
    Unreadable,
    VideoFacts,
)
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.fmt import fmt_int
from igpreflight.states import MediaType

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


def links(caption: str | None) -> set[str]:
    """The unique links of a caption, normalized (see the module docstring)."""
    if not caption:
        return set()
    found = set()
    for url in _URL_RE.findall(caption):
        url = url.rstrip(".,;:!?)]}>'\"").lower()
        url = url.split("://", 1)[1] if "://" in url else url
        found.add(url.rstrip("/"))
    return found


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


@REGISTRY.post_rule(
    "POST023",
    Severity.ERROR,
    "caption has at most the profile's number of unique links (Threads: 5; Instagram: no limit)",
    todo="remove links",
    limits=("post.max_links",),
)
def link_count(post: Post, ctx: PostContext) -> Iterator[Finding]:
    cap = ctx.limits.max_links
    if cap is None or post_type(post, ctx) == MediaType.STORIES:
        return  # no limit, or a story, which shows no caption
    n = len(links(post.caption))
    if n > cap:
        yield link_count.finding(
            f"caption has {n} unique links; {ctx.limits.platform} refuses more than {cap}"
        )

"""Run the registered rules: facts (and posts) in, sorted findings out.

This is the one entry point the engine, the fixers' re-check and the publisher
use, so every caller sees the same findings in the same order: errors first,
then warnings, then info, each group by rule code (a rule's own findings keep
the order it gave them, e.g. carousel items in order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, VIDEO_LIMITS
from igpreflight.model import (
    AsOption,
    Facts,
    Finding,
    ImageFacts,
    Post,
    Role,
    Severity,
    Unreadable,
    VideoFacts,
    role_for,
)
from igpreflight.preflight.rules import PostContext, load_rules

REGISTRY = load_rules()  # every rule module imported, so every rule registered

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _code_key(code: str) -> tuple[str, int]:
    """IMG002 before IMG010, POST2 before POST10: letters, then the number."""
    head = code.rstrip("0123456789")
    tail = code[len(head) :]
    return head, int(tail) if tail else -1


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable order: severity (error, warning, info), then rule code."""
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], _code_key(f.rule)))


def check_image(facts: ImageFacts, role: Role = Role.FEED_IMAGE) -> list[Finding]:
    """Every image rule against the limits of `role` (an image role)."""
    if role not in IMAGE_LIMITS:
        raise ValueError(f"{role} is not an image role")
    limits = IMAGE_LIMITS[role]
    return sort_findings(f for rule in REGISTRY.image.values() for f in rule(facts, limits))


def check_video(facts: VideoFacts, role: Role = Role.REELS) -> list[Finding]:
    """Every video rule against the limits of `role` (a video role)."""
    if role not in VIDEO_LIMITS:
        raise ValueError(f"{role} is not a video role")
    limits = VIDEO_LIMITS[role]
    return sort_findings(f for rule in REGISTRY.video.values() for f in rule(facts, limits))


def check_unreadable(facts: Unreadable) -> list[Finding]:
    """FILE001 with the probe's reason."""
    return sort_findings(f for rule in REGISTRY.file.values() for f in rule(facts))


def check_facts(facts: Facts, role: Role | None = None) -> list[Finding]:
    """Dispatch on the kind of facts; `role` None means the single-post default
    (an image is a feed image, a video a Reel)."""
    if isinstance(facts, Unreadable):
        return check_unreadable(facts)
    if role is None:
        role = role_for(facts.kind, AsOption.AUTO)
    if isinstance(facts, ImageFacts):
        return check_image(facts, role)
    if isinstance(facts, VideoFacts):
        return check_video(facts, role)
    raise TypeError(f"not facts: {type(facts).__name__}")


def check_post(post: Post, ctx: PostContext) -> list[Finding]:
    """Every post rule for one post (the facts of its media are in ctx.facts)."""
    return sort_findings(f for rule in REGISTRY.post.values() for f in rule(post, ctx))


def check_posts(posts: Iterable[Post], facts: Mapping[str, Facts]) -> dict[str, list[Finding]]:
    """Post rules for each post plus the batch rules (duplicate captions), by post id."""
    posts = list(posts)
    ctx = PostContext(facts=facts, limits=POST_LIMITS)
    out: dict[str, list[Finding]] = {}
    for post in posts:
        out.setdefault(post.id, []).extend(check_post(post, ctx))
    for rule in REGISTRY.batch.values():
        for post_id, found in rule(posts).items():
            out.setdefault(post_id, []).extend(found)
    return {post_id: sort_findings(found) for post_id, found in out.items()}

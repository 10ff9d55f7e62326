"""Run the registered rules: facts (and posts) in, sorted findings out.

This is the one entry point the engine, the fixers' re-check and the publisher
use, so every caller sees the same findings in the same order: errors first,
then warnings, then info, each group by rule code (a rule's own findings keep
the order it gave them, e.g. carousel items in order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

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
from igpreflight.preflight.rules.image import image_format
from igpreflight.profiles import INSTAGRAM, Profile, is_default

# Each check loads the rule modules of its kind first (`load_rules(kind)`): a photo's
# check imports the image rules alone.

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _code_key(code: str) -> tuple[str, int]:
    """IMG002 before IMG010, POST2 before POST10: letters, then the number."""
    head = code.rstrip("0123456789")
    tail = code[len(head) :]
    return head, int(tail) if tail else -1


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable order: severity (error, warning, info), then rule code."""
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], _code_key(f.rule)))


def check_image(
    facts: ImageFacts, role: Role = Role.FEED_IMAGE, profile: Profile = INSTAGRAM
) -> list[Finding]:
    """Every image rule against the limits of `role` (an image role) in `profile`."""
    if not role.is_image:
        raise ValueError(f"{role} is not an image role")
    limits = profile.image(role)
    rules = list(load_rules("image").image.values())
    if not (limits.accepted_formats or limits.tolerated_formats):
        rules = [image_format]  # a videos-only profile: one finding says so
    return sort_findings(f for rule in rules for f in rule(facts, limits))


def check_video(
    facts: VideoFacts, role: Role = Role.REELS, profile: Profile = INSTAGRAM
) -> list[Finding]:
    """Every video rule against the limits of `role` (a video role) in `profile`."""
    if role.is_image:
        raise ValueError(f"{role} is not a video role")
    limits = profile.video(role)
    found = [f for rule in load_rules("video").video.values() for f in rule(facts, limits)]
    return sort_findings(_refused_whole(found))


def _refused_whole(findings: list[Finding]) -> list[Finding]:
    """A video's findings as `fix` will treat them (`_blocks`)."""
    return _none_fixable(findings) if _blocks(findings) else findings


def _none_fixable(findings: Sequence[Finding]) -> list[Finding]:
    return [replace(f, fixable=False) if f.fixable else f for f in findings]


def _blocks(findings: Sequence[Finding]) -> bool:
    """Whether `fix` refuses the video whole: an error it cannot resolve (no video
    stream, a rule no step resolves: the planner's "blocking" errors) means none of
    its findings is fixed. An audio-only MP4 with its moov at the end was "1 fixable
    with `igpreflight fix`" (VID004) in check's summary, "fix: remuxed with
    faststart", and fix then said unfixable. An error fixed only on request (VID008,
    --trim/--extend) blocks nothing: its hint names the option."""
    rules = load_rules("video").video
    return any(
        f.severity is Severity.ERROR and not f.fixable and not rules[f.rule].info.on_request
        for f in findings
        if f.rule in rules
    )


def check_unreadable(facts: Unreadable) -> list[Finding]:
    """FILE001 with the probe's reason."""
    return sort_findings(f for rule in load_rules("file").file.values() for f in rule(facts))


def by_profile(results: Sequence[tuple[Profile, Sequence[Finding]]]) -> list[Finding]:
    """One list of findings from several profiles' checks: each names the profiles
    that report it, and a finding several profiles report alike (same rule, words
    and severity) is one finding naming them all ("instagram,threads")."""
    merged: dict[tuple, tuple[Finding, list[str]]] = {}
    for profile, found in results:
        for f in found:
            key = (f.rule, f.severity, f.message, f.code, f.subcode, f.fixable)
            merged.setdefault(key, (f, []))[1].append(profile.name)
    return sort_findings(replace(f, profile=",".join(names)) for f, names in merged.values())


def check_facts(
    facts: Facts, role: Role | None = None, profiles: Sequence[Profile] = ()
) -> list[Finding]:
    """Dispatch on the kind of facts; `role` None means the single-post default
    (an image is a feed image, a video a Reel). Under several profiles (or one that
    is not instagram) every finding names its profile(s) (`by_profile`)."""
    if isinstance(facts, Unreadable):
        return check_unreadable(facts)
    if role is None:
        role = role_for(facts.kind, AsOption.AUTO)
    if isinstance(facts, ImageFacts):
        check = check_image
    elif isinstance(facts, VideoFacts):
        check = check_video  # type: ignore[assignment]
    else:
        raise TypeError(f"not facts: {type(facts).__name__}")
    if is_default(profiles):
        return check(facts, role)  # type: ignore[arg-type]
    results = [(p, check(facts, role, p)) for p in profiles]  # type: ignore[arg-type]
    if isinstance(facts, VideoFacts) and any(_blocks(found) for _, found in results):
        # fix works to every profile at once: one profile's blocking error refuses it whole
        results = [(p, _none_fixable(found)) for p, found in results]
    return by_profile(results)


def check_post(post: Post, ctx: PostContext) -> list[Finding]:
    """Every post rule for one post (the facts of its media are in ctx.facts)."""
    rules = load_rules("post").post.values()
    return sort_findings(f for rule in rules for f in rule(post, ctx))


def post_context(facts: Mapping[str, Facts], profile: Profile = INSTAGRAM) -> PostContext:
    return PostContext(
        facts=facts, limits=profile.post, max_alt_text=profile.image(Role.FEED_IMAGE).max_alt_text
    )


def check_posts(
    posts: Iterable[Post],
    facts: Mapping[str, Facts],
    profiles_of: Callable[[Post], Sequence[Profile]] | None = None,
) -> dict[str, list[Finding]]:
    """Post rules for each post plus the batch rules (duplicate captions), by post id.
    `profiles_of(post)` gives the profiles a post is checked under (None: instagram)."""
    posts = list(posts)
    out: dict[str, list[Finding]] = {}
    for post in posts:
        profiles = profiles_of(post) if profiles_of is not None else ()
        if is_default(profiles):
            found = check_post(post, post_context(facts))
        else:
            found = by_profile([(p, check_post(post, post_context(facts, p))) for p in profiles])
        out.setdefault(post.id, []).extend(found)
    for rule in load_rules("batch").batch.values() if posts else ():  # no posts, no batch
        for post_id, found in rule(posts).items():
            out.setdefault(post_id, []).extend(found)
    return {post_id: sort_findings(found) for post_id, found in out.items()}

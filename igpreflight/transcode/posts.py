"""Fixing the media of posts: each local file in the role its post gives it.

A carousel item has other limits than a Reel, and a cover is an image with no
aspect rule, so the same file may need a different fix per use. Every file is
fixed once per role, under `out/<role>/` (feed, reels, story, carousel-item).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from igpreflight.model import AsOption, Kind, MediaItem, Post, Unreadable
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.engine import COVER, POST_TYPE_USE
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.file import unreadable
from igpreflight.transcode.batch import Progress, fix_paths
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus

# A cover is an image without an aspect rule: fixed like a story image.
FIX_USE = {COVER: AsOption.STORY.value}


def media_uses(post: Post) -> list[tuple[MediaItem, str]]:
    """Every media item of a post (cover included) with its use: a role, or "cover"
    (fixed in FIX_USE's role, kept in a folder of its own)."""
    use = POST_TYPE_USE.get(post.media_type, AsOption.AUTO.value)
    if not post.media_type and len(post.media) > 1:
        use = AsOption.CAROUSEL_ITEM.value
    items = [(m, use if use != AsOption.AUTO.value else _single_use(m)) for m in post.media]
    if post.cover is not None:
        items.append((post.cover, COVER))
    return items


def _single_use(item: MediaItem) -> str:
    """The role of a post's only media when the manifest gives no media_type:
    a video makes a Reel, anything else a feed image (as `check` infers)."""
    if item.resolved and not item.problem and probe(item.resolved).kind is Kind.VIDEO:
        return AsOption.REELS.value
    return AsOption.FEED.value


def fix_posts(
    posts: Sequence[Post],
    out: Path,
    options: FixOptions,
    jobs: int | None = 1,
    progress: Progress | None = None,
) -> dict[tuple[str, str], FileFixResult]:
    """Fix every local media file of `posts` under out/<use>/, keyed by (resolved
    source, use). Results name each file as the user would (MediaItem.label)."""
    by_use: dict[str, dict[str, str]] = defaultdict(dict)  # use -> {shown: resolved}
    results: dict[tuple[str, str], FileFixResult] = {}
    for post in posts:
        for item, use in media_uses(post):
            if item.problem and not item.url:
                # A media that is missing or outside the manifest's folder is not
                # silently dropped: it is FILE001, and the run exits 1.
                results.setdefault((item.resolved or item.label, use), _unusable(item))
            elif item.resolved and not item.url:
                shown = item.label if _same_file(item.label, item.resolved) else item.resolved
                by_use[use].setdefault(shown, item.resolved)
    for use, files in by_use.items():
        role = FIX_USE.get(use, use)
        batch = fix_paths(list(files), out / use, replace(options, as_=role), jobs, progress)
        for r in batch:
            results[(files.get(r.source, os.path.abspath(r.source)), use)] = r
    return results


def _unusable(item: MediaItem) -> FileFixResult:
    reason = item.problem or "cannot be used"
    facts = Unreadable(item.label, reason)
    return FileFixResult(
        source=item.label,
        output=None,
        status=FixStatus.UNFIXABLE,
        before=check_facts(facts, None),
        reason=f"{unreadable.code} {reason}",
    )


def _same_file(shown: str, resolved: str) -> bool:
    try:
        return os.path.samefile(shown, resolved)
    except OSError:
        return False

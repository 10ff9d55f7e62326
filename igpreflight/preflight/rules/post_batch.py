"""Batch rules (POST015): what no single post shows, judged over a whole manifest."""

from __future__ import annotations

from collections.abc import Mapping

from igpreflight.model import Finding, Post, Severity
from igpreflight.preflight.rules import REGISTRY


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

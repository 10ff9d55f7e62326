"""The simulator's properties, checked after every schedule (world.py's docstring):
every post published at most once, ever, and exactly once once the faults stop, and
reported so; none before its publish_at; each account in its order."""

from __future__ import annotations

from typing import Any

from igpreflight.model import Post
from igpreflight.states import PostState

from .instagram import Instagram


def check(
    ig: Instagram,
    posts: list[Post],
    specs: list[Any],
    states: dict[str, str | None],
    failed: set[str],
) -> None:
    """The properties (see the module docstring), on what Instagram shows and on the
    state each post's latest attempt ended in."""
    counts: dict[str, int] = {}
    at: dict[str, float] = {}
    for post, _media, _user, when in ig.published:
        key = post.split("#", 1)[0]
        counts[key] = counts.get(key, 0) + 1
        at[key] = when
    keys = {p.id: str(p.media[0].url).split("#", 1)[0] for p in posts}
    twice = {pid: counts[k] for pid, k in keys.items() if counts.get(k, 0) > 1}
    assert not twice, f"published more than once: {twice}"
    never = {pid: states.get(pid) for pid, k in keys.items() if counts.get(k, 0) != 1}
    assert not never, f"not published once after the faults stopped: {never}"
    wrong = {pid: s for pid, s in states.items() if s != PostState.PUBLISHED}
    assert not wrong, f"on Instagram but not reported published: {wrong}"
    # Never before its publish_at; each account in its order (except around posts that
    # failed: a failed post does not hold the line, by design). A post someone else
    # published (the phone app) keeps neither promise of ours.
    specs = [s for s in specs if keys[s.post.id] not in ig.elsewhere]
    for spec in specs:
        if spec.publish_at is not None:
            when = at[keys[spec.post.id]]
            assert when >= spec.publish_at, (
                f"{spec.post.id} published {spec.publish_at - when:.1f} s early"
            )
    for account in {s.account.name for s in specs}:
        mine = [s for s in specs if s.account.name == account and s.post.id not in failed]
        times = [at[keys[s.post.id]] for s in mine]
        assert times == sorted(times), f"{account} out of order: {[s.post.id for s in mine]}"

"""Kept schedules (schedules.py's REGRESSIONS) for an account's order around a post
published by someone else (the phone app) before its turn (session pub14). Kept apart
so schedules.py stays small."""

from __future__ import annotations

from collections.abc import Callable

from .changes_back import before_turn_waits_on_its_attempt, published_elsewhere_lets_the_line_go
from .instagram import Fault
from .world import Schedule

ORDER_SEEDS: dict[str, tuple[Schedule, Callable[[], Callable[[], object]] | None]] = {
    # The last known order limit: p3's container read PUBLISHED by someone else before
    # its turn; it ended without naming the post it waited for, so p4 went out before
    # p2 (never twice). Found by the derandomized draws once they changed (pub13), on
    # the code before too. It now names it (before_turn), as a post failing early does.
    "pub14_published_elsewhere_before_its_turn_keeps_the_order": (
        Schedule(
            seed=17,
            posts=("image", "reel", "image", "image", "image", "image"),
            workers=3,
            ahead=3,
            processing=0.0,
            stale=0.0,
            faults=(Fault("status", 2, "elsewhere"),),
        ),
        published_elsewhere_lets_the_line_go,
    ),
    # The same found by a random exploration weighted to "elsewhere" (pub14): p1, a
    # caption-less image, published by the phone app while p0's carousel is made; a
    # worker killed before its first write; p2 went out before p0.
    "pub14_sim_published_elsewhere_behind_a_carousel": (
        Schedule(
            seed=873,
            posts=("carousel", "bare", "carousel"),
            processing=0.0,
            stale=600.0,
            lifetime=600.0,
            faults=(Fault("status", 1, "elsewhere"), Fault("write", 1, "crash_before")),
        ),
        published_elsewhere_lets_the_line_go,
    ),
    # Why the first fix (3975dd4) was reverted: p1, published elsewhere before its
    # turn, named p0's first attempt; p0 ended held (quota) and was taken up by a new
    # attempt, but p2 waited on the first one at every attempt and ended held behind
    # it for good. The posts behind now wait on the attempt that stands for it.
    "pub14_published_elsewhere_behind_a_post_taken_up": (
        Schedule(
            seed=0,
            posts=("image", "image", "image"),
            workers=2,
            ahead=2,
            processing=0.0,
            stale=0.0,
            faults=(Fault("publish", 1, "quota"), Fault("status", 5, "elsewhere")),
        ),
        before_turn_waits_on_its_attempt,
    ),
}

"""Kept schedules (schedules.py's REGRESSIONS) for the media_publish refusals Instagram
may carry out all the same, or repeat for good: 24/2207008 (session pub8) and
-1/2207032 (session pub13). Kept apart so schedules.py stays small."""

from __future__ import annotations

from collections.abc import Callable

from .changes_back import (
    builder_refusal_remakes,
    media_id_lookup_fails_the_post,
    refused_dead_after_one_window,
    refused_finished_is_resent,
    refused_resend_settled_at_once,
)
from .instagram import Fault
from .world import Schedule

REFUSAL_SEEDS: dict[str, tuple[Schedule, Callable[[], Callable[[], object]] | None]] = {
    # The last known double post (session pub8): 24/2207008 on a fresh container's
    # media_publish, carried out all the same (at once; 20 s later, a story). Instagram
    # answers 2207008 too once it has published a container, so the builder's retries
    # got it again and SPEC's new container was published beside the first. Now each
    # retry reads the container first (PUBLISHED: published), a retry answered 2207006
    # (still publishing) settles, and the retries end in a settle, never a blind remake.
    "pub8_2207008_on_a_fresh_container_published_anyway": (
        Schedule(
            seed=0,
            posts=("image",),
            ahead=0,
            processing=0.0,
            stale=0.0,
            faults=(Fault("publish", 1, "e2207008_done"),),
        ),
        builder_refusal_remakes,
    ),
    "pub8_2207008_on_a_fresh_story_published_20_s_later": (
        Schedule(
            seed=1,
            posts=("story", "image"),
            processing=20.0,
            faults=(Fault("publish", 1, "e2207008_done"),),
        ),
        builder_refusal_remakes,
    ),
    # ...and the genuine kind, which must still get SPEC's new container: the builder is
    # gone for good (FINISHED, every media_publish answers 2207008, even after the
    # faults stop), on a fresh container and on one whose first send was lost. Read
    # FINISHED through the settle window after the retries, it is dead. Sent again for
    # ever instead, the post stayed uncertain and its account's next post held.
    "pub8_2207008_builder_gone_for_good": (
        Schedule(seed=1, posts=("image", "story"), faults=(Fault("publish", 1, "e2207008_dead"),)),
        refused_finished_is_resent,
    ),
    "pub8_2207008_builder_gone_after_a_lost_send": (
        Schedule(
            seed=1,
            posts=("bare", "image"),
            faults=(Fault("publish", 1, "drop"), Fault("publish", 2, "e2207008_dead")),
        ),
        refused_finished_is_resent,
    ),
    # ...and a container that expired with it: read EXPIRED, a new container.
    "pub8_2207008_container_expired": (
        Schedule(
            seed=1, posts=("bare", "image"), faults=(Fault("publish", 1, "e2207008_expired"),)
        ),
        None,
    ),
    # Found by the simulator against this session's first fix, which settled a 2207008
    # to a container sent before at once as `refused`: the resend after a crash was the
    # one carried out, slower (400 s) than the settle window, taken for dead: posted
    # twice. Every 2207008 now goes through the retries, where 2207006 shows it.
    "pub8_sim_2207008_on_a_resend_while_instagram_is_slow": (
        Schedule(
            seed=0,
            posts=("image",),
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(Fault("publish", 1, "crash_before"), Fault("publish", 2, "e2207008_done")),
        ),
        refused_resend_settled_at_once,
    ),
    # Found by a random exploration weighted to 2207008 and the faults around
    # media_publish (session pub8), on the code before it too: a container found
    # published by someone else whose media id lookup raised: the post ended failed
    # and its next attempt published a new container (twice). The id is a nicety; the
    # post is published without it.
    "pub8_sim_media_id_lookup_raising_after_published_elsewhere": (
        Schedule(
            seed=89667694,
            posts=("image", "image"),
            ahead=0,
            processing=0.0,
            stale=0.0,
            faults=(Fault("status", 5, "elsewhere"), Fault("media", 2, "raise")),
        ),
        media_id_lookup_fails_the_post,
    ),
    # Found by a random exploration weighted to 2207032 (session pub13): a send refused
    # for real, then a resend refused and carried out slower (400 s) than the settle
    # window: taken for dead after one window, its new container was published too. The
    # same for this morning's 2207008 (the last retry carried out slowly). A refused
    # container is now dead only after REFUSED_WINDOWS (3) windows of FINISHED.
    "pub13_sim_2207032_refused_then_carried_out_slowly": (
        Schedule(
            seed=0,
            posts=("image",),
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(Fault("publish", 1, "e2207032"), Fault("publish", 2, "e2207032_done")),
        ),
        refused_dead_after_one_window,
    ),
    "pub13_sim_2207008_last_retry_carried_out_slowly": (
        Schedule(
            seed=0,
            posts=("image",),
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(
                Fault("publish", 1, "e2207008"),
                Fault("publish", 2, "e2207008"),
                Fault("publish", 3, "e2207008_done"),
            ),
        ),
        refused_dead_after_one_window,
    ),
}

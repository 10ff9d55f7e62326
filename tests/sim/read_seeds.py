"""Kept schedules (schedules.py's REGRESSIONS) for the reads a post makes of its other
containers before it sends, which the phone app may have published unseen (session
sim20; sim19's are in report_seeds.py). Kept apart so schedules.py stays small."""

from __future__ import annotations

from collections.abc import Callable

from .changes_back import (
    failed_read_is_unpublished,
    given_up_container_unread,
    rate_limited_read_is_unpublished,
)
from .instagram import Fault
from .world import Schedule

READ_SEEDS: dict[str, tuple[Schedule, Callable[[], Callable[[], object]] | None]] = {
    # f57338c's find over HTTP (tests/test_publish_report.py), which the simulator could
    # not draw while its 190 lasted until the faults stopped: p0's media_publish gets
    # 190 (failed, nothing sent); the user renews the token and runs again while the
    # faults go on; the phone app publishes p0's first container just as the re-run
    # reads it, and the rate limit answers that read. Taken for "not published", the
    # re-run sent its new container: posted twice. Now that read holds the post.
    "sim20_rate_limited_read_of_a_container_the_phone_app_published": (
        Schedule(
            seed=1,
            posts=("bare",),
            faults=(
                Fault("publish", 1, "t190_renewed"),
                Fault("status#1", 2, "elsewhere"),
                Fault("status#1", 2, "rate_long"),
            ),
            calm_after=2,
        ),
        rate_limited_read_is_unpublished,
    ),
    # The same found by the `renewed` mix with that fix reverted (as drawn): a
    # captioned image, the read stopped by usage headers at 100 % from the read before.
    "sim20_renewed_seed31004_usage_full_read_of_a_container_the_phone_app_published": (
        Schedule(
            seed=31004,
            posts=("image",),
            accounts=2,
            workers=2,
            ahead=3,
            processing=20.0,
            stale=600.0,
            faults=(
                Fault("status#1", 2, "elsewhere"),
                Fault("status#1", 1, "t190_renewed"),
                Fault("write", 6, "crash_after"),
                Fault("status#1", 1, "usage_long"),
                Fault("status", 6, "rate_long"),
                Fault("publish", 6, "e2207001_done"),
            ),
            calm_after=3,
        ),
        rate_limited_read_is_unpublished,
    ),
    # Found by the `elsewhere` mix once the phone app's publish could go with a failing
    # read (seed 5273598, shrunk by hand): the phone app publishes p0's container while
    # its reads answer 5xx; the post gives up on it, makes a new one and sent it
    # without reading the first: posted twice. A post now reads every container it
    # made, this attempt's too, before it sends.
    "sim20_container_given_up_after_5xx_reads_is_read_before_sending": (
        Schedule(
            seed=1,
            posts=("bare",),
            faults=(Fault("status", 1, "burst"), Fault("status", 3, "elsewhere")),
        ),
        given_up_container_unread,
    ),
    # ...and when the 5xx outage outlasts the retries of that read too (4 reads, by
    # hand: the drawn faults hardly line up so many), the read was taken for "not
    # published" and the new container sent: posted twice. It fails the post now (the
    # next run reads again), as a 190 there does.
    "sim20_given_up_container_unreadable_through_5xx_fails_the_post_unsent": (
        Schedule(
            seed=1,
            posts=("bare",),
            faults=(
                Fault("status", 1, "burst"),
                Fault("status", 3, "elsewhere"),
                *(Fault("status#1", n, "e500") for n in (5, 6, 7, 8)),
            ),
        ),
        failed_read_is_unpublished,
    ),
}

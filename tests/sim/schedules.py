"""Schedules for the simulator: hypothesis's strategy for any schedule, and the
regression schedules, one per defect of issue 19 the simulator can express (each with
the change that brings the defect back, so a test shows the schedule still catches it).

Add a regression: when the simulator (or a user) finds a failing schedule, hypothesis
prints it as `Schedule(...)`; paste it into REGRESSIONS with a name, fix the code, and
keep it. Run one by name: `pytest tests/sim -k <name>`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hypothesis import strategies as st

from .instagram import CALL_KINDS, WRITE_KINDS, Fault
from .world import KINDS, Schedule

# media_publish and the container reads around it are where exactly-once is won or
# lost: faults land there more often.
ENDPOINTS = ("publish", "publish", "publish", "status", "status", "create", "limit", "media", "any")

faults = st.one_of(
    st.builds(
        Fault,
        endpoint=st.sampled_from(ENDPOINTS),
        nth=st.integers(1, 6),
        kind=st.sampled_from(CALL_KINDS),
    ),
    st.builds(
        Fault, endpoint=st.just("write"), nth=st.integers(1, 80), kind=st.sampled_from(WRITE_KINDS)
    ),
)

schedules = st.builds(
    Schedule,
    seed=st.integers(0, 2**31 - 1),
    posts=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6).map(tuple),
    accounts=st.integers(1, 2),
    workers=st.integers(1, 3),
    ahead=st.integers(0, 3),
    # 400 s: Instagram slower than the settle window (180 s) at publishing.
    processing=st.sampled_from((0.0, 20.0, 150.0, 400.0)),
    stale=st.sampled_from((0.0, 30.0, 600.0)),
    lifetime=st.sampled_from((86400.0, 86400.0, 600.0)),
    faults=st.lists(faults, max_size=8).map(tuple),
    calm_after=st.integers(1, 2),
)


# ---- the defects of issue 19, as schedules, and the change that brings each back ----


@contextmanager
def patched(target: object, name: str, value: object) -> Iterator[None]:
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def blind_resume() -> Callable[[], object]:
    """Defect 1 back: a resumed media_publish is sent blind, and 2207006 recreates."""
    from igpreflight.publish.durable import workflow

    real = workflow.send

    def send(rt, spec, cid, sent_before, fresh):  # noqa: ANN001, ANN202
        return real(rt, spec, cid, False, [True])

    return lambda: patched(workflow, "send", send)


def unsettled_fails() -> Callable[[], object]:
    """Defect 2 back: a token error while settling fails the post (reconnect-auth)."""
    from igpreflight.publish.durable import workflow
    from igpreflight.publish.steps.results import Failed, Unsettled

    real = workflow.settle

    def settle(rt, spec, cid, since, *rest):  # noqa: ANN001, ANN002, ANN202
        got = real(rt, spec, cid, since, *rest)
        return Failed(got.error) if isinstance(got, Unsettled) else got

    def fails(post, error):  # noqa: ANN001, ANN202
        return post.view(workflow.S.FAILED, error=error)

    @contextmanager
    def both() -> Iterator[None]:
        with patched(workflow, "settle", settle), patched(workflow.Post, "uncertain", fails):
            yield

    return both


def no_id_is_published() -> Callable[[], object]:
    """Defect 4 back: a media_publish reply without an id counts as published."""
    from igpreflight.publish.durable import workflow
    from igpreflight.publish.steps.results import Published, Unseen
    from igpreflight.states import MediaIdSource

    real = workflow.send

    def send(rt, spec, cid, sent_before, fresh):  # noqa: ANN001, ANN202
        got = real(rt, spec, cid, sent_before, fresh)
        if isinstance(got, Unseen) and "without an id" in got.why:
            return Published(None, MediaIdSource.MEDIA_PUBLISH, got.at)
        return got

    return lambda: patched(workflow, "send", send)


def holds_on_the_old_read() -> Callable[[], object]:
    """Defect 6 back: a held post's next attempt decides on the read that held it."""
    from igpreflight.publish.steps import gate

    return lambda: patched(gate, "reread_done", lambda rt, spec: True)


def unknown_errors_refused() -> Callable[[], object]:
    """i19d's first find back: an "unknown outcome" error on media_publish (code 2 in a
    400, -1/2207001) taken for a refusal, the resend then answered 2207006 and a new
    container was made while Instagram was still publishing the first."""
    from igpreflight.publish.steps import publishing

    return lambda: patched(
        publishing, "maybe_done", lambda err: err.uncertain or (err.http_status or 0) >= 500
    )


def remake_at_once() -> Callable[[], object]:
    """The trial's find back: -1/2207032 on media_publish makes a new container at once."""
    from igpreflight.publish.steps import publishing

    return lambda: patched(publishing, "REMAKE_OUTCOME", set())


def gone_is_unreadable() -> Callable[[], object]:
    """i19d's second find back: a container read 100/33 leaves the post uncertain."""
    from igpreflight.publish.steps import verdicts

    return lambda: patched(verdicts, "gone", lambda err: False)


REGRESSIONS: dict[str, tuple[Schedule, Callable[[], Callable[[], object]] | None]] = {
    # 1: two workers; the first dies inside media_publish while Instagram still publishes
    # (60 s); the second takes over at once, reads FINISHED, gets 2207006.
    "defect1_killed_inside_media_publish": (
        Schedule(
            seed=7,
            posts=("story", "bare", "image"),
            workers=2,
            processing=60.0,
            stale=0.0,
            faults=(Fault("publish", 1, "crash_after"),),
        ),
        blind_resume,
    ),
    # 2: the answer to media_publish is lost, then the token expires.
    "defect2_lost_answer_then_190": (
        Schedule(seed=3, posts=("bare", "story"), faults=(Fault("publish", 1, "lost190"),)),
        unsettled_fails,
    ),
    # 3: an exception inside a step of the first post; the second must not wait forever.
    "defect3_exception_in_a_step": (
        Schedule(seed=5, posts=("image", "image"), ahead=1, faults=(Fault("create", 1, "raise"),)),
        None,  # brought back in test_simulator.py (it needs the queue to ignore ERROR)
    ),
    # 4: media_publish answers 200 without an id and nothing was published.
    "defect4_reply_without_id": (
        Schedule(seed=11, posts=("image", "reel"), faults=(Fault("publish", 1, "no_id"),)),
        no_id_is_published,
    ),
    # Found by the simulator: Instagram slower at publishing (400 s) than the settle
    # window; each resend got 2207006; after three the post ended failed and the next
    # run made a new container. Now 2207006 doubles the window, and the post ends
    # uncertain, never failed.
    "sim_slow_publish_resent_is_not_failed": (
        Schedule(
            seed=0,
            posts=("image", "image"),
            accounts=2,
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(
                Fault("publish", 1, "crash_before"),
                Fault("publish", 3, "crash_before"),
                Fault("publish", 4, "timeout"),
            ),
        ),
        None,
    ),
    # Found by the simulator: a worker killed right after Instagram took media_publish,
    # which takes 400 s (longer than the settle window); the resumed post settles
    # FINISHED, sends again, gets 190 and ended failed; the next run made a new
    # container: posted twice. A post sent once is never failed now.
    "sim_resent_then_190_is_not_failed": (
        Schedule(
            seed=0,
            posts=("image",),
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(
                Fault("limit", 3, "lost190"),
                Fault("write", 2, "crash_before"),
                Fault("publish", 1, "crash_after"),
            ),
        ),
        None,
    ),
    # Found by the simulator: the resumed post settled FINISHED (Instagram takes 400 s),
    # and by its next gate its own earlier publish had landed: reported "already on
    # Instagram". A post sent before now settles its container when the account shows
    # its caption.
    "sim_own_publish_is_not_a_duplicate": (
        Schedule(
            seed=0,
            posts=("image",) * 6,
            accounts=2,
            ahead=1,
            processing=400.0,
            stale=0.0,
            faults=(
                Fault("write", 44, "crash_after"),
                Fault("publish", 1, "crash_before"),
                Fault("publish", 2, "crash_after"),
            ),
        ),
        None,
    ),
    # Found against Instagram's own ways (i19d): media_publish answers 400 code 2
    # ("unexpected error") or -1/2207001 ("server error") and publishes all the same,
    # 60 s later. Taken for a refusal, the resend got 2207006 and a new container was
    # published: posted twice. These errors are now uncertain: settled from the container.
    "i19d_unknown_error_on_media_publish_published_anyway": (
        Schedule(
            seed=1,
            posts=("story", "bare", "image"),
            processing=60.0,
            faults=(Fault("publish", 1, "unknown_done"),),
        ),
        unknown_errors_refused,
    ),
    "i19d_server_error_on_media_publish_published_anyway": (
        Schedule(
            seed=1,
            posts=("bare", "image"),
            processing=60.0,
            faults=(Fault("publish", 1, "e2207001_done"),),
        ),
        unknown_errors_refused,
    ),
    # Found against Instagram's own ways (i19d): a lost media_publish request, then the
    # container is gone (100/33 "Unsupported get request") while the post settles: it
    # stayed uncertain on every run and held the account's queue forever. Past the
    # settle window a gone container is dead, as EXPIRED (a published one reads
    # PUBLISHED), unless the account's media show the post.
    "i19d_container_gone_while_settling": (
        Schedule(
            seed=1,
            posts=("bare", "image"),
            faults=(Fault("publish", 1, "drop"), Fault("status", 6, "gone")),
        ),
        gone_is_unreadable,
    ),
    # Found by the publishing trial: media_publish answers -1/2207032 ("Create media
    # fail, please try to re-create media") and publishes all the same, 60 s later. A
    # new container was made at once and published too: posted twice. Now settled
    # first, as the "unknown outcome" errors are.
    "trial_2207032_on_media_publish_published_anyway": (
        Schedule(
            seed=1,
            posts=("bare", "image"),
            processing=60.0,
            faults=(Fault("publish", 1, "e2207032_done"),),
        ),
        remake_at_once,
    ),
    # ...and refused for real, twice: settled FINISHED past the window and sent again
    # for the same container each time, then published once the faults stop.
    "trial_2207032_on_media_publish_refused": (
        Schedule(
            seed=1,
            posts=("image", "story"),
            faults=(Fault("publish", 1, "e2207032"), Fault("publish", 2, "e2207032")),
        ),
        None,
    ),
    # Found by the simulator against a first fix of the trial's find, which took a
    # container answered 2207032 twice for dead once it read FINISHED past the window:
    # the resend after a crash was the one published anyway, slower (400 s) than the
    # window, and the new container was published too. A container sent before is never
    # dead while it reads FINISHED: it is sent again (2207006 while still publishing).
    "trial_2207032_on_a_resend_while_instagram_is_slow": (
        Schedule(
            seed=0,
            posts=("image", "image"),
            ahead=0,
            processing=400.0,
            stale=0.0,
            faults=(Fault("publish", 2, "crash_before"), Fault("publish", 3, "e2207032_done")),
        ),
        None,
    ),
    # 6: the quota runs out at media_publish; once it is back, the held posts go.
    "defect6_held_posts_re_read_the_quota": (
        Schedule(seed=13, posts=("image", "image", "bare"), faults=(Fault("publish", 1, "quota"),)),
        holds_on_the_old_read,
    ),
}

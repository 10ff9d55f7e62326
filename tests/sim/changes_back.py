"""The changes that bring each kept defect back (schedules.py's REGRESSIONS): with one
applied, its schedule must fail a property, so a kept seed is never a test that
cannot fail (test_simulator.py, test_regression_schedule_catches_its_defect)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
        # ...and the later guard that reads a failed attempt's containers before the
        # next one sends (sim19), which now keeps even this post from going out twice.
        unread = earlier_unread_before_sending()
        with patched(workflow, "settle", settle), patched(workflow.Post, "uncertain", fails), unread():  # fmt: skip
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

    @contextmanager
    def both() -> Iterator[None]:
        # Since the second trial a resend answered 2207006 is settled too (resent_busy):
        # the defect needs both guards gone.
        refused = lambda err: err.uncertain or (err.http_status or 0) >= 500  # noqa: E731
        guards = (patched(publishing, "maybe_done", refused), busy_resend_remakes()())
        with guards[0], guards[1], no_settle_after_refusals():
            yield

    return both


def remake_at_once() -> Callable[[], object]:
    """The trial's find back: -1/2207032 on media_publish makes a new container at once."""
    from igpreflight.publish.steps import publishing

    return lambda: patched(publishing, "REMAKE_OUTCOME", set())


def gone_is_unreadable() -> Callable[[], object]:
    """i19d's second find back: a container read 100/33 leaves the post uncertain."""
    from igpreflight.publish.steps import verdicts

    return lambda: patched(verdicts, "gone", lambda err: False)


@contextmanager
def no_settle_after_refusals() -> Iterator[None]:
    """Since the second trial a send step whose refused media_publish went out is
    settled, never failed nor remade (publishing.after_refusals): a second guard that
    the defects below need gone too."""
    from igpreflight.publish.steps import publishing

    with patched(publishing, "after_refusals", lambda *args: None):
        yield


def undocumented_unknowns_refused() -> Callable[[], object]:
    """The second trial's first find back: Instagram's own error codes with a subcode
    Meta does not document, or none (1/99, a bare -1), taken for refusals."""
    from igpreflight.publish.steps import publishing

    return lambda: patched(publishing, "unknown_outcome", lambda err: False)


def published_elsewhere_is_finished() -> Callable[[], object]:
    """The second trial's second find back: a container read PUBLISHED before its post
    sent media_publish is taken for FINISHED."""
    from igpreflight.publish.steps import containers

    @contextmanager
    def both() -> Iterator[None]:
        # Since this session the builder's retries read the container (PUBLISHED: never
        # sent again) and settle it before a new one: those guards go too.
        with patched(containers, "SENT_BY_OTHERS", frozenset()), builder_remakes():
            yield

    return both


def busy_resend_remakes() -> Callable[[], object]:
    """The second trial's third find back: a resend after a refusal answered 2207006
    (still publishing) is taken for a lost container."""
    from igpreflight.publish.steps import publishing

    @contextmanager
    def both() -> Iterator[None]:
        busy = patched(publishing, "resent_busy", lambda err, tries: False)
        with busy, no_settle_after_refusals():
            yield

    return both


def held_forgets_the_send() -> Callable[[], object]:
    """The simulator's find on the second trial's faults back: a post held after a
    refused media_publish forgets that it went out."""
    from dataclasses import replace

    from igpreflight.publish.durable import workflow
    from igpreflight.publish.steps.results import Held

    real = workflow.send

    def send(rt, spec, cid, sent_before, fresh):  # noqa: ANN001, ANN202
        got = real(rt, spec, cid, sent_before, fresh)
        return replace(got, sent=False) if isinstance(got, Held) else got

    return lambda: patched(workflow, "send", send)


@contextmanager
def builder_remakes() -> Iterator[None]:
    """This session's find back: 24/2207008 on media_publish is a refusal, retried blind
    (no read of the container, a 2207006 on a retry taken for a lost container) and
    then a new container, as SPEC's table says, although Instagram answers 2207008 too
    once it has carried out a "refused" send."""
    from igpreflight.publish.steps import publishing
    from igpreflight.publish.steps.results import Recreate

    def remake(rt, spec, cid, err, times):  # noqa: ANN001, ANN202
        return Recreate(publishing.V.failed(rt, spec.account, err, None))

    with (
        patched(publishing, "builder_spent", remake),
        patched(publishing, "_ready", lambda rt, spec, cid: None),
        patched(publishing, "resent_busy", lambda err, tries: False),
        no_settle_after_refusals(),
        earlier_unread_before_sending()(),  # sim20: it reads the first one before sending
    ):
        yield


def builder_refusal_remakes() -> Callable[[], object]:
    return lambda: builder_remakes()


def refused_finished_is_resent() -> Callable[[], object]:
    """The genuine kind back: a container whose media_publish answers 2207008 and that
    reads FINISHED through the settle window is sent again, for ever, never taken for
    dead: its post stays uncertain until the container expires (24 h)."""
    from igpreflight.publish.durable import workflow

    real = workflow.settle

    def settle(rt, spec, cid, since, window=None, refused=False):  # noqa: ANN001, ANN202
        return real(rt, spec, cid, since, window)

    return lambda: patched(workflow, "settle", settle)


def refused_resend_settled_at_once() -> Callable[[], object]:
    """The simulator's find against this session's first fix back: a 2207008 to a
    container sent before is settled at once as `refused` (no retries), so a resend
    Instagram carries out slower than the settle window is taken for dead."""
    from igpreflight.publish.steps import publishing
    from igpreflight.publish.steps.results import SettleAgain

    real = publishing._answer

    def answer(rt, spec, cid, err, sent_before):  # noqa: ANN001, ANN202
        if sent_before and (err.code, err.subcode) == (24, 2207008):
            return SettleAgain(cid, "2207008", rt.now(), refused=True)
        return real(rt, spec, cid, err, sent_before)

    @contextmanager
    def both() -> Iterator[None]:
        # pub13's longer wait before dead (REFUSED_WINDOWS) stops this defect too
        with patched(publishing, "_answer", answer), patched(publishing, "REFUSED_WINDOWS", 1):
            yield

    return both


def media_id_lookup_fails_the_post() -> Callable[[], object]:
    """A container found published by someone else whose media id lookup raises ends
    the post failed (its next attempt makes a new container)."""
    from igpreflight.publish.steps import containers
    from igpreflight.publish.steps.results import Published
    from igpreflight.states import MediaIdSource

    def published_elsewhere(rt, spec, created):  # noqa: ANN001, ANN202
        media_id = containers.find_media(rt, spec, created)
        return Published(media_id, MediaIdSource.CONTAINER, rt.now())

    @contextmanager
    def back() -> Iterator[None]:
        # The failed post's next attempt reading its containers first (sim19) now
        # keeps it from going out twice: that guard goes too.
        unread = earlier_unread_before_sending()
        with patched(containers, "published_elsewhere", published_elsewhere), unread():
            yield

    return back


def remake_refused_is_resent() -> Callable[[], object]:
    """Session pub13's find back: a container that reads FINISHED and answers -1/2207032
    at every media_publish is never taken for dead: settled and sent again until it
    expires (24 h), its post uncertain, its account's later posts held behind it."""
    from igpreflight.publish.durable import workflow

    return lambda: patched(workflow, "REMAKE_REFUSALS", 10**9)


def one_remake_refusal_is_dead() -> Callable[[], object]:
    """Too few refusals counted: a single 2207032 on a container sent before, FINISHED
    through the window after it, taken for dead; a resend carried out slower than the
    window is then published beside the new container (with dead after one window, as
    first written: REFUSED_WINDOWS stops this defect too)."""
    from igpreflight.publish.durable import workflow
    from igpreflight.publish.steps import publishing

    @contextmanager
    def both() -> Iterator[None]:
        with patched(workflow, "REMAKE_REFUSALS", 1), patched(publishing, "REFUSED_WINDOWS", 1):
            yield

    return both


def refused_dead_after_one_window() -> Callable[[], object]:
    """A refused container taken for dead once it reads FINISHED through one settle
    window after its last refused send: a send refused and carried out slower than the
    window is published beside the new container."""
    from igpreflight.publish.steps import publishing

    return lambda: patched(publishing, "REFUSED_WINDOWS", 1)


def published_elsewhere_lets_the_line_go() -> Callable[[], object]:
    """A post found published by someone else before its turn ends without naming the
    post it had to wait for: the account's next post goes out before that one."""
    from igpreflight.publish.durable import workflow
    from igpreflight.states import PostState

    real = workflow.Post.view

    def view(self, state, **kw):  # noqa: ANN001, ANN003, ANN202
        if state == PostState.PUBLISHED:
            kw.pop("before_turn", None)
        return real(self, state, **kw)

    return lambda: patched(workflow.Post, "view", view)


def before_turn_waits_on_its_attempt() -> Callable[[], object]:
    """The first fix of the line (3975dd4, reverted): the posts behind a post that ended
    before its turn wait on the very attempt it named, never on the one that took that
    one up, so once it ended held they end held behind it at every attempt."""
    from igpreflight.publish.durable import ops, workflow

    def wait_turn(prev, shown=None, waiter=None):  # noqa: ANN001, ANN202
        return ops.WaitTurn(prev, shown)

    return lambda: patched(workflow, "WaitTurn", wait_turn)


def own_container_is_a_duplicate() -> Callable[[], object]:
    """The gate's duplicate taken as it reads (pub17): a media the post's own earlier
    container became (the phone app published it, and a crash lost the record) is
    reported `duplicate`, not published."""
    from igpreflight.publish.steps import containers
    from igpreflight.publish.steps.results import Duplicate

    def whose(rt, spec, ids, media_id):  # noqa: ANN001, ANN202
        return Duplicate(media_id)

    return lambda: patched(containers, "whose", whose)


def earlier_unread_before_sending() -> Callable[[], object]:
    """sim19 back: a post the gate lets through is sent without reading its earlier
    attempts' containers; only a duplicate the gate sees (a caption) is checked."""
    from igpreflight.publish.durable import workflow

    real = workflow._own

    def own(post, ids, media_id):  # noqa: ANN001, ANN202
        if media_id is None:
            return None
        return (yield from real(post, ids, media_id))

    return lambda: patched(workflow, "_own", own)


def rate_limited_read_is_unpublished() -> Callable[[], object]:
    """f57338c back: a read of a post's earlier containers that an error stops (a rate
    limit, the token) is taken for "not published", as a container gone is."""
    from igpreflight.publish.graph.errors import GraphError
    from igpreflight.publish.steps import containers
    from igpreflight.publish.steps.results import Duplicate, Published
    from igpreflight.states import MediaIdSource

    def whose(rt, spec, ids, media_id):  # noqa: ANN001, ANN202
        for cid in reversed(ids):
            try:
                code, _ = rt.retrying(
                    spec.account, spec.settings, lambda c, i=cid: c.container_status(i)
                )
            except GraphError:
                continue
            if code == "PUBLISHED":
                return Published(media_id, MediaIdSource.CONTAINER, rt.now())
        return Duplicate(media_id)

    return lambda: patched(containers, "whose", whose)


def given_up_container_unread() -> Callable[[], object]:
    """sim20's find back: before it sends, a post the gate lets through reads only its
    earlier attempts' containers, not one this attempt gave up on (read errors)."""
    from igpreflight.publish.durable import workflow

    real = workflow._own

    def own(post, ids, media_id):  # noqa: ANN001, ANN202
        if media_id is None:
            inherited = post.spec.inherit.earlier if post.spec.inherit else ()
            ids = tuple(cid for cid in ids if cid in inherited)
        return (yield from real(post, ids, media_id)) if ids else None

    return lambda: patched(workflow, "_own", own)


def failed_read_is_unpublished() -> Callable[[], object]:
    """sim20's second find back: a read of a post's other containers answered 5xx
    through every retry is taken for "not published"."""
    from igpreflight.publish.graph.table import ErrorClass
    from igpreflight.publish.steps import containers

    return lambda: patched(containers, "UNREAD_FAILS", frozenset({ErrorClass.RECONNECT_AUTH}))

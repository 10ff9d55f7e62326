"""A post's life, as a pure sequencer over the durable port (ops.py).

    refused? ............................................ failed (no call)
    uncertain (an earlier attempt's unseen media_publish) -> settle it first
    containers: create -> processing (poll) ............. a carousel's children first
    wait for the account's previous post ................ strict order per account
    wait for publish_at ................................. durable
    gate: duplicate? quota (held)? ...................... read fresh before a hold
    media_publish (intent, send) ........................ published | uncertain
    uncertain -> settle: PUBLISHED | FINISHED past the window (send again, same
                 container; after 2207008, or 2207032/53 twice: dead) | dead (a new
                 container) | unreadable (ends uncertain)

The generator yields operations and never touches a database, the network or a
clock itself: DBOS drives it in production, the simulator in tests. Whatever happens
inside, it ends with a PostView: an exception of its own ends the post failed (or
uncertain, when media_publish may have gone out), so no queue ever waits on it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from igpreflight.publish.durable.ops import Now, Op, Peek, Show, SleepUntil, Step, WaitTurn
from igpreflight.publish.durable.view import PostView
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.steps import containers as C
from igpreflight.publish.steps.gate import gate
from igpreflight.publish.steps.guard import one_line
from igpreflight.publish.steps.publishing import REMAKE_REFUSALS, intent, send, settle
from igpreflight.publish.steps.results import (
    Created,
    Duplicate,
    Failed,
    Held,
    NotPublished,
    PostError,
    Proceed,
    Published,
    Ready,
    Recreate,
    SettleAgain,
    StepCrashed,
    Turn,
    Unseen,
    Unsettled,
)
from igpreflight.publish.steps.spec import EARLIER_KEPT, PostSpec
from igpreflight.states import MediaIdSource, MediaType, PostState

Life = Generator[Op, Any, PostView]
S = PostState


class Post:
    """What one execution of the workflow knows so far (rebuilt on replay)."""

    def __init__(self, spec: PostSpec) -> None:
        self.spec = spec
        s = spec.settings
        self.rounds_left = s.recreate_attempts + 1
        self.resends = 0
        self.container: str | None = None
        self.created_at: float | None = None
        self.unchecked = False  # an earlier attempt's container: read it before use
        self.kids: tuple[str, ...] | None = None
        self.sent_before = False
        self.uncertain_since: float | None = None
        self.why = ""
        self.had_turn = not spec.prev
        self.waited_time = spec.publish_at is None
        self.gated = False
        self.last_error: PostError | None = None
        self.settling_inherited = False  # an earlier attempt's unseen media_publish
        self.window = s.settle_window  # doubled each time Instagram says it still publishes
        self.looked_for_itself = False  # a duplicate of a post sent before: settled first
        self.refused = False  # its last media_publish got 2207008 (see publishing.settle)
        self.remakes = 0  # its last sends in a row answered -1/2207032 or -1/2207053
        # Top containers this post's attempts made: the gate's duplicate may be one of them.
        self.made: tuple[str, ...] = spec.inherit.earlier if spec.inherit else ()

    def note_made(self, cid: str) -> None:
        if cid not in self.made:
            self.made = (*self.made, cid)[-EARLIER_KEPT:]

    def view(self, state: PostState, **kw: Any) -> PostView:
        spec = self.spec
        fields: dict[str, Any] = {
            "account": spec.account.name,
            "post_id": spec.post.id,
            "media_type": spec.media_type,
            "container_id": self.container,
            "created_at": self.created_at if self.container else None,
            "sent_before": self.sent_before,
            "uncertain_since": self.uncertain_since,
            "made": self.made or None,
            **kw,
        }
        return PostView(state, **fields)

    def uncertain(self, error: PostError) -> PostView:
        message = (
            f"media_publish for container {self.container} was sent and its outcome not"
            f" seen ({self.why}); {error.message}; the next run or worker settles it first"
            " (never a second post)"
        )
        return self.view(S.UNCERTAIN, error=PostError(error.error_class, message, error.code, error.subcode, error.rule))  # fmt: skip

    def failed(self, error: PostError) -> PostView:
        # Never failed once media_publish was sent for its container (unless that
        # container died): a refusal now says nothing of an earlier send Instagram may
        # still be carrying out, and a failed post's next attempt makes a new container.
        if self.uncertain_since is not None or self.sent_before:
            return self.uncertain(error)
        return self.view(S.FAILED, error=error, before_turn=self.before_turn())

    def before_turn(self) -> str | None:
        """Ending before its turn (failed, or published by someone else): the post it
        had to wait for, which the posts after it wait for instead."""
        return None if self.had_turn else self.spec.prev

    def held(self, got: Held) -> PostView:
        if self.uncertain_since is not None:
            return self.uncertain(got.error)
        return self.view(S.HELD, until=got.until, error=got.error)

    def crashed(self, message: str) -> PostView:
        return self.failed(PostError(ErrorClass.PERMANENT.value, message))

    def setback(self, got: Any) -> PostView | None:
        """A step that did not give what the post needs: the end, or None to go on."""
        if isinstance(got, Recreate):
            self.last_error = got.error
            return None
        if isinstance(got, Held):
            return self.held(got)
        if isinstance(got, Failed):
            return self.failed(got.error)
        if isinstance(got, StepCrashed):
            return self.crashed(got.message)
        return self.crashed(f"unexpected step result {type(got).__name__}")


def post_life(spec: PostSpec) -> Life:
    """The workflow of one post (see the module docstring)."""
    post = Post(spec)
    try:
        return (yield from _life(post))
    except Exception as exc:  # a bug of ours must end this post, not hang its account
        return post.crashed(one_line(exc))


def _life(post: Post) -> Life:
    spec = post.spec
    if spec.refusal is not None:
        return post.failed(spec.refusal)
    inh = spec.inherit
    if inh is not None and inh.published:
        source = MediaIdSource.JOURNAL
        return post.view(S.PUBLISHED, media_id=inh.media_id, source=source, already=True)
    if inh is not None and inh.container_id:
        post.container, post.created_at = inh.container_id, inh.created_at
        post.note_made(inh.container_id)
        post.sent_before, post.unchecked = inh.sent_before, not inh.tainted
        if inh.tainted:
            post.why = "an earlier attempt's media_publish"
            post.uncertain_since = inh.since if inh.since is not None else (yield Now())
            post.settling_inherited = True
    if spec.prev and post.uncertain_since is None:
        # Behind a post that already ended held (or uncertain): held too, no container made.
        end = _behind(post, (yield Peek(spec.prev)))
        if end is not None:
            return end
    while True:
        if post.uncertain_since is not None:
            end = yield from _settle(post)
        elif post.container is None:
            end = yield from _make_container(post)
        elif post.unchecked:
            end = yield from _look(post)
        elif not post.had_turn:
            end = yield from _wait_turn(post)
        elif not post.waited_time:
            end = yield from _until_publish_at(post)
        elif not post.gated:
            end = yield from _gate(post)
        else:
            end = yield from _send(post)
        if end is not None:
            return end


def _make_container(post: Post) -> Generator[Op, Any, PostView | None]:
    spec = post.spec
    if post.rounds_left <= 0:
        last = post.last_error or PostError(ErrorClass.PERMANENT.value, "no container")
        n = spec.settings.recreate_attempts + 1
        message = f"gave up after {n} containers: {last.message}"
        return post.failed(PostError(last.error_class, message, last.code, last.subcode, last.rule))
    post.rounds_left -= 1
    carousel = spec.media_type == MediaType.CAROUSEL
    phases = (C.CHILDREN, C.TOP) if carousel and post.kids is None else (C.TOP,)
    for phase in phases:
        yield Show(post.view(S.CREATING, step="creating containers"))
        kids = post.kids if phase == C.TOP else None
        made = yield Step("create", C.create, (spec, phase, kids, None))
        if not isinstance(made, Created):
            post.kids = None
            return post.setback(made)
        ids, at = made.ids, made.at
        if phase == C.TOP:
            post.note_made(ids[0])
        fixes = 0
        while True:
            k = len(ids)
            step = f"Instagram is processing {k} container{'s' if k > 1 else ''}"
            yield Show(post.view(S.PROCESSING, step=step))
            ready = yield Step("wait", C.wait_ready, (spec, phase, ids, at))
            if isinstance(ready, Ready):
                break
            if isinstance(ready, Published):  # published by someone else: never sent
                post.container, post.created_at = ids[0], at
                return post.view(S.PUBLISHED, media_id=ready.media_id, source=ready.source, published_at=ready.at, before_turn=post.before_turn())  # fmt: skip
            i = ready.index if isinstance(ready, Recreate) else None
            if phase == C.CHILDREN and i is not None and fixes < spec.settings.recreate_attempts:
                fixes += 1  # a child that failed is made again alone
                again = yield Step("create", C.create, (spec, phase, None, (i,)))
                if not isinstance(again, Created):
                    post.kids = None
                    return post.setback(again)
                ids, at = (*ids[:i], *again.ids, *ids[i + 1 :]), again.at
                continue
            post.kids = None
            return post.setback(ready)
        if phase == C.CHILDREN:
            post.kids = ids
        else:
            post.container, post.created_at, post.sent_before = ids[0], at, False
    return None


def _look(post: Post) -> Generator[Op, Any, PostView | None]:
    """A held post's container, from an earlier attempt: still FINISHED?"""
    post.unchecked = False
    got = yield Step("look", C.look, (post.spec, post.container))
    if isinstance(got, Ready):
        return None
    if isinstance(got, Published):
        return post.view(S.PUBLISHED, source=got.source, published_at=got.at, already=True, before_turn=post.before_turn())  # fmt: skip
    if isinstance(got, Recreate):  # it can no longer be published: a new one is safe
        post.container, post.sent_before = None, False
    return post.setback(got)


def _wait_turn(post: Post) -> Generator[Op, Any, PostView | None]:
    """Until the account's previous post has ended. Behind a scheduled one this post
    says so and waits; behind a held or uncertain one it ends held (the next run or
    worker takes both up again, in order)."""
    spec = post.spec
    prev, shown, waiter = spec.prev, None, None
    while prev:
        turn = yield WaitTurn(prev, shown, waiter)
        if not isinstance(turn, Turn):
            return post.setback(turn)
        state = turn.state
        behind = turn.behind or turn.prev.split(":", 2)[-1]
        if state == S.SCHEDULED:
            shown = state
            until = max(turn.until or 0.0, spec.publish_at or 0.0) or None
            error = PostError(ErrorClass.WAIT_QUOTA.value, f"after {behind}, scheduled")
            yield Show(post.view(S.SCHEDULED, until=until, behind=behind, error=error))
            continue
        if state in (S.FAILED, S.PUBLISHED) and turn.before_turn:
            # It ended before its turn (failed, or published by someone else, the phone
            # app): wait for its own previous, or the attempt that took that one up.
            prev, shown, waiter = turn.before_turn, None, spec.wid
            continue
        if state in (S.HELD, S.UNCERTAIN):
            return _behind(post, turn)
        break
    post.had_turn = True
    return None


def _behind(post: Post, turn: Any) -> PostView | None:
    """Held behind the account's previous post when that one ended held or uncertain
    (the next run or worker takes both up again, in order); None otherwise."""
    if not isinstance(turn, Turn) or turn.state not in (S.HELD, S.UNCERTAIN):
        return None
    behind = turn.behind or turn.prev.split(":", 2)[-1]
    reason = f": {turn.reason}" if turn.reason else ""
    error = PostError(ErrorClass.WAIT_QUOTA.value, f"after {behind}, {turn.state}{reason}")
    return post.view(S.HELD, until=turn.until, behind=behind, error=error)


def _until_publish_at(post: Post) -> Generator[Op, Any, PostView | None]:
    at = post.spec.publish_at
    assert at is not None
    post.waited_time = True
    if (yield Now()) < at:
        yield Show(post.view(S.SCHEDULED, until=at))
        yield SleepUntil(at)
    return None


def _gate(post: Post) -> Generator[Op, Any, PostView | None]:
    yield Show(post.view(S.PUBLISHING, step="reading the quota and the recent media"))
    got = yield Step("gate", gate, (post.spec,))
    if isinstance(got, Proceed):
        post.gated = True
        # Its other containers (earlier attempts', one it gave up on after read errors),
        # published unseen by the phone app: no duplicate the gate sees (no caption).
        earlier = tuple(cid for cid in post.made if cid != post.container)
        return (yield from _own(post, earlier, None)) if earlier else None
    if isinstance(got, Duplicate):
        if post.sent_before and not post.looked_for_itself:
            # Its own earlier media_publish, taking effect after a settle that read
            # FINISHED: the container says so. A duplicate only if it still is one then.
            post.looked_for_itself = True
            post.uncertain_since, post.why = (yield Now()), f"the account shows {got.media_id}"
            return None
        # It may be one of its own containers whose record a crash lost: published.
        end = (yield from _own(post, post.made, got.media_id)) if post.made else None
        error = PostError("duplicate", f"already on Instagram ({got.media_id})")
        return end or post.view(S.DUPLICATE, media_id=got.media_id, error=error)
    return post.setback(got)


def _own(post: Post, ids: tuple[str, ...], media_id: str | None) -> Generator[Op, Any, PostView | None]:  # fmt: skip
    """Published when one of the post's containers `ids` reads PUBLISHED, else None."""
    got = yield Step("whose", C.whose, (post.spec, ids, media_id))
    if isinstance(got, Published):
        return post.view(S.PUBLISHED, media_id=got.media_id, source=got.source, already=True)
    return None if isinstance(got, Duplicate) else post.setback(got)


def _send(post: Post) -> Generator[Op, Any, PostView | None]:
    spec = post.spec
    yield Show(post.view(S.PUBLISHING, step="media_publish"))
    fresh: list[bool] = []
    yield Step("intent", intent, (fresh,))
    got = yield Step("send", send, (spec, post.container, post.sent_before, fresh))
    post.gated = False  # the quota slot is used, or given back
    if isinstance(got, Published):
        return post.view(S.PUBLISHED, media_id=got.media_id, source=got.source, published_at=got.at)  # fmt: skip
    remake = isinstance(got, (Unseen, SettleAgain)) and got.remake
    post.remakes = post.remakes + 1 if remake else 0
    refused = isinstance(got, SettleAgain) and got.refused
    post.refused = refused or post.remakes >= REMAKE_REFUSALS
    if isinstance(got, (Unseen, SettleAgain)):
        post.uncertain_since, post.why, post.sent_before = got.at, got.why, True
        if isinstance(got, SettleAgain) and got.busy:
            post.window *= 2  # Instagram publishes slower than the window: wait longer
        return None
    if isinstance(got, StepCrashed):  # it may have been sent before it raised
        post.uncertain_since, post.why, post.sent_before = (yield Now()), got.message, True
        return None
    if isinstance(got, Recreate):
        post.container = None  # a carousel keeps its children: only the parent is made again
    if isinstance(got, Held) and got.sent:
        post.sent_before = True  # its next attempt settles before it makes a new container
    return post.setback(got)


def _settle(post: Post) -> Generator[Op, Any, PostView | None]:
    spec = post.spec
    since = post.uncertain_since
    assert since is not None and post.container is not None
    step = f"settling: reading container {post.container}"
    yield Show(post.view(S.UNCERTAIN, step=step))
    got = yield Step("settle", settle, (spec, post.container, since, post.window, post.refused))
    if isinstance(got, Published):
        post.uncertain_since = None
        already = post.settling_inherited  # published by the attempt before this one
        return post.view(S.PUBLISHED, media_id=got.media_id, source=got.source, published_at=got.at, already=already)  # fmt: skip
    post.settling_inherited = False
    if isinstance(got, NotPublished):
        post.uncertain_since = None
        if got.dead:  # it can never be published: a new container is safe now
            post.container, post.sent_before, post.kids = None, False, None
            post.remakes = 0
            post.last_error = PostError(
                ErrorClass.RECREATE_CONTAINER.value, f"container {got.container_id} {got.status}"
            )
            return None
        post.resends += 1
        if post.resends > spec.settings.resends:
            # Sent that often without an answer: it may still be published. Never failed
            # (a new attempt would make a new container): the next run settles it first.
            post.uncertain_since = yield Now()
            message = f"media_publish sent {post.resends} times, none seen through"
            return post.uncertain(PostError(ErrorClass.RETRY_SAME.value, message))
        return None  # FINISHED: through the gate again, then media_publish for it again
    if isinstance(got, Unsettled):
        return post.uncertain(got.error)
    if isinstance(got, StepCrashed):
        return post.uncertain(PostError(ErrorClass.PERMANENT.value, got.message))
    return post.uncertain(PostError(ErrorClass.PERMANENT.value, f"unexpected {got!r}"))

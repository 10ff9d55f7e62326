"""Steps: media_publish, and settling a post whose media_publish was not seen.

The rule (docs/publishing.md): after a media_publish whose outcome was not seen, the
post is uncertain and the only next step is `settle`: read the container until it is
PUBLISHED (published), or until it has read FINISHED for longer than Instagram takes
to carry out a media_publish (then send it again, for the same container), or dead
(EXPIRED, ERROR: a new container may be made). An answer Instagram gives while it
still publishes, or has published (2207006, 2207008, EXPIRED), to a container already
sent once is `SettleAgain`, never a reason for a new container; so is 2207008 after
the builder's retries, on any container (it is settled, then dead only if it still
reads FINISHED through the window: `builder_spent`, `settle`).
"""

from __future__ import annotations

from dataclasses import replace

from igpreflight.publish.graph.errors import GraphError, container_status_error
from igpreflight.publish.graph.table import GRAPH_ERRORS, ErrorClass
from igpreflight.publish.steps import verdicts as V
from igpreflight.publish.steps.gate import (
    LISTED_TYPES,
    epoch,
    note_published,
    quota_used_up,
    recent_media,
    release_quota,
)
from igpreflight.publish.steps.results import (
    Failed,
    Held,
    NotPublished,
    PostError,
    Published,
    Recreate,
    SettleAgain,
    Unseen,
    Unsettled,
)
from igpreflight.publish.steps.runtime import Runtime, quota_error
from igpreflight.publish.steps.spec import PostSpec
from igpreflight.states import MediaIdSource

# What Instagram answers to a second media_publish for a container it is publishing
# (2207006) or that expired meanwhile (2207020); once it has published it, 2207008,
# which is also a refusal of a fresh container: retried first (see `builder_spent`).
SETTLE_ANSWERS = {(24, 2207006), (-2, 2207020)}
SLACK = 300.0  # clock skew allowed when matching the account's media to a publish
GONE = "GONE"  # how settle reads a container Graph says no longer exists (100/33)


def intent(rt: Runtime, fresh: list[bool]) -> None:
    """Recorded just before media_publish. Its body runs only in the execution that
    goes on to send: a resumed workflow replays it without running it, so `send` knows
    an earlier execution may have sent the call (see `send`)."""
    fresh.append(True)


def send(
    rt: Runtime, spec: PostSpec, cid: str, sent_before: bool, fresh: list[bool]
) -> Published | Unseen | SettleAgain | Held | Recreate | Failed:
    """POST /{ig-user-id}/media_publish for `cid`, once; never before publish_at."""
    acc, settings = spec.account, spec.settings
    if not fresh:
        why = "resumed after an interruption: an earlier run may have sent media_publish"
        return Unseen(cid, why, rt.now())
    if spec.publish_at is not None and rt.now() < spec.publish_at:
        rt.clock.sleep(spec.publish_at - rt.now())
    stopped = rt.stopped(acc)
    if stopped is not None:
        release_quota(rt, spec)
        return Failed(stopped)
    builder = tries = rate_waits = 0
    while True:
        try:
            media_id = rt.call(acc, settings, lambda c: c.publish(acc.ig_user_id, cid))
        except GraphError as err:
            busy = resent_busy(err, tries + builder)
            got = _answer(rt, spec, cid, err, sent_before or busy)
            if got is None:  # 2207008: not ready yet, published, or its builder gone
                builder += 1
                if builder > settings.builder_retries:
                    return builder_spent(rt, spec, cid, err, builder)
                wait = settings.builder_window / (settings.builder_retries + 1)
                rt.wait(settings.fixed_wait(wait), 0)
                got = _ready(rt, spec, cid)  # PUBLISHED already: never sent again
                if got is None:
                    continue
            elif got == "rate":  # a short rate limit: as long as the headers say
                rate_waits += 1
                if rate_waits <= settings.rate_waits:
                    rt.clock.sleep(err.usage.wait_seconds or settings.rate_wait_default)
                    continue
                got = V.held(rt, err, settings)
            elif got == "again":  # refused, nothing done: the container decides
                tries += 1
                if tries < settings.retry_attempts:
                    rt.wait(settings.retry_backoff, tries - 1)
                    got = _ready(rt, spec, cid)
                    if got is None:
                        continue
                else:
                    got = Failed(V.failed(rt, acc, err, None))
            reached = bool(tries or builder or rate_waits)  # refused sends went out before
            if (settled := after_refusals(rt, cid, got, reached)) is not None:
                return settled
            if isinstance(got, (Failed, Recreate, Held)):
                release_quota(rt, spec)
            if isinstance(got, Held) and quota_error(err):
                quota_used_up(rt, spec)
            if isinstance(got, Held) and reached:
                # The same, held by usage headers: the held post's next attempt got
                # 2207006 and made a new container.
                got = replace(got, sent=True)
            return got
        if not media_id:
            return Unseen(cid, "media_publish answered without an id", rt.now())
        note_published(rt, spec, media_id)
        return Published(str(media_id), MediaIdSource.MEDIA_PUBLISH, rt.now())


def builder_spent(
    rt: Runtime, spec: PostSpec, cid: str, err: GraphError, times: int
) -> SettleAgain:
    """2207008 through SPEC's retries (1-2 within 2 minutes, the container read before
    each). It is also what Instagram answers once it has published a container, and a
    fresh container's first "refusal" is seen carried out all the same (at once, or
    seconds later): the new container SPEC asks for was posted twice. So the container
    decides first (settle): PUBLISHED is published; EXPIRED, ERROR or gone, or FINISHED
    through the settle window after the last 2207008 (`refused`: a send being carried
    out would have made a retry answer 2207006), can never publish: then a new one."""
    where = V.where(err, None, graph=V.graph_of(rt, spec.account))
    why = f"{where} ({times} times: its container is read before a new one is made)"
    return SettleAgain(cid, why, rt.now(), refused=True)


def after_refusals(rt: Runtime, cid: str, got: object, reached: bool) -> SettleAgain | None:
    """A send step whose earlier media_publish went out and was refused never ends failed
    or with a new container: Instagram may have done it all the same (a 9007 carried
    out, then a container read failing, was failed and posted again by the next run).
    The container decides (settled), as for any media_publish sent before."""
    if not reached or not isinstance(got, (Failed, Recreate)):
        return None
    return SettleAgain(cid, f"media_publish refused, then {got.error.message}", rt.now())


def resent_busy(err: GraphError, tries: int) -> bool:
    """A resend (after a refusal) answered 2207006, still publishing: the "refusal"
    before it is being carried out after all, so the container is settled, never made
    again (a 9007 carried out a second later was posted twice)."""
    return tries > 0 and (err.code, err.subcode) == (24, 2207006)


def _ready(rt: Runtime, spec: PostSpec, cid: str) -> Published | Recreate | Failed | None:
    """Before media_publish is sent again after a refusal: None when the container reads
    FINISHED; Published if it shows PUBLISHED; else what to do instead."""
    acc, settings = spec.account, spec.settings
    for n in range(settings.retry_attempts):
        try:
            code, status = rt.retrying(acc, settings, lambda c: c.container_status(cid))
        except GraphError as err:
            return Failed(V.failed(rt, acc, err, None))
        if code == "FINISHED":
            return None
        if code == "PUBLISHED":
            return Published(find_media(rt, spec, rt.now() - settings.settle_window), MediaIdSource.CONTAINER, rt.now())  # fmt: skip
        if code in ("ERROR", "EXPIRED"):
            return Recreate(V.error_of(container_status_error(cid, code, status)))
        rt.wait(settings.retry_backoff, n)
    message = f"container {cid} is {code or 'not ready'}"
    return Failed(PostError(ErrorClass.RETRY_SAME.value, message))


# Errors that say something went wrong on Instagram's side, not that the call was
# refused: 1 (unknown error), 2 (unexpected error / service unavailable) without a
# subcode of their own, and -1/2207001 (server error).
UNKNOWN_OUTCOME = {(1, None), (2, None), (-1, 2207001)}
# Their codes, with a subcode no table documents (1/99 "An unknown error occurred",
# 2 with a subcode of the day) or none (a bare -1): still Instagram's side, never a
# refusal. A documented subcode (1/2207057, a thumb_offset outside the video) refuses.
UNKNOWN_CODES = {1, 2, -1}
DOCUMENTED_SUBCODES = frozenset(g.subcode for g in GRAPH_ERRORS if g.subcode is not None)
# Instagram's own failures that ask for a new container (-1: its side, like 2207001):
# on media_publish they too come with the post published all the same, so they are
# settled before a new container is made (see `_answer`).
REMAKE_OUTCOME = {(-1, 2207032), (-1, 2207053)}
# How many sends in a row a container may answer with one of them before, still
# FINISHED through the settle window after the last, it is taken for dead (a new
# container). Two: the first answer may be carried out all the same (trial), and the
# resend a settle window later shows whether it is (2207006, or PUBLISHED); one resend
# carried out slower than the window was seen, so a single answer on a container sent
# before is not enough (docs/decisions.md).
REMAKE_REFUSALS = 2
# How many settle windows a refused container (2207008 after the retries, or
# REMAKE_REFUSALS) must read FINISHED after its last send before it is taken for dead.
# A FINISHED read past one window only leads to a resend, which is safe when wrong
# (2207006 shows it); dead is not, so it waits longer than the slowest carried-out
# send the simulator models (400 s against a 180 s window; docs/decisions.md).
REFUSED_WINDOWS = 3


def maybe_done(err: GraphError) -> bool:
    """Whether a media_publish that got `err` may have published all the same: no
    answer, a 5xx, an answer that is not Graph's (HTML, a redirect), an error body in
    a 200, or one of Instagram's "unknown outcome" errors."""
    status = err.http_status or 0
    return (
        err.uncertain
        or status >= 500
        or 200 <= status < 300
        or (err.code, err.subcode) in UNKNOWN_OUTCOME
        or unknown_outcome(err)
    )


def unknown_outcome(err: GraphError) -> bool:
    """1, 2 or -1 with a subcode Meta does not document, or none: an error of Instagram's
    own whose outcome no one knows. Taken for a refusal, 1/99 was sent again while
    Instagram was still publishing (2207006), and a new container made: posted twice."""
    if err.code not in UNKNOWN_CODES:
        return False
    return err.subcode is None or err.subcode not in DOCUMENTED_SUBCODES


def _answer(rt: Runtime, spec: PostSpec, cid: str, err: GraphError, sent_before: bool):
    """What an error answer to media_publish means: a result; "rate" (wait as the
    headers say) or "again" (the same call once the container reads FINISHED); or None
    (24/2207008: the builder's retries, then the container is settled)."""
    acc, settings = spec.account, spec.settings
    pair, cls, now = (err.code, err.subcode), err.error_class, rt.now()
    if maybe_done(err):
        # Sent, and no answer says what happened (lost, time-out, any 5xx, Instagram's
        # "unknown"/"unexpected" error: each is seen with the post published all the
        # same, sometimes seconds later; never taken for "nothing was done").
        return Unseen(cid, V.where(err, None, graph=V.graph_of(rt, acc)), now)
    if pair in REMAKE_OUTCOME and not sent_before:
        # "Create media fail, please re-create": made at once, the new container was
        # published beside the one Instagram went on publishing. Settled instead (sent
        # before, it is SettleAgain below): never a second container while this one may
        # still publish.
        return Unseen(cid, V.where(err, None, graph=V.graph_of(rt, acc)), now, remake=True)
    if pair == (24, 2207008):
        # Fresh or sent before: retried as SPEC says (a retry answered 2207006 shows an
        # earlier send being carried out), then settled (`builder_spent`).
        return None
    if sent_before and (pair in SETTLE_ANSWERS or cls is ErrorClass.RECREATE_CONTAINER):
        why = V.where(err, None, graph=V.graph_of(rt, acc))
        busy, remake = pair == (24, 2207006), pair in REMAKE_OUTCOME
        return SettleAgain(cid, why, now, busy=busy, remake=remake)
    if cls is ErrorClass.WAIT_QUOTA:
        wait = err.usage.wait_seconds or settings.rate_wait_default
        if quota_error(err) or wait > settings.rate_wait_max:
            return V.held(rt, err, settings)
        return "rate"
    if cls is ErrorClass.RETRY_SAME:
        # Refused with a body (9007/2207027 not ready...), or never sent (a refused
        # connection): nothing was done; the same call again once the container is ready.
        return "again"
    if cls is ErrorClass.RECREATE_CONTAINER:
        if pair == (24, 2207006):
            V.not_found(rt, acc, err)  # a repeat stops the account (reconnect-auth)
        error = V.failed(rt, acc, err, None)
        return Recreate(error) if rt.stopped(acc) is None else Failed(error)
    return Failed(V.failed(rt, acc, err, None))


def settle(
    rt: Runtime,
    spec: PostSpec,
    cid: str,
    since: float,
    window: float | None = None,
    refused: bool = False,
) -> Published | NotPublished | Unsettled:
    """Read container `cid` (uncertain since `since`) until it tells: PUBLISHED, or not
    published after the settle window (FINISHED: send again; EXPIRED or ERROR: dead).
    A token error or a long outage leaves the post uncertain (Unsettled). `window`
    (default settings.settle_window) grows when Instagram shows it publishes slower.
    `refused`: its last media_publish, at `since`, got 2207008, which Instagram answers
    once done publishing it (then it reads PUBLISHED) or when its builder is gone, or
    the last REMAKE_REFUSALS got 2207032/2207053; still FINISHED through REFUSED_WINDOWS
    windows, nothing is publishing it and a send is refused: dead."""
    acc, settings = spec.account, spec.settings
    window = settings.settle_window if window is None else window
    errors = reads = 0
    while True:
        try:
            code, _status = rt.call(acc, settings, lambda c: c.container_status(cid))
            errors = 0
        except GraphError as err:
            if not V.gone(err):
                cls = err.error_class
                if cls is ErrorClass.WAIT_QUOTA and not quota_error(err):
                    wait = err.usage.wait_seconds or settings.rate_wait_default
                    if wait <= settings.rate_wait_max:
                        rt.clock.sleep(wait)
                        continue
                if cls is ErrorClass.RETRY_SAME and errors + 1 < settings.settle_reads:
                    errors += 1
                    rt.wait(settings.retry_backoff, errors - 1)
                    continue
                where = V.where(err, None, graph=V.graph_of(rt, acc))
                return Unsettled(cid, V.error_of(err, where))
            # The container no longer exists (100/33): it can never be published, and
            # a published one reads PUBLISHED. Past the window it is dead, as EXPIRED.
            code = GONE
        now = rt.now()
        if code == "PUBLISHED":
            media_id = find_media(rt, spec, since)
            note_published(rt, spec, media_id)
            return Published(media_id, MediaIdSource.CONTAINER, now)
        left = since + window - now
        unsendable = code == GONE or (refused and code == "FINISHED")
        if refused and code == "FINISHED":
            # Dead is for good (a new container), unlike a resend: the refused send gets
            # REFUSED_WINDOWS windows to show it was carried out all the same.
            left += window * (REFUSED_WINDOWS - 1)
        if left <= 0 and unsendable and (media_id := find_media(rt, spec, since)):
            note_published(rt, spec, media_id)  # the account shows it: published after all
            return Published(media_id, MediaIdSource.CONTAINER, now)
        if left <= 0 and code in ("FINISHED", "EXPIRED", "ERROR", GONE):
            release_quota(rt, spec)
            if unsendable and code == "FINISHED":
                return NotPublished(cid, True, "FINISHED, yet media_publish is refused")
            return NotPublished(cid, code != "FINISHED", code)
        if left <= -settings.give_up_video:
            message = f"container {cid} still reads {code or 'nothing'} while settling"
            return Unsettled(cid, PostError(ErrorClass.RETRY_SAME.value, message))
        wait = settings.settle_backoff.jittered(reads, rt.rng)
        rt.clock.sleep(min(wait, left) if left > 0 else wait)
        reads += 1


def find_media(rt: Runtime, spec: PostSpec, since: float) -> str | None:
    """The media id of a post settled from its container: the one media of the
    account's recent media with its caption and type, published since it was sent and
    not one of this database's own; None when none or several match (a story, a
    caption-less post)."""
    caption = (spec.post.caption or "").strip()
    types = LISTED_TYPES.get(spec.media_type)
    if not caption or types is None:
        return None
    ours = rt.ledger.our_media_ids(spec.account.name)
    found = {
        str(m.get("id"))
        for m in recent_media(rt, spec, fresh=True)
        if (m.get("caption") or "").strip() == caption
        and m.get("media_type") in types
        and (epoch(m.get("timestamp")) or 0) >= since - SLACK
        and str(m.get("id")) not in ours
        and m.get("id")
    }
    return found.pop() if len(found) == 1 else None

"""The faults a simulated schedule can hold: what happens on the nth call to an
endpoint (CALL_KINDS) or around the nth recorded write (WRITE_KINDS). Instagram's side
of each is in instagram.py; a new fault found anywhere becomes a kind here and a kept
seed in schedules.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """On the `nth` call (from 1) to `endpoint` (create, status, publish, limit, media,
    any), on the nth read of the kth container made ("status#k"), or on the nth
    recorded write (endpoint "write"), do `kind`."""

    endpoint: str
    nth: int
    kind: str


CALL_KINDS = (
    "crash_before",  # the worker dies before the request leaves
    "crash_after",  # Instagram carries it out (a publish: over `processing`), the worker dies
    "drop",  # lost request: not carried out, no answer (the client cannot tell)
    "lost",  # lost response: carried out, no answer
    "lost190",  # carried out, no answer, and the token expires now (190 from the next call)
    "timeout",  # carried out over `processing` (a publish), the client gives up first
    "e500",  # HTTP 500, code 1: not carried out
    "burst",  # this call and the next 4 (any endpoint): HTTP 500
    "t190",  # the token expires now: every call gets 190 until faults stop
    "t190_renewed",  # the same, but the user renews it before the next run (faults go on)
    "e2207006",  # 24/2207006 without carrying it out
    "e2207008",  # 24/2207008 without carrying it out
    "no_id",  # media_publish: 200 without an id, not carried out
    "no_id_done",  # media_publish: carried out, 200 without an id
    "expire",  # the call's container expires now
    "quota",  # the account's quota is used up until faults stop (9/2207042)
    "rate_short",  # rate limited; the headers say 1 minute
    "rate_long",  # rate limited; the headers say 2 hours
    "raise",  # the call raises an exception of no Graph kind (bad input, a bug)
    # Beyond the faults above, as a new account's Instagram behaves (issue 19, i19d):
    "unknown_done",  # 400, code 2 "unexpected error", and carried out all the same
    "e2207001_done",  # -1/2207001 "server error", and carried out all the same
    "gone",  # the call's container no longer exists: 100/33 on reading it (never a
    #          published one: a published container reads PUBLISHED)
    "usage_long",  # answered, with usage headers at 100 % and 2 hours to regain access
    # Found by the publishing trial: -1/2207032 "Create media fail, please try to
    # re-create media" on media_publish, refused, or carried out all the same.
    "e2207032",
    "e2207032_done",
    # Found by the second publishing trial (tests/test_publish_trial2.py): Instagram's
    # own errors with a subcode no table documents (400, 1/99 "An unknown error
    # occurred"), carried out all the same; a 9007 "not ready" carried out all the same
    # (hostile); and a container read that finds it published by someone else (the
    # phone app, another tool given its id) before its post sent media_publish.
    "e1_99_done",
    "eminus1_done",  # 400, a bare -1 (no subcode), carried out all the same
    "e9007_done",
    "elsewhere",
    # 24/2207008 on media_publish (Meta: a temporary builder error; retry 1-2 times in
    # 2 minutes, then a new container), carried out all the same, over `processing`
    # (0 s: at once); and the genuine kind: the container's builder is gone for good, so
    # it reads FINISHED and every media_publish for it answers 2207008 until it expires
    # (even after the faults stop), or it reads EXPIRED from now on.
    "e2207008_done",
    "e2207008_dead",
    "e2207008_expired",
    # -1/2207032 for a container Instagram refuses for good: it reads FINISHED and
    # every media_publish for it answers 2207032 until it expires (even after the
    # faults stop). Sent again for ever, its post stayed uncertain for 24 h (pub13).
    "e2207032_dead",
)
WRITE_KINDS = ("crash_before", "crash_after")

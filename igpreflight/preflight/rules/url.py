"""URL001..URL006: what Instagram's fetch of a media URL would meet (SPEC section 1, Media URL).

Each rule reads the URL's facts (`preflight.urlfacts.UrlFacts`: what the guard
decided and what one GET gave) and returns a finding when it is broken, or a
`Note` saying what passed or why it could not be judged, which `check-url` and
`upload` print for every rule.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from typing import TYPE_CHECKING

from igpreflight.formats import ACCEPTED_TYPES, bare_type, sniff
from igpreflight.limits import POST_LIMITS
from igpreflight.model import Finding, Severity
from igpreflight.preflight.rules import REGISTRY
from igpreflight.records import record

if TYPE_CHECKING:  # types only: the HTTP stack loads when a URL is fetched, not here
    from igpreflight.net.fetch import Fetch
    from igpreflight.preflight.urlfacts import UrlFacts

PASS, SKIP = "pass", "skip"

# A redirect whose target looks like one of these is a login wall or an error page.
_LOGIN = re.compile(
    r"(^|[/._=-])(log-?in|sign-?in|signin|auth|oauth2?|sso|saml|session|accounts?|captcha|challenge)([/._?=&-]|$)",
    re.I,
)
_ERROR = re.compile(
    r"(^|[/._=-])(error|errors|40[134]|50[0-9]|not-?found|denied|forbidden|unavailable)([/._?=&-]|$)",
    re.I,
)
_LOGIN_QUERY = re.compile(r"(^|&)(next|return_?to|returnurl|redirect_?uri|continue|goto)=", re.I)
_HOURS = POST_LIMITS.min_presign_seconds // 3600
_NOT_FETCHED = "not fetched: the host is refused (URL006)"
_AFTER_URL001 = "not checked: URL001 failed"


@record
class Note:
    """A URL rule that is not broken: it passed, or it could not be judged (skip)."""

    status: str  # pass or skip
    detail: str


Verdict = Finding | Note


@REGISTRY.url_rule(
    "URL001",
    Severity.ERROR,
    "media URL answers 200 to a plain GET, without login redirects",
    graph=(9004, 2207052),
    todo="make the object public",
)
def fetched(f: UrlFacts) -> Verdict:
    """A plain GET answers 200, not via a login or error page, and completes."""
    if f.refused:
        return fetched.finding(f.refused)
    if f.fetch is None:
        return Note(SKIP, _NOT_FETCHED)
    problem = fetch_problem(f)
    if problem:
        return fetched.finding(problem)
    hops = len(f.fetch.redirects)
    if f.fetch.status == 200:
        return Note(
            PASS,
            f"200 after {hops} redirect{'s' if hops != 1 else ''}" if hops else "200, no redirects",
        )
    return Note(SKIP, "not checked")


def fetch_problem(f: UrlFacts) -> str | None:
    """Why the fetch fails URL001 (None when it does not); URL002..URL004 are
    judged only when it did not, or when the body merely stalled."""
    got = f.fetch
    if f.refused:
        return f.refused
    if got is None:
        return None
    hops = len(got.redirects)
    via = f" after {hops} redirect{'s' if hops != 1 else ''}" if hops else ""
    for hop in got.redirects:
        for pattern, what in ((_LOGIN, "a login page"), (_ERROR, "an error page")):
            if _looks_like(pattern, hop["location"]):
                return f"redirected ({hop['status']}) to {what}: {hop['location']}"
    if got.failure and not got.stalled:
        # a failure about the redirects themselves already says how many there were
        return got.failure + ("" if "redirect" in got.failure else via)
    if got.status is not None and got.status != 200:
        return f"GET answered {got.status} {got.reason}{via}".rstrip()
    if got.stalled:
        if got.deadline_hit:
            detail = (
                f"the body was not complete within {f.within} ({got.body_bytes} bytes received)"
            )
        else:
            detail = got.failure or f"the body did not finish ({got.body_bytes} bytes received)"
        # Only a wait as long as Instagram's own says what Instagram's fetch would do.
        if f.timeout >= f.max_fetch_seconds:
            detail += "; Instagram's fetch would fail"
        return detail
    return None


def _judged_after_fetch(f: UrlFacts) -> Note | None:
    """Why URL002..URL004 cannot be judged (a Note), or None when they can."""
    if f.refused:
        return Note(SKIP, _AFTER_URL001)
    if f.fetch is None:
        return Note(SKIP, _NOT_FETCHED)
    if fetch_problem(f) and not f.fetch.stalled:
        return Note(SKIP, _AFTER_URL001)
    return None


def _not_judged(f: UrlFacts) -> Note:
    return Note(SKIP, _AFTER_URL001 if fetch_problem(f) else "not checked")


def _answer(f: UrlFacts) -> Fetch | Note:
    """The 200 that URL002/URL003 judge, or a Note saying why they cannot."""
    skip = _judged_after_fetch(f)
    if skip:
        return skip
    assert f.fetch is not None
    return f.fetch if f.fetch.status == 200 else _not_judged(f)


@REGISTRY.url_rule(
    "URL002",
    Severity.ERROR,
    "media URL's Content-Type matches the media",
    graph=(None, 2207052),
    todo="set the Content-Type on upload",
)
def content_type(f: UrlFacts) -> Verdict:
    """The Content-Type header names the media, and the bytes agree."""
    got = _answer(f)
    if isinstance(got, Note):
        return got
    header = bare_type((got.headers or {}).get("content-type"))
    sniffed = sniff(got.head) if got.head else None
    if not header:
        return content_type.finding("no Content-Type header")
    if f.expected_type and header != f.expected_type:
        return content_type.finding(f"Content-Type is {header}, the file is {f.expected_type}")
    if header not in ACCEPTED_TYPES:
        return content_type.finding(
            f"Content-Type {header} is not one of {', '.join(ACCEPTED_TYPES)}"
        )
    if sniffed and sniffed != header:
        return content_type.finding(f"Content-Type is {header} but the body is {sniffed}")
    if got.head.lstrip()[:1] == b"<":
        return content_type.finding(
            f"Content-Type is {header} but the body is HTML or XML, not media"
        )
    return Note(PASS, header)


@REGISTRY.url_rule(
    "URL003",
    Severity.ERROR,
    "media URL serves exactly the local file's bytes",
    graph=(None, 2207052),
    todo="re-upload the file",
)
def same_bytes(f: UrlFacts) -> Verdict:
    """Content-Length, the bytes received and their hash equal the local file."""
    got = _answer(f)
    if isinstance(got, Note):
        return got
    declared = declared_length(f)
    local_size, local_sha = f.local_size, f.local_sha256
    if got.truncated:
        of = f" of {declared}" if declared is not None else ""
        return same_bytes.finding(
            f"body truncated: {got.body_bytes}{of} bytes received ({got.truncated})"
        )
    if local_size is not None and declared is not None and declared != local_size:
        return same_bytes.finding(
            f"Content-Length is {declared}, the local file has {local_size} bytes"
        )
    if got.overlong:
        return same_bytes.finding(overlong(f))
    if not got.complete:
        return Note(SKIP, "the body did not finish; bytes not compared")
    if declared is not None and declared != got.body_bytes:
        return same_bytes.finding(f"Content-Length is {declared} but {got.body_bytes} bytes came")
    if local_size is not None and got.body_bytes != local_size:
        return same_bytes.finding(f"{got.body_bytes} bytes served, the local file has {local_size}")
    if local_sha is not None and got.sha256 != local_sha:
        return same_bytes.finding("the bytes served differ from the local file (SHA-256 mismatch)")
    if declared is None:
        return Note(PASS, f"{got.body_bytes:,} bytes (no Content-Length header)")
    if local_sha is not None:
        return Note(PASS, f"{got.body_bytes:,} bytes, SHA-256 matches the local file")
    return Note(PASS, f"{got.body_bytes:,} bytes as declared (no local file to compare)")


@REGISTRY.url_rule(
    "URL004",
    Severity.WARNING,
    "media URL serves the whole file well inside Instagram's fetch time-out",
    graph=(-2, 2207003),
    todo="serve through a CDN",
)
def fast_enough(f: UrlFacts) -> Verdict:
    """The full GET takes well under Instagram's fetch time-out.

    A finished fetch is judged on its time; an unfinished one (stopped by the
    deadline or a stall) on the time the whole file would take at the measured
    throughput, and it is never passed: what did not finish was not measured.
    """
    skip = _judged_after_fetch(f)
    if skip:
        return skip
    got = f.fetch
    assert got is not None
    limit = f.max_fetch_seconds
    if not speed_judged(f):
        return _not_judged(f)
    rate = got.body_bytes / got.seconds if got.seconds > 0 else math.inf
    speed = f"{rate / 1e6:.3g} MB/s" if math.isfinite(rate) else "instant"
    if got.complete:
        if got.seconds > limit:
            return fast_enough.finding(
                f"the full fetch took {got.seconds:.3g} s at {speed}, over Instagram's {limit:g} s; "
                "serve it through a CDN",
            )
        return Note(PASS, f"{got.seconds:.3g} s at {speed}")
    total = f.local_size or declared_length(f)
    projected = projected_seconds(f)
    if projected is not None and total and projected > limit:
        return fast_enough.finding(
            f"a full fetch would take {duration(projected)} at {speed} ({got.body_bytes:,} of "
            f"{total:,} bytes in {got.seconds:.3g} s), over Instagram's {limit:g} s; "
            "serve it through a CDN",
        )
    if got.seconds > limit:
        return fast_enough.finding(
            f"the body did not finish in {got.seconds:.3g} s ({got.body_bytes:,} bytes at "
            f"{speed}), over Instagram's "
            f"{limit:g} s; serve it through a CDN",
        )
    if projected is not None and total:
        return Note(
            SKIP,
            f"not judged: the fetch did not finish (projected {projected:.3g} s for "
            f"{total:,} bytes at {speed})",
        )
    so_far = f"{got.body_bytes:,} bytes in {got.seconds:.3g} s"
    return Note(SKIP, f"not judged: the fetch did not finish ({so_far}, size unknown)")


@REGISTRY.url_rule(
    "URL005",
    Severity.WARNING,
    f"media URL stays valid for the container's life ({_HOURS} h)",
    graph=(None, 2207020),
    todo=f"presign for at least {_HOURS} h",
)
def long_lived(f: UrlFacts) -> Verdict:
    """A presigned URL stays valid long enough, and not on temporary credentials."""
    if f.refused:
        return Note(SKIP, _AFTER_URL001)
    minimum = POST_LIMITS.min_presign_seconds
    remaining = f.presign_remaining
    if remaining is None:
        return Note(PASS, "not a presigned URL")
    if remaining < minimum:
        return long_lived.finding(
            f"presigned URL is valid for {duration(remaining)}, less than {duration(minimum)}; "
            "a container created from it may fail when Instagram fetches late",
        )
    if f.presign_temporary:
        return long_lived.finding(
            "presigned with temporary credentials (X-Amz-Security-Token): the URL dies with "
            "that session, usually within hours; presign with long-term keys",
        )
    return Note(PASS, f"presigned URL valid for {duration(remaining)}")


@REGISTRY.url_rule(
    "URL006",
    Severity.ERROR,
    "media URL's host is public",
    graph=(None, 2207052),
    todo="use a public host (or --allow-private for local tests)",
)
def public_host(f: UrlFacts) -> Verdict:
    """The host (and every redirect's target) is one Instagram can reach."""
    if f.refused:
        return Note(SKIP, _AFTER_URL001)
    if f.host_problem:
        return public_host.finding(
            f"{f.host_problem}; refused (use --allow-private for local tests)"
        )
    if f.fetch is not None and f.fetch.refused_hop:
        return public_host.finding(f"redirect target is not public: {f.fetch.refused_hop}")
    if f.allow_private:
        return Note(SKIP, "private hosts allowed (--allow-private)")
    if not f.addresses:
        return Note(SKIP, "the host did not resolve")
    return Note(PASS, f"public host ({', '.join(f.addresses) or 'resolved'})")


def speed_judged(f: UrlFacts) -> bool:
    """Whether the fetch says anything about speed: a 200 whose body finished
    (and was not empty) or stalled, not truncated or cut at the byte cap."""
    got = f.fetch
    if got is None or got.status != 200 or got.truncated or got.overlong:
        return False
    if not got.complete and not got.stalled:
        return False
    return not (got.complete and got.body_bytes == 0)


def declared_length(f: UrlFacts) -> int | None:
    """The Content-Length header of the final response, when it is a number."""
    length = ((f.fetch and f.fetch.headers) or {}).get("content-length")
    return int(length) if length and length.isdigit() else None


def projected_seconds(f: UrlFacts) -> float | None:
    """How long the whole body would take at the measured rate (an unfinished fetch)."""
    got = f.fetch
    if got is None:
        return None
    if got.complete:
        return got.seconds
    rate = got.body_bytes / got.seconds if got.seconds > 0 else math.inf
    total = f.local_size or declared_length(f)
    return total / rate if total and rate > 0 else None


def overlong(f: UrlFacts) -> str:
    """Why the body was not read in full: longer than the local file or any media."""
    if f.local_size is not None:
        return f"the body is longer than the local file ({f.local_size:,} bytes)"
    return (
        f"the body is larger than any media Instagram accepts ({f.byte_cap / 1e6:g} MB); "
        "not downloaded in full"
    )


def duration(seconds: float) -> str:
    """'2.5 s', '10 min', '24 h': a lifetime or a fetch time, in its natural unit."""
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def _looks_like(pattern: re.Pattern[str], url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return bool(
        pattern.search(parts.path)
        or pattern.search(parts.hostname or "")
        or (pattern is _LOGIN and _LOGIN_QUERY.search(parts.query))
    )

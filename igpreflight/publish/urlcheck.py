"""Fetch a media URL the way Instagram's fetcher does, and say what would fail.

Instagram downloads media from a URL: no credentials, no cookies, a time-out.
"The media could not be fetched" (9004/2207052) and fetch time-outs (2207003)
are the errors users meet most, so before any container is created we do one
plain GET ourselves and apply URL001..URL006 (SPEC section 1, Media URL).

Every request has connect and read time-outs and the whole check has a
deadline, enforced by a watchdog that shuts the connection down, so a server
that hangs, trickles or never stops sending cannot hang us. The
host is checked before any traffic: private, loopback, link-local and reserved
addresses are refused (URL006) unless `allow_private`, and so is every
redirect's target.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import ipaddress
import math
import re
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from igpreflight._version import __version__
from igpreflight.catalog import finding
from igpreflight.hashing import sha256_file
from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, VIDEO_LIMITS
from igpreflight.model import Finding, Severity
from igpreflight.publish.mediatype import ACCEPTED_TYPES, bare_type, sniff

URL_RULES = ("URL001", "URL002", "URL003", "URL004", "URL005", "URL006")
# The whole check (redirects, headers and body) ends by this many seconds: twice
# the fetch time Instagram allows, so a "slow" file is measured, a hung one is not.
DEFAULT_DEADLINE = 2 * POST_LIMITS.max_fetch_seconds
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 10.0  # seconds without a byte
MAX_REDIRECTS = 5
# Nothing larger than the largest media Instagram accepts is worth downloading.
MAX_MEDIA_BYTES = max(
    [v.max_bytes for v in VIDEO_LIMITS.values()] + [i.max_bytes for i in IMAGE_LIMITS.values()]
)
USER_AGENT = f"facebookexternalhit/1.1 (compatible; igpreflight/{__version__} URL check)"
REDIRECT_CODES = {301, 302, 303, 307, 308}
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

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"


@dataclass(frozen=True)
class CheckOutcome:
    """One URL rule's result: pass, fail (error), warn or skip, with a one-line detail."""

    rule: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "status": self.status, "detail": self.detail}


@dataclass
class UrlCheckResult:
    """What one URL does when fetched: a finding per broken rule, every rule's
    outcome, and the measurements (status, redirects, bytes, seconds, MB/s)."""

    url: str
    findings: list[Finding] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    # Why the body did not arrive whole (None when it did): not fetched, an HTTP
    # error, truncated, over the byte cap, or the deadline. Not part of to_dict().
    incomplete: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when no URL rule is broken at error level."""
        return not self.errors

    def outcome(self, rule: str) -> CheckOutcome | None:
        return next((c for c in self.checks if c.rule == rule), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "measurements": self.measurements,
        }


class _Collector:
    """Builds a result: each rule gets exactly one outcome, and a finding when broken."""

    def __init__(self, url: str) -> None:
        self.result = UrlCheckResult(url=url)
        self._seen: dict[str, CheckOutcome] = {}

    def set(self, rule: str, status: str, detail: str) -> None:
        if rule in self._seen:
            return  # the first (root-cause) outcome wins
        outcome = CheckOutcome(rule, status, detail)
        self._seen[rule] = outcome
        if status in (FAIL, WARN):
            self.result.findings.append(finding(rule, detail))

    def status(self, rule: str) -> str | None:
        outcome = self._seen.get(rule)
        return outcome.status if outcome else None

    def finish(self) -> UrlCheckResult:
        failed = self.status("URL001") == FAIL
        for rule in URL_RULES:
            if rule not in self._seen:
                self.set(rule, SKIP, "not checked: URL001 failed" if failed else "not checked")
        self.result.checks = [self._seen[r] for r in URL_RULES]
        order = {r: i for i, r in enumerate(URL_RULES)}
        self.result.findings.sort(key=lambda f: order[f.rule])
        return self.result


def redact_url(url: str) -> str:
    """The URL without user:password, for output."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


# ---------------------------------------------------------------- URL006


def non_public_reason(address: str) -> str | None:
    """Why an IP address cannot be reached by Instagram, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return name
    if not ip.is_global:
        return "not globally routable"
    return None


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The host's addresses (getaddrinfo), in a worker so a stuck resolver times out.

    Raises OSError (socket.gaierror) when the name does not resolve, TimeoutError
    when the resolver does not answer in time.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=timeout)
        except FutureTimeout:
            raise TimeoutError(f"DNS lookup of {host} took longer than {timeout:g} s") from None
    finally:
        pool.shutdown(wait=False)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def host_problem(
    url: str, *, allow_private: bool, timeout: float = CONNECT_TIMEOUT
) -> tuple[str | None, list[str]]:
    """Why Instagram could not reach this URL's host (None when it can), and its addresses.

    `localhost` and IP literals are decided without any lookup or traffic; names
    are resolved and refused when ANY address is not public.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "the URL has no host", []
    if allow_private:
        return None, []
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is the local machine", []
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses, literal = [host], True
    except ValueError:
        literal = False
        try:
            addresses = resolve(host, parts.port or 443, timeout)
        except (OSError, TimeoutError):
            addresses = []  # unresolvable: the fetch itself reports it (URL001)
    for address in addresses:
        reason = non_public_reason(address)
        if reason:
            where = host if literal else f"{host} resolves to {address}"
            return f"{where} is {reason}" if literal else f"{where} ({reason})", addresses
    if parts.scheme != "https":
        return f"{parts.scheme}:// is not https; Instagram fetches public https URLs", addresses
    return None, addresses


# ---------------------------------------------------------------- URL005


def presign_remaining(url: str, now: float | None = None) -> tuple[float | None, bool]:
    """Seconds a presigned URL stays valid (None when not presigned), and whether
    it is signed with temporary credentials (which end with their session)."""
    now = time.time() if now is None else now
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)}
    temporary = "x-amz-security-token" in query
    for date_key, expires_key in (
        ("x-amz-date", "x-amz-expires"),
        ("x-goog-date", "x-goog-expires"),
    ):
        if date_key in query and expires_key in query:
            try:
                signed = datetime.strptime(query[date_key], "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=timezone.utc
                )
                return signed.timestamp() + int(query[expires_key]) - now, temporary
            except ValueError:
                return 0.0, temporary
    if "expires" in query and ("signature" in query or "key-pair-id" in query):
        try:
            return int(query["expires"]) - now, temporary
        except ValueError:
            return 0.0, temporary
    return None, temporary


def _check_presign(c: _Collector, url: str, presign_expires_in: int | None) -> None:
    minimum = POST_LIMITS.min_presign_seconds
    remaining, temporary = presign_remaining(url)
    if presign_expires_in is not None:
        remaining = float(presign_expires_in)
    if remaining is None:
        c.set("URL005", PASS, "not a presigned URL")
    elif remaining < minimum:
        c.set(
            "URL005",
            WARN,
            f"presigned URL is valid for {_duration(remaining)}, less than {_duration(minimum)}; "
            "a container created from it may fail when Instagram fetches late",
        )
    elif temporary:
        c.set(
            "URL005",
            WARN,
            "presigned with temporary credentials (X-Amz-Security-Token): the URL dies with "
            "that session, usually within hours; presign with long-term keys",
        )
    else:
        c.set("URL005", PASS, f"presigned URL valid for {_duration(remaining)}")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


# ---------------------------------------------------------------- the fetch


@dataclass
class _Fetch:
    """What one GET (after redirects) gave."""

    status: int | None = None
    reason: str = ""
    final_url: str = ""
    redirects: list[dict[str, Any]] = field(default_factory=list)
    headers: httpx.Headers | None = None
    body_bytes: int = 0  # as sent on the wire
    head: bytes = b""
    sha256: str | None = None
    complete: bool = False
    failure: str | None = None  # why the fetch failed (URL001)
    truncated: str | None = None  # body ended before Content-Length (URL003)
    overlong: bool = False  # more bytes than the byte cap (the local file or the largest media)
    stalled: bool = False  # deadline or read time-out during the body
    deadline_hit: bool = False  # the overall deadline ended the fetch
    seconds: float = 0.0
    ttfb: float | None = None


def _client(timeout: float) -> httpx.Client:
    """A client that carries nothing of ours: no cookies kept, no env proxies or
    .netrc credentials, redirects handled by hand (each target is checked)."""
    no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(
        timeout=httpx.Timeout(
            connect=min(CONNECT_TIMEOUT, timeout),
            # a little over the deadline, so the deadline (not a read) ends a slow fetch
            read=min(READ_TIMEOUT, timeout + 1),
            write=min(READ_TIMEOUT, timeout + 1),
            pool=min(CONNECT_TIMEOUT, timeout),
        ),
        follow_redirects=False,
        trust_env=False,
        cookies=no_cookies,
        headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"},
    )


class _Watchdog:
    """Shuts the fetch's sockets down when the overall deadline passes.

    Time-outs bound each read, not the whole exchange: a server that sends a
    byte every few seconds (headers or body) never trips them. The sockets are
    learnt from httpcore's trace events and shut down (not closed: a blocked
    read then returns at once) by a timer, so the fetch ends by the deadline.
    """

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: note each new connection's socket."""
        if not name.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.fired:
                    _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket method: an SSLSocket's own would drop its state under the reader.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _fetch(
    url: str,
    *,
    allow_private: bool,
    deadline: float,
    timeout: float,
    byte_cap: int,
    c: _Collector,
    sink: BinaryIO | None = None,
    within: str = "the deadline",
) -> _Fetch:
    out = _Fetch(final_url=url)
    start = time.monotonic()
    digest = hashlib.sha256()
    current = url
    with _client(timeout) as client, _Watchdog(deadline) as dog:
        for hop in range(MAX_REDIRECTS + 1):
            if hop:
                problem, _ = host_problem(current, allow_private=allow_private)
                if problem:
                    c.set("URL006", FAIL, f"redirect target is not public: {problem}")
                    out.failure = "redirected to a host Instagram cannot reach"
                    break
            try:
                with client.stream("GET", current, extensions={"trace": dog.trace}) as response:
                    out.ttfb = time.monotonic() - start
                    if response.status_code in REDIRECT_CODES and "location" in response.headers:
                        target = urllib.parse.urljoin(current, response.headers["location"])
                        out.redirects.append(
                            {"status": response.status_code, "location": redact_url(target)}
                        )
                        current = target
                        if time.monotonic() > deadline:
                            out.failure = f"the redirects did not end within {within}"
                            out.deadline_hit = True
                            break
                        continue
                    out.status = response.status_code
                    out.reason = response.reason_phrase
                    out.final_url = current
                    out.headers = response.headers
                    if response.status_code != 200:
                        break
                    length = response.headers.get("content-length", "")
                    if length.isdigit() and int(length) > byte_cap:
                        out.overlong = True  # nothing to gain from reading it
                        break
                    _read_body(response, out, digest, deadline, byte_cap, sink)
            except httpx.TimeoutException as exc:
                if out.status is None:
                    out.failure = f"{_timeout_kind(exc)} after {_elapsed(start):.3g} s"
                else:
                    out.stalled = True
                    out.failure = (
                        f"the body stalled: no data for {min(READ_TIMEOUT, timeout + 1):g} s "
                        f"after {out.body_bytes} bytes"
                    )
            except httpx.RemoteProtocolError as exc:
                if out.status is None:
                    out.failure = f"the server broke the HTTP exchange: {_line(exc)}"
                else:
                    out.truncated = f"the connection closed early: {_line(exc)}"
            except (
                httpx.HTTPError,
                httpx.InvalidURL,
                ValueError,
            ) as exc:  # ValueError: bad Location
                out.failure = f"cannot fetch: {_line(exc)}"
            break
        else:
            out.failure = f"more than {MAX_REDIRECTS} redirects"
        if dog.fired and not out.deadline_hit:
            _deadline_ended(out, within)
    out.seconds = time.monotonic() - start
    if out.complete:
        out.sha256 = digest.hexdigest()
    return out


def _deadline_ended(out: _Fetch, within: str) -> None:
    """The watchdog cut the connection: whatever broke after that is the deadline."""
    out.deadline_hit = True
    out.complete = False
    out.truncated = None
    if out.status is None:
        out.failure = f"time-out: no complete response within {within}"
    elif out.status == 200 and not out.overlong:
        out.stalled = True
        out.failure = None


def _read_body(
    response: httpx.Response,
    out: _Fetch,
    digest: Any,
    deadline: float,
    byte_cap: int,
    sink: BinaryIO | None,
) -> None:
    """Stream the body into the hash (and `sink`), stopping at the deadline or the byte cap."""
    for chunk in response.iter_bytes():  # as received: a trickle is seen at once
        if len(out.head) < 64:
            out.head += chunk[: 64 - len(out.head)]
        out.body_bytes = response.num_bytes_downloaded
        if out.body_bytes > byte_cap:
            out.overlong = True
            return
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
        if time.monotonic() > deadline:
            out.stalled = True
            out.deadline_hit = True
            return
    out.body_bytes = response.num_bytes_downloaded
    out.complete = True


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect time-out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response headers (read time-out)"
    return "time-out"


def _elapsed(start: float) -> float:
    return time.monotonic() - start


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


# ---------------------------------------------------------------- the check


def check_url(
    url: str,
    *,
    local_path: str | Path | None = None,
    expected_content_type: str | None = None,
    allow_private: bool = False,
    presign_expires_in: int | None = None,
    timeout: float = DEFAULT_DEADLINE,
    max_fetch_seconds: float | None = None,
    sink: BinaryIO | None = None,
    timeout_name: str | None = "--timeout",
) -> UrlCheckResult:
    """Fetch `url` once like Instagram would and apply URL001..URL006.

    `local_path` is the file the URL should serve (size and SHA-256 compared,
    and its content gives the expected Content-Type); `presign_expires_in` the
    lifetime the URL was presigned with (otherwise read from its query).
    `timeout` is the overall deadline in seconds (redirects, headers and body);
    `max_fetch_seconds` the fetch time above which URL004 warns (default: the
    limit in limits.py). `sink`, a binary file, receives the body as it is
    read (only the final 200 body; complete only when `result.incomplete` is
    None). `timeout_name` is the option the user set `timeout` with, for the
    messages (None: it is the default deadline).
    """
    shown = redact_url(url)
    c = _Collector(shown)
    m = c.result.measurements
    limit = POST_LIMITS.max_fetch_seconds if max_fetch_seconds is None else max_fetch_seconds
    deadline = time.monotonic() + timeout
    within = (
        f"the {timeout_name} of {timeout:g} s" if timeout_name else f"the {timeout:g} s deadline"
    )

    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        why = f"unsupported URL scheme {parts.scheme or '(none)'}; Instagram fetches http(s) URLs"
        return _refused(c, "URL001", why)
    if not parts.hostname:
        return _refused(c, "URL001", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        why = "the URL carries credentials (user:password@); Instagram sends none"
        return _refused(c, "URL001", why)

    local_size, local_sha, expected = _local(local_path, expected_content_type)
    _check_presign(c, url, presign_expires_in)

    problem, addresses = host_problem(url, allow_private=allow_private)
    m["addresses"] = addresses
    if problem:
        c.set("URL006", FAIL, f"{problem}; refused (use --allow-private for local tests)")
        for rule in ("URL001", "URL002", "URL003", "URL004"):
            c.set(rule, SKIP, "not fetched: the host is refused (URL006)")
        c.result.incomplete = problem
        return c.finish()

    cap = MAX_MEDIA_BYTES if local_size is None else local_size
    got = _fetch(
        url,
        allow_private=allow_private,
        deadline=deadline,
        timeout=timeout,
        byte_cap=cap,
        c=c,
        sink=sink,
        within=within,
    )
    if allow_private:
        c.set("URL006", SKIP, "private hosts allowed (--allow-private)")
    elif not addresses:
        c.set("URL006", SKIP, "the host did not resolve")
    else:
        c.set("URL006", PASS, f"public host ({', '.join(addresses) or 'resolved'})")
    _measure(m, got)
    _rule_fetch(c, got, timeout, limit, within)
    if c.status("URL001") != FAIL or got.stalled:
        _rule_type(c, got, expected)
        _rule_bytes(c, got, local_size, local_sha)
        _rule_speed(c, got, local_size, limit, m)
    c.result.incomplete = _why_incomplete(got, local_size, within)
    return c.finish()


def _refused(c: _Collector, rule: str, why: str) -> UrlCheckResult:
    """A URL refused before any traffic."""
    c.set(rule, FAIL, why)
    c.result.incomplete = why
    return c.finish()


def _why_incomplete(got: _Fetch, local_size: int | None, within: str) -> str | None:
    """One line on why the body did not arrive whole, or None when it did."""
    if got.complete:
        return None
    if got.status is not None and got.status != 200:
        return f"HTTP {got.status} {got.reason}".rstrip()
    if got.overlong:
        return _overlong(local_size)
    if got.truncated:
        return f"the body was truncated after {got.body_bytes} bytes ({got.truncated})"
    if got.deadline_hit and got.status == 200:
        return f"the body was not complete within {within} ({got.body_bytes} bytes received)"
    return got.failure or "the body did not arrive whole"


def _overlong(local_size: int | None) -> str:
    if local_size is not None:
        return f"the body is longer than the local file ({local_size:,} bytes)"
    return (
        f"the body is larger than any media Instagram accepts ({MAX_MEDIA_BYTES / 1e6:g} MB); "
        "not downloaded in full"
    )


def _local(
    local_path: str | Path | None, expected: str | None
) -> tuple[int | None, str | None, str | None]:
    """Size, SHA-256 and content type of the local file the URL should serve."""
    if local_path is None:
        return None, None, expected
    path = Path(local_path)
    if expected is None:
        from igpreflight.preflight.probe import probe
        from igpreflight.publish.mediatype import content_type_for

        expected = content_type_for(probe(str(path)))
    return path.stat().st_size, sha256_file(path), expected


def _measure(m: dict[str, Any], got: _Fetch) -> None:
    headers = got.headers or httpx.Headers()
    length = headers.get("content-length")
    m.update(
        {
            "status": got.status,
            "final_url": redact_url(got.final_url),
            "redirects": got.redirects,
            "content_type": headers.get("content-type"),
            "content_length": int(length) if length and length.isdigit() else None,
            "bytes": got.body_bytes,
            "complete": got.complete,
            "seconds": round(got.seconds, 3),
            "ttfb_seconds": round(got.ttfb, 3) if got.ttfb is not None else None,
            "mb_per_s": round(got.body_bytes / 1e6 / got.seconds, 3) if got.seconds > 0 else None,
            "sha256": got.sha256,
        }
    )


def _looks_like(pattern: re.Pattern[str], url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return bool(
        pattern.search(parts.path)
        or pattern.search(parts.hostname or "")
        or (pattern is _LOGIN and _LOGIN_QUERY.search(parts.query))
    )


def _rule_fetch(c: _Collector, got: _Fetch, timeout: float, limit: float, within: str) -> None:
    """URL001: a plain GET answers 200, not via a login or error page, and completes."""
    hops = len(got.redirects)
    via = f" after {hops} redirect{'s' if hops != 1 else ''}" if hops else ""
    for hop in got.redirects:
        for pattern, what in ((_LOGIN, "a login page"), (_ERROR, "an error page")):
            if _looks_like(pattern, hop["location"]):
                c.set("URL001", FAIL, f"redirected ({hop['status']}) to {what}: {hop['location']}")
                return
    if got.failure and not got.stalled:
        # a failure about the redirects themselves already says how many there were
        c.set("URL001", FAIL, got.failure + ("" if "redirect" in got.failure else via))
    elif got.status is not None and got.status != 200:
        c.set("URL001", FAIL, f"GET answered {got.status} {got.reason}{via}".rstrip())
    elif got.stalled:
        if got.deadline_hit:
            detail = f"the body was not complete within {within} ({got.body_bytes} bytes received)"
        else:
            detail = got.failure or f"the body did not finish ({got.body_bytes} bytes received)"
        # Only a wait as long as Instagram's own says what Instagram's fetch would do.
        if timeout >= limit:
            detail += "; Instagram's fetch would fail"
        c.set("URL001", FAIL, detail)
    elif got.status == 200:
        c.set("URL001", PASS, f"200{via}" if hops else "200, no redirects")


def _rule_type(c: _Collector, got: _Fetch, expected: str | None) -> None:
    """URL002: the Content-Type header names the media, and the bytes agree."""
    if got.status != 200:
        return
    header = bare_type((got.headers or {}).get("content-type"))
    sniffed = sniff(got.head) if got.head else None
    if not header:
        c.set("URL002", FAIL, "no Content-Type header")
    elif expected and header != expected:
        c.set("URL002", FAIL, f"Content-Type is {header}, the file is {expected}")
    elif header not in ACCEPTED_TYPES:
        c.set("URL002", FAIL, f"Content-Type {header} is not one of {', '.join(ACCEPTED_TYPES)}")
    elif sniffed and sniffed != header:
        c.set("URL002", FAIL, f"Content-Type is {header} but the body is {sniffed}")
    elif got.head.lstrip()[:1] == b"<":
        c.set("URL002", FAIL, f"Content-Type is {header} but the body is HTML or XML, not media")
    else:
        c.set("URL002", PASS, header)


def _rule_bytes(c: _Collector, got: _Fetch, local_size: int | None, local_sha: str | None) -> None:
    """URL003: Content-Length, the bytes received and their hash equal the local file."""
    if got.status != 200:
        return
    length = (got.headers or {}).get("content-length")
    declared = int(length) if length and length.isdigit() else None
    if got.truncated:
        of = f" of {declared}" if declared is not None else ""
        c.set(
            "URL003", FAIL, f"body truncated: {got.body_bytes}{of} bytes received ({got.truncated})"
        )
    elif local_size is not None and declared is not None and declared != local_size:
        c.set(
            "URL003", FAIL, f"Content-Length is {declared}, the local file has {local_size} bytes"
        )
    elif got.overlong:
        c.set("URL003", FAIL, _overlong(local_size))
    elif not got.complete:
        c.set("URL003", SKIP, "the body did not finish; bytes not compared")
    elif declared is not None and declared != got.body_bytes:
        c.set("URL003", FAIL, f"Content-Length is {declared} but {got.body_bytes} bytes came")
    elif local_size is not None and got.body_bytes != local_size:
        c.set("URL003", FAIL, f"{got.body_bytes} bytes served, the local file has {local_size}")
    elif local_sha is not None and got.sha256 != local_sha:
        c.set("URL003", FAIL, "the bytes served differ from the local file (SHA-256 mismatch)")
    elif declared is None:
        c.set("URL003", PASS, f"{got.body_bytes:,} bytes (no Content-Length header)")
    elif local_sha is not None:
        c.set("URL003", PASS, f"{got.body_bytes:,} bytes, SHA-256 matches the local file")
    else:
        c.set("URL003", PASS, f"{got.body_bytes:,} bytes as declared (no local file to compare)")


def _rule_speed(
    c: _Collector,
    got: _Fetch,
    local_size: int | None,
    limit: float,
    m: dict[str, Any],
) -> None:
    """URL004: the full GET takes well under Instagram's fetch time-out.

    A finished fetch is judged on its time; an unfinished one (stopped by the
    deadline or a stall) on the time the whole file would take at the measured
    throughput, and it is never passed: what did not finish was not measured.
    """
    if got.status != 200 or got.truncated or got.overlong:
        return
    if not got.complete and not got.stalled:
        return
    if got.complete and got.body_bytes == 0:
        return
    rate = got.body_bytes / got.seconds if got.seconds > 0 else math.inf
    speed = f"{rate / 1e6:.3g} MB/s" if math.isfinite(rate) else "instant"
    if got.complete:
        m["projected_seconds"] = round(got.seconds, 3)
        if got.seconds > limit:
            c.set(
                "URL004",
                WARN,
                f"the full fetch took {got.seconds:.3g} s at {speed}, over Instagram's {limit:g} s; "
                "serve it through a CDN",
            )
        else:
            c.set("URL004", PASS, f"{got.seconds:.3g} s at {speed}")
        return
    length = (got.headers or {}).get("content-length")
    total = local_size or (int(length) if length and length.isdigit() else None)
    projected = total / rate if total and rate > 0 else None
    m["projected_seconds"] = round(projected, 3) if projected is not None else None
    so_far = f"{got.body_bytes:,} bytes in {got.seconds:.3g} s"
    if projected is not None and projected > limit:
        c.set(
            "URL004",
            WARN,
            f"a full fetch would take {_duration(projected)} at {speed} ({got.body_bytes:,} of "
            f"{total:,} bytes in {got.seconds:.3g} s), over Instagram's {limit:g} s; "
            "serve it through a CDN",
        )
    elif got.seconds > limit:
        c.set(
            "URL004",
            WARN,
            f"the body did not finish in {got.seconds:.3g} s ({got.body_bytes:,} bytes at "
            f"{speed}), over Instagram's "
            f"{limit:g} s; serve it through a CDN",
        )
    elif projected is not None:
        c.set(
            "URL004",
            SKIP,
            f"not judged: the fetch did not finish (projected {projected:.3g} s for "
            f"{total:,} bytes at {speed})",
        )
    else:
        c.set("URL004", SKIP, f"not judged: the fetch did not finish ({so_far}, size unknown)")

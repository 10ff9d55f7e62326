"""Remote media in a manifest: fetch once to a temporary file, probe it, apply URL rules.

SPEC section 5: a media URL is checked like a local file, plus URL001..URL006.
There is one GET per URL: `check_url` fetches it the way Instagram's fetcher
does (no credentials, public hosts only unless allow_private, each redirect's
host checked, time-outs, an overall deadline, a byte cap) and writes the body
to a temporary file while it measures it; that file is then probed. A URL used
twice (two posts, two roles) is fetched once per process.
"""

from __future__ import annotations

import os
import tempfile
import threading
import urllib.parse
from dataclasses import replace
from pathlib import Path

from igpreflight.model import Facts, Finding, Unreadable
from igpreflight.net.guard import redact_url
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.url import fetched
from igpreflight.preflight.urlcheck import DEFAULT_DEADLINE, check_url

_Result = tuple[Facts, tuple[Finding, ...]]
# (url, allow_private, deadline) -> the result of its one fetch, for this process's run.
_Key = tuple[str, bool, float]
_CACHE: dict[_Key, _Result] = {}
_LOCKS: dict[_Key, threading.Lock] = {}
_USERS: dict[_Key, int] = {}  # callers of a key in flight (waiting or reading)
_GUARD = threading.Lock()
_KEEP = [True]  # keep results after their callers are done (see keep_results)


def keep_results(keep: bool) -> None:
    """Whether a URL fetched once is remembered for the rest of the process (a CLI
    run: a URL used twice is fetched once) or only while callers share the fetch
    in flight (a long-lived service: each request sees the URL as it is now, and
    memory does not grow with every URL ever checked)."""
    _KEEP[0] = keep
    if not keep:
        with _GUARD:
            for key in [k for k in _CACHE if k not in _USERS]:
                del _CACHE[key]
                _LOCKS.pop(key, None)


def probe_remote(
    url: str, *, allow_private: bool = False, timeout: float = DEFAULT_DEADLINE
) -> tuple[Facts, list[Finding]]:
    """Facts of the media behind `url` and the URL findings; never raises for bad URLs.

    `timeout` is the overall deadline of the fetch in seconds (redirects,
    headers and body): a body not complete by then is unreadable (FILE001).
    """
    key = (url, allow_private, timeout)
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
        _USERS[key] = _USERS.get(key, 0) + 1
    try:
        with lock:  # a second caller for the same URL waits for the first fetch
            if key not in _CACHE:
                _CACHE[key] = _fetch_and_probe(url, allow_private, timeout)
            facts, findings = _CACHE[key]
    finally:
        with _GUARD:
            _USERS[key] -= 1
            if not _USERS[key]:
                del _USERS[key]
                if not _KEEP[0]:
                    _CACHE.pop(key, None)
                    _LOCKS.pop(key, None)
    return facts, list(findings)


def clear_cache() -> None:
    """Forget fetched URLs (a long-lived process checking URLs whose content changed)."""
    with _GUARD:
        _CACHE.clear()
        _LOCKS.clear()


def _fetch_and_probe(url: str, allow_private: bool, timeout: float) -> _Result:
    shown = redact_url(url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        result = check_url(url, allow_private=allow_private)
        reason = f"unsupported URL scheme {scheme or '(none)'}; Instagram fetches http(s) URLs"
        return Unreadable(shown, reason), tuple(result.findings)
    # Keep the URL's extension so IMG010 judges the name Instagram will see.
    suffix = Path(urllib.parse.urlsplit(url).path).suffix[:16]
    fd, tmp = tempfile.mkstemp(prefix="igpreflight-remote-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as sink:
            result = check_url(
                url, allow_private=allow_private, sink=sink, timeout=timeout, timeout_name=None
            )
        fetch = result.outcome(fetched.code)
        # A body that did not arrive whole, or the login/error page a redirect led to,
        # is not the media: FILE001 with the reason (the URL findings say the rest).
        why = result.incomplete or (fetch.detail if fetch and fetch.status == "fail" else None)
        if why:
            return Unreadable(shown, f"not fetched: {why}"), tuple(result.findings)
        facts = replace(probe(tmp), path=shown)  # the facts of the file, under the URL
        return facts, tuple(result.findings)
    finally:
        Path(tmp).unlink(missing_ok=True)

"""Remote media in a manifest: fetch once to a temporary file, probe it, apply URL rules.

SPEC section 5: a media URL is checked like a local file, plus URL001..URL006.
The download uses the same rules as Instagram's fetcher (no credentials, public
hosts only unless allow_private, time-outs), then `check_url` measures the URL
itself (status, type, bytes, speed, lifetime) against the downloaded bytes.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from pathlib import Path

import httpx

from igpreflight.model import Facts, Finding, Unreadable
from igpreflight.preflight.probe import probe
from igpreflight.publish.urlcheck import MAX_MEDIA_BYTES, check_url, host_problem, redact_url

FETCH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def probe_remote(url: str, *, allow_private: bool = False) -> tuple[Facts, list[Finding]]:
    """Facts of the media behind `url` and the URL findings; never raises for bad URLs."""
    shown = redact_url(url)
    problem, _ = host_problem(url, allow_private=allow_private)
    if problem:
        result = check_url(url, allow_private=allow_private)
        return Unreadable(shown, f"not fetched: {problem}"), result.findings
    # Keep the URL's extension so IMG010 judges the name Instagram will see.
    suffix = Path(urllib.parse.urlsplit(url).path).suffix[:16]
    fd, tmp = tempfile.mkstemp(prefix="igpreflight-remote-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            reason = _download(url, fh)
        if reason:
            result = check_url(url, allow_private=allow_private)
            return Unreadable(shown, reason), result.findings
        facts = probe(tmp)
        result = check_url(url, local_path=tmp, allow_private=allow_private)
        return _renamed(facts, shown), result.findings
    finally:
        Path(tmp).unlink(missing_ok=True)


def _download(url: str, fh) -> str | None:
    """Stream the body into `fh`; the reason it failed, or None."""
    try:
        client = httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False, trust_env=False)
        with client, client.stream("GET", url) as response:
            if response.status_code != 200:
                return f"not fetched: HTTP {response.status_code}"
            for chunk in response.iter_bytes():
                fh.write(chunk)
                if response.num_bytes_downloaded > MAX_MEDIA_BYTES:
                    return "not fetched: larger than any media Instagram accepts"
    except httpx.HTTPError as exc:
        return f"not fetched: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def _renamed(facts: Facts, shown: str) -> Facts:
    """The facts of the temporary file, reported under the URL."""
    from dataclasses import replace

    return replace(facts, path=shown)

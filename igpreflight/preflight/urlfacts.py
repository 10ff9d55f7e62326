"""The facts of one media URL: what the guard decided and what one GET gave.

`gather` is the only part of the URL check that does I/O (the local file's
hash, DNS, the fetch); the URL rules (`preflight.rules.url`) read the facts it
returns, as every other rule reads a probe's facts.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from igpreflight.formats import content_type_for
from igpreflight.hashing import sha256_file
from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, VIDEO_LIMITS
from igpreflight.net.fetch import Fetch, fetch
from igpreflight.net.guard import redact_url, vet
from igpreflight.net.presign import presign_remaining
from igpreflight.preflight.probe import probe

# The whole check (redirects, headers and body) ends by this many seconds: twice
# the fetch time Instagram allows, so a "slow" file is measured, a hung one is not.
DEFAULT_DEADLINE = 2 * POST_LIMITS.max_fetch_seconds
# Nothing larger than the largest media Instagram accepts is worth downloading.
MAX_MEDIA_BYTES = max(
    [v.max_bytes for v in VIDEO_LIMITS.values()] + [i.max_bytes for i in IMAGE_LIMITS.values()]
)


@dataclass(frozen=True)
class UrlFacts:
    """What the URL rules read. `refused` is why the URL was refused before any
    lookup (scheme, no host, credentials); `host_problem` why the guard refused
    its host; `fetch` is None when nothing was fetched."""

    url: str  # as shown: without user:password
    refused: str | None = None
    presign_remaining: float | None = None
    presign_temporary: bool = False
    allow_private: bool = False
    host_problem: str | None = None
    addresses: tuple[str, ...] = ()
    fetch: Fetch | None = None
    local_size: int | None = None
    local_sha256: str | None = None
    expected_type: str | None = None
    timeout: float = DEFAULT_DEADLINE  # the overall deadline, seconds
    max_fetch_seconds: float = POST_LIMITS.max_fetch_seconds  # URL004 warns above
    within: str = "the deadline"  # how messages name the deadline

    @property
    def byte_cap(self) -> int:
        return MAX_MEDIA_BYTES if self.local_size is None else self.local_size


def gather(
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
) -> UrlFacts:
    """Vet the URL's host, fetch it once (unless refused) and measure it.

    `local_path` is the file the URL should serve (size and SHA-256 compared,
    and its content gives the expected Content-Type); `presign_expires_in` the
    lifetime the URL was presigned with (otherwise read from its query).
    `timeout` is the overall deadline in seconds (redirects, headers and body);
    `max_fetch_seconds` the fetch time above which URL004 warns (default: the
    limit in limits.py). `sink`, a binary file, receives the body as it is
    read (only the final 200 body). `timeout_name` is the option the user set
    `timeout` with, for the messages (None: it is the default deadline).
    """
    within = (
        f"the {timeout_name} of {timeout:g} s" if timeout_name else f"the {timeout:g} s deadline"
    )
    base = UrlFacts(
        url=redact_url(url),
        allow_private=allow_private,
        timeout=timeout,
        max_fetch_seconds=(
            POST_LIMITS.max_fetch_seconds if max_fetch_seconds is None else max_fetch_seconds
        ),
        within=within,
    )
    deadline = time.monotonic() + timeout
    refused = _refused(url)
    if refused:
        return replace(base, refused=refused)
    local_size, local_sha, expected = _local(local_path, expected_content_type)
    remaining, temporary = presign_remaining(url)
    if presign_expires_in is not None:
        remaining = float(presign_expires_in)
    facts = replace(
        base,
        presign_remaining=remaining,
        presign_temporary=temporary,
        local_size=local_size,
        local_sha256=local_sha,
        expected_type=expected,
    )
    vetted = vet(url, allow_private=allow_private)
    if vetted.problem:
        return replace(facts, host_problem=vetted.problem, addresses=vetted.addresses)
    got = fetch(
        url,
        allow_private=allow_private,
        deadline=deadline,
        timeout=timeout,
        byte_cap=facts.byte_cap,
        first_hop=vetted.addresses,
        first_lookup_error=vetted.lookup_error,
        sink=sink,
        within=within,
    )
    # With --allow-private nothing was vetted, so no addresses are reported.
    shown = () if allow_private else vetted.addresses
    return replace(facts, addresses=shown, fetch=got)


def _refused(url: str) -> str | None:
    """Why a URL is refused before any lookup or traffic, or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return f"unsupported URL scheme {parts.scheme or '(none)'}; Instagram fetches http(s) URLs"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "the URL carries credentials (user:password@); Instagram sends none"
    return None


def _local(
    local_path: str | Path | None, expected: str | None
) -> tuple[int | None, str | None, str | None]:
    """Size, SHA-256 and content type of the local file the URL should serve."""
    if local_path is None:
        return None, None, expected
    path = Path(local_path)
    if expected is None:
        expected = content_type_for(probe(str(path)))
    return path.stat().st_size, sha256_file(path), expected

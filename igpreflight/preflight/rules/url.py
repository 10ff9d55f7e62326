"""URL rules URL001-URL006: what Instagram's fetch of a media URL needs (SPEC section 1).

Registered here like every rule, so `rules`, `explain` and the reports know them.
The fetch that produces their outcomes still runs in `publish/urlcheck.py`, which
builds the findings with `RULE.finding(...)`; the checks move here as functions
over URL facts (issue 10, item 2).
"""

from __future__ import annotations

from igpreflight.limits import POST_LIMITS
from igpreflight.model import Severity
from igpreflight.preflight.rules import REGISTRY

_HOURS = POST_LIMITS.min_presign_seconds // 3600

FETCH = REGISTRY.declare(
    "url",
    "URL001",
    Severity.ERROR,
    "media URL answers 200 to a plain GET, without login redirects",
    module=__name__,
    graph=(9004, 2207052),
    todo="make the object public",
)
CONTENT_TYPE = REGISTRY.declare(
    "url",
    "URL002",
    Severity.ERROR,
    "media URL's Content-Type matches the media",
    module=__name__,
    graph=(None, 2207052),
    todo="set the Content-Type on upload",
)
SAME_BYTES = REGISTRY.declare(
    "url",
    "URL003",
    Severity.ERROR,
    "media URL serves exactly the local file's bytes",
    module=__name__,
    graph=(None, 2207052),
    todo="re-upload the file",
)
FAST_ENOUGH = REGISTRY.declare(
    "url",
    "URL004",
    Severity.WARNING,
    "media URL serves the whole file well inside Instagram's fetch time-out",
    module=__name__,
    graph=(-2, 2207003),
    todo="serve through a CDN",
)
LIFETIME = REGISTRY.declare(
    "url",
    "URL005",
    Severity.WARNING,
    f"media URL stays valid for the container's life ({_HOURS} h)",
    module=__name__,
    graph=(None, 2207020),
    todo=f"presign for at least {_HOURS} h",
)
PUBLIC_HOST = REGISTRY.declare(
    "url",
    "URL006",
    Severity.ERROR,
    "media URL's host is public",
    module=__name__,
    graph=(None, 2207052),
    todo="use a public host (or --allow-private for local tests)",
)

# Every URL rule, in the order a URL check reports them.
URL_RULES = (FETCH, CONTENT_TYPE, SAME_BYTES, FAST_ENOUGH, LIFETIME, PUBLIC_HOST)

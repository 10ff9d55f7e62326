"""The Graph API's errors, as data: what each code/subcode means and what the
publisher does about it (SPEC section 6).

It lives with the Graph client because it is the client's knowledge of Graph; the
rule catalog (`igpreflight.catalog`) and `explain` read it through the API. A known
subcode decides before its code, so 4/2207051 is spam while a bare 4 is a rate limit.
Which preflight rules prevent an error is derived from the rule registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from igpreflight.states import StrEnum

if TYPE_CHECKING:
    from igpreflight.preflight.rules import RuleInfo


class ErrorClass(StrEnum):
    """What the publisher does about a Graph error (SPEC section 6)."""

    RETRY_SAME = "retry-same"
    RECREATE_CONTAINER = "recreate-container"
    WAIT_QUOTA = "wait-quota"
    FIX_MEDIA = "fix-media"
    RECONNECT_AUTH = "reconnect-auth"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class GraphErrorInfo:
    code: int | None
    subcode: int | None
    error_class: ErrorClass
    meaning: str
    advice: str

    @property
    def rules(self) -> tuple[RuleInfo, ...]:
        """The preflight rules that catch this error before upload (from the registry;
        read when asked, so the client does not load every rule)."""
        from igpreflight.catalog import rules_preventing

        return rules_preventing(self.subcode)

    @property
    def rule(self) -> str | None:
        """The rule to name when one is named: the one registered with this exact
        code and subcode, else the first that prevents the subcode."""
        exact = [r for r in self.rules if r.graph_code == self.code]
        first = (exact or list(self.rules) or [None])[0]
        return first.code if first else None


RS, RC, WQ, FM, RA, PE = (
    ErrorClass.RETRY_SAME,
    ErrorClass.RECREATE_CONTAINER,
    ErrorClass.WAIT_QUOTA,
    ErrorClass.FIX_MEDIA,
    ErrorClass.RECONNECT_AUTH,
    ErrorClass.PERMANENT,
)


def _g(code, sub, cls, meaning, advice):
    return GraphErrorInfo(code, sub, cls, meaning, advice)


# Subcode-specific entries win over code-only ones (a 4/2207051 is spam, a bare 4 a rate limit).
_GRAPH: list[GraphErrorInfo] = [
    _g(1, None, RS, "unknown error (often transient)", "wait and retry the same call"),
    _g(2, None, RS, "service temporarily unavailable", "wait and retry the same call"),
    _g(
        9007,
        2207027,
        RS,
        "media is not ready for publishing",
        "wait for status FINISHED, then publish the same container",
    ),
    _g(
        24,
        2207008,
        RS,
        "media builder expired or not ready (temporary)",
        "retry once or twice within 2 minutes, then recreate the container",
    ),
    _g(
        -2,
        2207003,
        RS,
        "timeout while fetching the media",
        "retry; serve the file faster (CDN) if it repeats",
    ),
    _g(-1, 2207001, RS, "server error while creating the container", "retry the same call"),
    _g(None, None, RS, "HTTP 5xx or a network error", "retry the same call with backoff"),
    _g(
        -2,
        2207020,
        RC,
        "the media container expired (older than 24 hours)",
        "create a new container",
    ),
    _g(-1, 2207032, RC, "creating the media failed", "create a new container"),
    _g(-1, 2207053, RC, "unknown upload error", "create a new container"),
    _g(
        24,
        2207006,
        RC,
        "media not found (the container was lost)",
        "create a new container; reconnect the account if it repeats",
    ),
    _g(
        4,
        None,
        WQ,
        "application request limit reached",
        "wait for the usage headers to drop, then retry",
    ),
    _g(
        17, None, WQ, "user request limit reached", "wait for the usage headers to drop, then retry"
    ),
    _g(32, None, WQ, "page request limit reached", "wait, then retry"),
    _g(613, None, WQ, "calls to this API exceeded the rate limit", "wait, then retry"),
    _g(
        80002,
        None,
        WQ,
        "Instagram business use-case rate limit reached",
        "wait for X-Business-Use-Case-Usage to allow calls",
    ),
    _g(341, None, WQ, "application limit reached", "wait, then retry"),
    _g(
        9,
        2207042,
        WQ,
        "content publishing limit reached (50 posts per 24 hours)",
        "resume after the 24 hour window",
    ),
    _g(
        352,
        2207026,
        FM,
        "unsupported video format or specification",
        "run igpreflight fix on the video",
    ),
    _g(36000, 2207004, FM, "image is too large (over 8 MB)", "run igpreflight fix on the image"),
    _g(36001, 2207005, FM, "unsupported image format", "convert to JPEG with igpreflight fix"),
    _g(36003, 2207009, FM, "aspect ratio not supported", "crop or pad with igpreflight fix"),
    _g(36004, 2207010, FM, "caption too long or too many hashtags", "shorten the caption"),
    _g(1, 2207057, FM, "thumb_offset is outside the video", "choose an offset inside the video"),
    _g(100, 2207028, FM, "carousel needs 2 to 10 items", "change the number of items"),
    _g(
        None,
        2207035,
        FM,
        "product tag positions are not supported on videos",
        "remove x/y from video product tags",
    ),
    _g(None, 2207036, FM, "duplicate product tags", "remove duplicate product ids"),
    _g(None, 2207040, FM, "too many tags (users, products or mentions)", "remove tags"),
    _g(100, 2207040, FM, "too many @mentions or user tags", "remove tags"),
    _g(
        9004,
        2207052,
        FM,
        "Instagram could not fetch the media from its URL",
        "igpreflight checks the URL again; it retries twice if the URL now passes",
    ),
    _g(
        190,
        None,
        RA,
        "access token invalid or expired",
        "reconnect the account and set a new IG_ACCESS_TOKEN",
    ),
    _g(190, 458, RA, "the app is not installed for this user", "reconnect the account"),
    _g(190, 459, RA, "the user is checkpointed", "log in on instagram.com, then reconnect"),
    _g(190, 460, RA, "the password changed", "reconnect the account"),
    _g(
        190,
        463,
        RA,
        "the access token expired",
        "reconnect the account and set a new IG_ACCESS_TOKEN",
    ),
    _g(190, 464, RA, "the user is not confirmed", "confirm the account, then reconnect"),
    _g(190, 467, RA, "the access token is invalid", "reconnect the account"),
    _g(190, 492, RA, "invalid session", "reconnect the account"),
    _g(10, None, RA, "permission denied", "grant instagram_content_publish and reconnect"),
    _g(200, None, RA, "permission error", "grant the missing permission and reconnect"),
    _g(
        4,
        2207051,
        PE,
        "action blocked as spam (restriction)",
        "stop; vary captions and post less often",
    ),
    _g(
        25,
        2207050,
        PE,
        "the account is restricted or inactive",
        "stop; resolve the restriction in the Instagram app",
    ),
    _g(100, 2207023, PE, "unknown or wrong media_type", "set a valid media_type"),
    _g(100, 2207037, PE, "tag coordinates out of range", "fix the tag x/y"),
    _g(
        368,
        None,
        PE,
        "temporarily blocked for policy violations",
        "stop; check the account's status",
    ),
]

_BY_PAIR: dict[tuple[int | None, int | None], GraphErrorInfo] = {
    (g.code, g.subcode): g for g in _GRAPH
}
_BY_SUBCODE: dict[int, GraphErrorInfo] = {}
for _info in _GRAPH:
    if _info.subcode is not None:
        _BY_SUBCODE.setdefault(_info.subcode, _info)

GRAPH_ERRORS: tuple[GraphErrorInfo, ...] = tuple(_GRAPH)


def lookup_graph_error(code: int | None, subcode: int | None = None) -> GraphErrorInfo | None:
    """Find what a Graph error means; a known subcode decides before its code."""
    if subcode is not None:
        if (code, subcode) in _BY_PAIR:
            return _BY_PAIR[(code, subcode)]
        if subcode in _BY_SUBCODE:
            return _BY_SUBCODE[subcode]
    if code is not None and 200 <= code <= 299:
        return _BY_PAIR[(200, None)]
    return _BY_PAIR.get((code, None))


def classify(
    code: int | None,
    subcode: int | None = None,
    *,
    is_transient: bool = False,
    http_status: int | None = None,
) -> ErrorClass:
    """The publisher's decision for a Graph error (SPEC section 6)."""
    info = lookup_graph_error(code, subcode)
    if info is not None and (subcode is not None or code is not None):
        return info.error_class
    if is_transient or (http_status is not None and http_status >= 500):
        return ErrorClass.RETRY_SAME
    if code is None and http_status is None:  # no answer at all: a network error
        return ErrorClass.RETRY_SAME
    if code is None and http_status == 429:  # Too Many Requests without a Graph body
        return ErrorClass.WAIT_QUOTA
    # A 4xx without a known Graph error (a proxy's 404, a wrong --graph-url or version)
    # will not heal by retrying.
    return ErrorClass.PERMANENT

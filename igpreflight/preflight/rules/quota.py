"""QUOTA001: the account's publishing quota, judged before each publish (SPEC section 6).

The publisher gathers the quota facts (the live `content_publishing_limit`, or the
journal's count over the moving window, and any 9/2207042 refusal from the Graph
API) and calls `check_quota`; the finding it gets back is what it reports.
"""

from __future__ import annotations

from collections.abc import Iterator

from igpreflight.limits import POST_LIMITS
from igpreflight.model import Finding, Severity
from igpreflight.preflight.rules import REGISTRY
from igpreflight.records import record

_WINDOW = f"{POST_LIMITS.quota_window_seconds // 3600} h"


@record
class QuotaFacts:
    """What is known of one account's publishing quota right now."""

    total: int  # posts allowed per moving window
    remaining: int  # posts left in the window
    refusal: str | None = None  # the Graph API's own "limit reached" answer, as "code: message"


@REGISTRY.quota_rule(
    "QUOTA001",
    Severity.ERROR,
    "the batch fits in the account's remaining publishing quota",
    graph=(9, 2207042),
    todo=f"publish the rest after the {_WINDOW} window",
)
def quota(q: QuotaFacts) -> Iterator[Finding]:
    if q.refusal is not None:
        yield quota.finding(
            f"publishing limit reached ({q.refusal}); "
            f"the rest stays queued: run publish again after the {_WINDOW} window"
        )
    elif q.remaining <= 0:
        yield quota.finding(
            f"the publishing quota ({q.total} posts per {_WINDOW}) is used up;"
            " the rest stays queued: run publish again after the window"
        )


def check_quota(q: QuotaFacts) -> list[Finding]:
    """QUOTA001's finding for these facts (empty when another post may be published)."""
    return list(quota(q))

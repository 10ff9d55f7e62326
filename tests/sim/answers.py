"""The simulated Instagram's answers, as the Graph client makes them from a reply: an
error body, a network failure, a rate limit with its usage headers. Kept apart from
instagram.py, which decides *when* each is given."""

from __future__ import annotations

import json

from igpreflight.publish.graph.errors import GraphError, Usage


def error(
    code: int | None, subcode: int | None, message: str, status: int = 400, transient: bool = False
) -> GraphError:
    """An error answer as the client makes it (a 5xx with no known code is uncertain)."""
    return GraphError(status, code, subcode, transient, message)


def network(sent: bool) -> GraphError:
    return GraphError(
        None, None, None, True, "ReadTimeout: timed out", uncertain=sent, network=True
    )


USAGE_LONG = Usage(0.0, 100.0, 7200.0)  # X-Business-Use-Case-Usage at 100 %, 2 h to regain


def rate_limited(minutes: float) -> GraphError:
    buc = {"0": [{"call_count": 100, "estimated_time_to_regain_access": minutes}]}
    headers = {"x-business-use-case-usage": json.dumps(buc)}
    return GraphError(400, 17, None, True, "User request limit reached", headers=headers)


def builder_gone() -> GraphError:
    """24/2207008, as Meta words it: answered for a container already published, and for
    one whose builder is not ready or gone (Meta: a temporary error)."""
    return error(24, 2207008, "The media builder does not exist or has been expired.")

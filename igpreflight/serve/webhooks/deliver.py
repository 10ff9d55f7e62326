"""One delivery: a POST signed per Standard Webhooks, through the SSRF guard.

The URL's host is vetted and resolved at each delivery (a receiver may move) and
the connection goes only to the addresses vetted then (DNS pinning), so a name
that turns private later is refused, not reached. Redirects are not followed: a
3xx is an answer like any other non-2xx, and is retried.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import httpx
from standardwebhooks.webhooks import Webhook

from igpreflight._version import __version__
from igpreflight.net.guard import vet
from igpreflight.net.pinned import PinnedTransport
from igpreflight.serve.webhooks.config import Endpoint
from igpreflight.serve.webhooks.deadline import Deadline


@dataclass(frozen=True)
class Answer:
    """What a delivery came to: the HTTP status (None: none came) and why it failed."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks for no more deliveries."""
        return self.status == 410


def headers_for(
    endpoint: Endpoint, msg_id: str, body: str, when: datetime.datetime
) -> dict[str, str]:
    """Standard Webhooks' three headers (the signature from the `standardwebhooks` package)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(msg_id, when, body),
        "content-type": "application/json",
        "user-agent": f"igpreflight/{__version__} (webhooks)",
    }


def send(
    endpoint: Endpoint, msg_id: str, body: str, *, timeout: float, allow_private: bool
) -> Answer:
    """POST `body` to the endpoint once; never raises for a network fault."""
    vetted = vet(endpoint.url, allow_private=allow_private, timeout=timeout)
    if vetted.problem:
        return Answer(None, f"refused by the SSRF guard: {vetted.problem}")
    transport = PinnedTransport()
    transport.pin(vetted.host, vetted.addresses, vetted.lookup_error)
    when = datetime.datetime.now(datetime.timezone.utc)
    deadline = Deadline(timeout)  # the whole exchange, however slowly bytes trickle
    try:
        with (
            deadline,
            httpx.Client(
                transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
            ) as client,
            client.stream(  # the status is all we read: never a receiver's body
                "POST",
                endpoint.url,
                content=body.encode("utf-8"),
                headers=headers_for(endpoint, msg_id, body, when),
                extensions={"trace": deadline.trace},
            ) as answer,
        ):
            code = answer.status_code
    except httpx.TimeoutException:
        return Answer(None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        if deadline.expired:
            return Answer(None, f"no complete answer within {timeout:g} s")
        return Answer(None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300])
    finally:
        transport.close()
    return Answer(code, None if 200 <= code < 300 else f"HTTP {code}")

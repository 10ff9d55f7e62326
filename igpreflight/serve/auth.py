"""Who is calling: the bearer key of a request, then its rate limit.

A route depends on `caller` to get the Principal. With no keys file (allowed on
a loopback host only, see `commands/serve.py`) every caller is ANONYMOUS, scoped
to every account; rate limits still apply.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from igpreflight.serve.keys import ANONYMOUS, KeyRing, Principal
from igpreflight.serve.limits import RateLimiter
from igpreflight.serve.problems import Problem

bearer = HTTPBearer(auto_error=False, description="An API key from the keys file.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="igpreflight"'}


def identify(keys: KeyRing | None, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if keys is None:
        return ANONYMOUS
    if credentials is None or not credentials.credentials:
        raise Problem(401, "send an API key: Authorization: Bearer <key>", headers=CHALLENGE)
    principal = keys.identify(credentials.credentials)
    if principal is None:
        raise Problem(
            401,
            "the API key is not known",
            headers={"WWW-Authenticate": CHALLENGE["WWW-Authenticate"] + ', error="invalid_token"'},
        )
    return principal


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The Principal of this request (401 without a known key, 429 over its rate)."""
    principal = identify(request.app.state.keys, credentials)
    limiter: RateLimiter = request.app.state.limiter
    limiter.check(principal.name)
    return principal


Caller = Annotated[Principal, Depends(caller)]


def require_account(principal: Principal, account: str | None) -> None:
    """403 when a request names an account the key is not scoped to."""
    if account is not None and not principal.may_use(account):
        raise Problem(403, f"this API key may not act for account {account!r}", "account-forbidden")


async def json_body(request: Request) -> None:
    """415 unless the body is declared JSON (application/json or a +json type)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise Problem(415, "send the body as application/json", "not-json")

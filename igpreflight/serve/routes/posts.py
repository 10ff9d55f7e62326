"""POST /v1/posts, GET /v1/posts, GET and DELETE /v1/posts/{id}: publishing over HTTP.

A key sees only its accounts' posts: another account's post answers 404, the same
as a missing one; enqueueing for an account outside the key's scope is 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from igpreflight.serve.auth import Caller, caller, json_body, require_account
from igpreflight.serve.keys import Principal
from igpreflight.serve.posts import post_answer, submit
from igpreflight.serve.problems import Problem, responses
from igpreflight.serve.schemas import PostIn
from igpreflight.serve.service import Service, Svc

router = APIRouter(tags=["posts"])
MAX_KEY = 255  # characters of an Idempotency-Key
State = Literal[
    "queued",
    "scheduled",
    "held",
    "creating",
    "processing",
    "publishing",
    "uncertain",
    "published",
    "failed",
    "duplicate",
    "cancelled",
    "interrupted",
]


class PostSubmit(PostIn):
    """A post in the manifest's shape, for an account of the accounts file."""

    account: str = Field(
        min_length=1, max_length=255, description="An account of the accounts file."
    )  # type: ignore[assignment]


class PostOut(BaseModel):
    id: str = Field(description="The durable post id (`igpreflight status` shows it too).")
    account: str
    state: State
    attempts: int
    media_type: str | None
    media_id: str | None = Field(description="Instagram's media id once published.")
    container_id: str | None
    error_class: str | None
    error: str | None
    until: str | None = Field(description="Held or scheduled: when it is looked at again.")
    publish_at: str | None
    step: str | None
    url: str


class PostList(BaseModel):
    posts: list[PostOut]


def _visible(svc: Service, principal: Principal) -> list[str]:
    known = sorted(svc.publishing.accounts)
    return known if principal.everything else [a for a in known if a in principal.accounts]


def _find(svc: Service, principal: Principal, post_id: str) -> tuple[str, dict[str, Any]]:
    if len(post_id) <= 200:
        for account in _visible(svc, principal):
            with svc.publishing.guard():
                row = svc.publishing.queue.find(account, post_id)
            if row is not None:
                return account, row
    raise Problem(404, f"no post {post_id[:40]!r}", "no-such-post")


@router.post(
    "/v1/posts",
    response_model=PostOut,
    status_code=201,
    responses={
        200: {"model": PostOut, "description": "This Idempotency-Key's post, made before"},
        **responses(400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503, 507),
    },
    summary="Enqueue a post for publishing",
    dependencies=[Depends(caller), Depends(json_body)],
)
def create_post(
    body: PostSubmit,
    principal: Caller,
    svc: Svc,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required. The same key and body return the same post, never a second.",
        ),
    ] = None,
) -> JSONResponse:
    """Check the post as /v1/check does (an error: 422 with the findings), upload its
    stored media to the bucket, and enqueue it: 201 with the post and `Location`.
    The same Idempotency-Key (per API key) with the same body answers 200 with the
    same post; with another body, 409."""
    key = (idempotency_key or "").strip()
    if not key:
        raise Problem(
            400,
            "send an Idempotency-Key header (a unique string per post)",
            "idempotency-key-required",
        )
    if len(key) > MAX_KEY:
        raise Problem(
            400, f"the Idempotency-Key is longer than {MAX_KEY} characters", "bad-idempotency-key"
        )
    require_account(principal, body.account)
    svc.publishing.account(body.account)  # 422 for an account the file does not have
    with svc.publishing.guard():
        status, row = submit(svc, principal, key, body.model_dump(exclude_unset=True))
    answer = post_answer(row)
    return JSONResponse(answer, status_code=status, headers={"Location": answer["url"]})


@router.get(
    "/v1/posts",
    response_model=PostList,
    responses=responses(401, 422, 429, 503),
    summary="The posts of this key's accounts",
)
def list_posts(
    principal: Caller,
    svc: Svc,
    state: Annotated[State | None, Query(description="Only posts in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    visible = _visible(svc, principal)
    if not visible:  # no account to show: the database is not even opened
        return {"posts": []}
    with svc.publishing.guard():
        rows = svc.publishing.queue.rows(visible)
    posts = [post_answer(r) for r in rows if state is None or str(r["state"]) == state]
    return {"posts": posts[:limit]}


@router.get(
    "/v1/posts/{post_id}",
    response_model=PostOut,
    responses=responses(401, 404, 429, 503),
    summary="A post's state",
)
def get_post(post_id: str, principal: Caller, svc: Svc) -> dict[str, Any]:
    """State, attempts, media id, error class and message, and when it is looked at
    again (`until`)."""
    _, row = _find(svc, principal, post_id)
    return post_answer(row)


@router.delete(
    "/v1/posts/{post_id}",
    response_model=PostOut,
    responses=responses(401, 404, 409, 429, 503),
    summary="Cancel a post not yet sent",
)
def cancel_post(post_id: str, principal: Caller, svc: Svc) -> dict[str, Any]:
    """A queued, scheduled or held post (or one whose containers are being made) is
    cancelled and never published. One that was sent, is being sent, or has ended: 409."""
    from igpreflight.serve.posts_queue import NotCancellable

    account, _ = _find(svc, principal, post_id)
    try:
        with svc.publishing.guard():
            row = svc.publishing.queue.cancel(account, post_id)
    except NotCancellable as exc:
        raise Problem(
            409,
            f"post {post_id} is {exc.state}: too late to cancel",
            "not-cancellable",
            state=str(exc.state),
        ) from None
    if row is None:
        raise Problem(404, f"no post {post_id[:40]!r}", "no-such-post")
    return post_answer(row)

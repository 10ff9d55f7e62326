"""GET /v1/webhooks/deliveries: the latest webhook deliveries the caller's scope covers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from igpreflight.preflight.rfc3339 import format_moment
from igpreflight.serve.auth import Caller
from igpreflight.serve.problems import responses

router = APIRouter(tags=["webhooks"])

Status = Literal["pending", "delivered", "dead", "disabled"]


class DeliveryOut(BaseModel):
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt.")
    endpoint: str = Field(description="The receiver's URL without credentials or query.")
    type: str
    account: str
    post_id: str
    status: Status
    attempts: int
    last_status: int | None = Field(None, description="The receiver's last HTTP status.")
    last_error: str | None = None
    next_attempt_at: str | None = Field(None, description="When a pending one is tried next.")
    created_at: str
    done_at: str | None = None


@router.get(
    "/v1/webhooks/deliveries",
    response_model=list[DeliveryOut],
    responses=responses(401, 429),
    summary="Webhook deliveries",
)
def deliveries_route(
    request: Request,
    who: Caller,
    limit: int = Query(100, ge=1, le=1000),
    status: Status | None = None,
) -> list[dict[str, Any]]:
    """The latest deliveries (newest first) of posts of the caller's accounts; empty
    without webhooks (or before the publishing database answers)."""
    dispatcher = getattr(request.app.state, "webhooks", None)
    outbox = dispatcher.outbox if dispatcher is not None else None
    if outbox is None:
        return []
    accounts = None if who.everything else frozenset(who.accounts)
    shown = {key: e.shown for key, e in dispatcher.by_key.items()}
    out = []
    for r in outbox.rows(accounts, limit, status):
        out.append(
            {
                "webhook_id": r["msg_id"],
                "endpoint": shown.get(r["endpoint"], r["endpoint"]),
                "type": r["event_type"],
                "account": r["account"],
                "post_id": r["post_id"],
                "status": r["status"],
                "attempts": r["attempts"],
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "next_attempt_at": format_moment(r["next_at"])
                if r["status"] == "pending"
                else None,
                "created_at": format_moment(r["created_at"]),
                "done_at": format_moment(r["done_at"]) if r["done_at"] else None,
            }
        )
    return out

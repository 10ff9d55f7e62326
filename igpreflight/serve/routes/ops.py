"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from igpreflight.serve.health import readiness
from igpreflight.serve.metrics import exposition
from igpreflight.serve.schemas import Health, Ready
from igpreflight.serve.service import Svc

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process answers")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "Not ready: a check failed"}},
    summary="The database and the bucket answer",
)
async def readyz(svc: Svc) -> Any:
    state = await run_in_threadpool(readiness, svc.settings)
    return JSONResponse(state, status_code=200 if state["ready"] else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
def metrics(svc: Svc) -> Response:
    body, content_type = exposition(*svc.gauges)
    return Response(body, media_type=content_type)

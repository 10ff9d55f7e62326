"""/metrics in Prometheus' text format: requests, latency, findings by rule.

Labels are a route's template (`/v1/jobs/{job_id}`, never the id), the method,
the status and rule codes: bounded sets, and never a key, a token or a URL.
With several worker processes, `serve` sets PROMETHEUS_MULTIPROC_DIR before
they start, and /metrics adds up every worker's counts (prometheus_client's
multiprocess mode), so a scrape sees the service, not one worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from igpreflight.serve.limits import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "igpreflight_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "igpreflight_http_request_duration_seconds",
    "Time from a request's start to the end of its answer.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
FINDINGS = Counter(
    "igpreflight_findings",
    "Findings reported by /v1/check and /v1/media, by rule code and severity.",
    ["rule", "severity"],
)
WEBHOOK_DELIVERIES = Counter(
    "igpreflight_webhook_deliveries",
    "Webhook delivery attempts, by outcome: delivered, retried, dead, disabled (410).",
    ["outcome"],
)


def count_findings(findings: Iterable[dict[str, Any]]) -> None:
    for f in findings:
        FINDINGS.labels(f["rule"], f["severity"]).inc()


def exposition(*gauges: Any) -> tuple[bytes, str]:
    """The metrics page: every worker's sum in multiprocess mode, else this process's;
    then `gauges` (collectors read from the database: the same in every worker)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        page = generate_latest(registry)
    else:
        page = generate_latest(DEFAULT_REGISTRY)
    if gauges:
        extra = CollectorRegistry()
        for gauge in gauges:
            extra.register(gauge)
        page += generate_latest(extra)
    return page, CONTENT_TYPE_LATEST


class RequestMetrics:
    """ASGI middleware counting every answered request and timing it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_of(scope)
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - start)


def route_of(scope: Scope) -> str:
    """The template of the route a request was for. A request refused by middleware
    before routing (413 over the body cap, 415 for a coded body) has no `route` in its
    scope yet: it is matched here, so its refusal counts under its route, not as
    "unmatched" (which stays for paths no route serves)."""
    from starlette.routing import Match

    found = scope.get("route")
    if found is None and scope.get("app") is not None:
        for candidate in _leaf_routes(getattr(scope["app"], "routes", ())):
            if candidate.matches(scope)[0] != Match.NONE:
                found = candidate
                break
    return getattr(found, "path", None) or "unmatched"


def _leaf_routes(routes: Iterable[Any]) -> Iterable[Any]:
    """The routes themselves: FastAPI wraps an included router (`original_router`)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(getattr(inner, "routes", ()))
        elif getattr(route, "path", None):
            yield route

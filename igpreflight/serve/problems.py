"""Every refusal as RFC 9457 problem details (`application/problem+json`).

A client's mistake is a 4xx with a one-line `detail` that says what to change;
nothing a client sends becomes a 500. Problem types are stable URNs
(`urn:igpreflight:problem:<slug>`) a client can branch on; `title` is the HTTP
reason phrase. Details never carry secrets: messages come from our own code
(pydantic's `input` echo is dropped from validation errors).
"""

from __future__ import annotations

import http
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("igpreflight.serve")

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:igpreflight:problem:"

# FastAPI's 400 when reading the body raised anything but a JSON syntax error: bytes
# that are not UTF-8, nesting deeper than the parser's recursion, an integer of more
# than 4300 digits. For the client it is the same mistake as a syntax error.
BODY_UNPARSED = "There was an error parsing the body"
UNPARSED_DETAIL = (
    "the body is not valid JSON (not UTF-8, nested too deep, or a number too long to read)"
)

# The slug of a status when the code raising it gives none.
_DEFAULT_SLUG = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


class Problem(Exception):
    """Raise to answer with problem details; `headers` go on the response."""

    def __init__(
        self,
        status: int,
        detail: str,
        slug: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _DEFAULT_SLUG.get(status, "error")
        self.headers = headers or {}
        self.extra = extra


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None  # 422: each invalid field


def problem_body(problem: Problem, instance: str | None = None) -> dict[str, Any]:
    body = {
        "type": TYPE_PREFIX + problem.slug,
        "title": _phrase(problem.status),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extra)
    return body


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem_body(problem, instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=MEDIA_TYPE,
    )


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without the `input` and `ctx` echoes (they may be large)."""
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]


def install(app: FastAPI) -> None:
    """Answer every error of `app` with problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            bad = Problem(400, "the body is not valid JSON", "malformed-json")
            return problem_response(bad, request.url.path)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        return problem_response(Problem(422, detail, errors=errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
        problem = Problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        if exc.status_code == 400 and detail == BODY_UNPARSED:
            problem = Problem(400, UNPARSED_DETAIL, "malformed-json")
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        problem = Problem(500, "the service failed on this request; the error is in its log")
        return problem_response(problem, request.url.path)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses (problem+json)."""
    return {
        status: {
            "description": _phrase(status),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }


# What FastAPI declares for a request it cannot validate, which this service never
# answers: install() turns every validation error into problem details.
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def problems_in_document(doc: dict[str, Any]) -> None:
    """Make `doc` (the OpenAPI document) say what the service answers to a request
    it cannot validate: FastAPI declares a 422 of `application/json`
    HTTPValidationError on each route with parameters that does not name its own
    422, while the answer is problem details. A client generated from the document
    (openapi-python-client) raised ValueError reading `GET
    /v1/webhooks/deliveries?limit=0`, whose `detail` is a string, not a list."""
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {})
            declared = answers.get("422", {}).get("content", {}).get("application/json", {})
            if declared.get("schema", {}).get("$ref") == _FASTAPI_422:
                answers["422"] = responses(422)[422]
    schemas = doc.get("components", {}).get("schemas", {})
    if _FASTAPI_422 not in str(doc.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)

"""POST /v1/media (upload one file), GET/DELETE /v1/media/{id}, GET .../content."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from igpreflight.model import AsOption
from igpreflight.serve.auth import Caller
from igpreflight.serve.checking import check_file, file_summary, media_answer
from igpreflight.serve.keys import Principal
from igpreflight.serve.metrics import count_findings
from igpreflight.serve.problems import Problem, responses
from igpreflight.serve.schemas import MediaOut
from igpreflight.serve.service import Service, Svc
from igpreflight.serve.store import StoredMedia
from igpreflight.serve.uploads import FILE_FIELD, receive_file

router = APIRouter(tags=["media"])

ROLES = [a.value for a in AsOption]
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {"type": "string", "format": "binary"},
                    "as": {"type": "string", "enum": ROLES, "default": "auto"},
                },
            }
        }
    },
}


def stored(svc: Service, media_id: str, principal: Principal) -> StoredMedia:
    media = svc.store.get(media_id, principal)
    if media is None:
        raise Problem(404, f"no media {media_id[:40]!r} (it may have expired)", "no-such-media")
    return media


@router.post(
    "/v1/media",
    status_code=201,
    response_model=MediaOut,
    responses=responses(400, 401, 408, 413, 415, 422, 429, 503, 507),
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Upload one media file",
)
async def upload_media(
    request: Request,
    principal: Caller,
    svc: Svc,
) -> Any:
    """Stream one file (multipart part `file`) into the service, check it in the role
    `as` (default auto), and keep it for the media TTL. Its id can be used as a
    post's media in /v1/check and as the source of /v1/fix."""
    received = await receive_file(request, svc.store, svc.settings.max_upload)
    try:
        as_ = received.fields.get("as", "auto") or "auto"
        if as_ not in ROLES:
            raise Problem(422, f"as must be one of {', '.join(ROLES)}", "invalid")
        path = svc.store.incoming_root / received.media_id / received.name
        report, findings = await run_in_threadpool(check_file, path, as_, svc.layers.base)
        summary = {**file_summary(report), "findings": findings}
        media = svc.store.commit(
            received.media_id, received.name, principal.scope, "upload", summary
        )
    except BaseException:
        svc.store.discard(received.media_id)
        raise
    count_findings(findings)
    answer = MediaOut.model_validate(media_answer(media)).model_dump(by_alias=True)
    return JSONResponse(answer, status_code=201, headers={"Location": f"/v1/media/{media.id}"})


@router.get(
    "/v1/media/{media_id}",
    response_model=MediaOut,
    responses=responses(401, 404, 429),
    summary="A media's facts and findings",
)
def get_media(media_id: str, principal: Caller, svc: Svc) -> dict[str, Any]:
    return media_answer(stored(svc, media_id, principal))


_CONTENT = {
    "response_class": FileResponse,
    "responses": {
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
        **responses(401, 404, 429),
    },
}


# HEAD: a client's size and type check (curl -I) before a download; its own operation
# id, since one route for both methods gave the two operations the same id.
@router.head(
    "/v1/media/{media_id}/content",
    operation_id="head_media_content",
    summary="A media's size and type",
    **_CONTENT,
)
@router.get("/v1/media/{media_id}/content", summary="A media's bytes", **_CONTENT)
def get_media_content(media_id: str, principal: Caller, svc: Svc) -> FileResponse:
    media = stored(svc, media_id, principal)
    return FileResponse(media.path, media_type="application/octet-stream", filename=media.name)


@router.delete(
    "/v1/media/{media_id}",
    status_code=204,
    response_class=Response,
    responses=responses(401, 404, 429, 503),
    summary="Forget a media now",
)
def delete_media(media_id: str, principal: Caller, svc: Svc) -> Response:
    svc.store.remove(stored(svc, media_id, principal).id)
    return Response(status_code=204)

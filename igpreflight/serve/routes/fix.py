"""POST /v1/fix (images answered at once, videos as jobs) and GET /v1/jobs/{id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from igpreflight.serve.auth import Caller, caller, json_body
from igpreflight.serve.checking import check_file, file_summary
from igpreflight.serve.jobs import Job
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem, responses
from igpreflight.serve.routes.media import stored
from igpreflight.serve.schemas import FixOut, FixRequest, JobOut
from igpreflight.serve.service import Service, Svc
from igpreflight.serve.sources import fetch_url
from igpreflight.serve.store import StoredMedia

router = APIRouter(tags=["fix"])


def job_answer(job: Job) -> dict[str, Any]:
    from igpreflight.preflight.rfc3339 import format_moment

    def when(t: float | None) -> str | None:
        return format_moment(t) if t is not None else None

    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "url": f"/v1/jobs/{job.id}",
        "created_at": format_moment(job.created),
        "started_at": when(job.started),
        "finished_at": when(job.finished),
        "result": job.result,
        "error": job.error,
    }


def fetched_media(svc: Service, url: str, principal: Principal) -> StoredMedia:
    """A URL's media, fetched as Instagram would and kept like an upload."""
    media_id, name, _ = fetch_url(svc.store, url, svc.settings.allow_private)
    try:
        report, findings = check_file(
            svc.store.incoming_root / media_id / name, "auto", svc.layers.base
        )
        summary = {**file_summary(report), "findings": findings}
        return svc.store.commit(media_id, name, principal.scope, "url", summary)
    except BaseException:
        svc.store.discard(media_id)
        raise


@router.post(
    "/v1/fix",
    response_model=None,
    responses={
        200: {"model": FixOut, "description": "Fixed (or why it cannot be)"},
        202: {"model": JobOut, "description": "Accepted as a job: poll its url"},
        **responses(400, 401, 404, 408, 413, 415, 422, 429, 503, 507),
    },
    summary="Fix a media",
    dependencies=[Depends(caller), Depends(json_body)],
)
def fix_route(body: FixRequest, principal: Caller, svc: Svc) -> JSONResponse:
    """Fix a media (by id, or fetched from a URL) into a new media, uploaded to the
    service's bucket when it has one. Images are answered at once (200); videos
    become a job (202, `Location: /v1/jobs/{id}`)."""
    if (body.media_id is None) == (body.url is None):
        raise Problem(422, "give exactly one of media_id or url", "invalid")
    if body.url is not None:
        source = fetched_media(svc, body.url, principal)
    else:
        source = stored(svc, body.media_id or "", principal)
    params = {
        "media_id": source.id,
        "scope": principal.scope,
        **body.model_dump(by_alias=True, exclude={"media_id", "url"}),
    }
    if source.kind == "video":
        job = svc.jobs.submit("fix", params, principal)
        return JSONResponse(
            job_answer(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"}
        )
    answer = svc.fixer(params)
    return JSONResponse(FixOut.model_validate(answer).model_dump(by_alias=True))


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobOut,
    responses=responses(401, 404, 429),
    summary="A job's state and result",
)
def get_job(job_id: str, principal: Caller, svc: Svc) -> dict[str, Any]:
    job = svc.jobs.get(job_id, principal)
    if job is None:
        raise Problem(404, f"no job {job_id[:40]!r}", "no-such-job")
    return job_answer(job)

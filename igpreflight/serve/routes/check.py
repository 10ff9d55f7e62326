"""POST /v1/check: a post's findings, exactly the CLI's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from igpreflight.config import RuleSelection
from igpreflight.serve.auth import Caller, caller, json_body, require_account
from igpreflight.serve.checked import checked_post
from igpreflight.serve.checking import verdict
from igpreflight.serve.keys import Principal
from igpreflight.serve.metrics import count_findings
from igpreflight.serve.problems import Problem, responses
from igpreflight.serve.schemas import CheckRequest, CheckResponse
from igpreflight.serve.service import Service, Svc

router = APIRouter(tags=["check"])


@router.post(
    "/v1/check",
    response_model=CheckResponse,
    responses=responses(400, 401, 403, 404, 408, 413, 415, 422, 429, 503, 507),
    summary="Check a post",
    dependencies=[Depends(caller), Depends(json_body)],
)
async def check_route(body: CheckRequest, principal: Caller, svc: Svc) -> JSONResponse:
    """Every finding `igpreflight check --manifest` gives for this post, each with the
    media item it is about. `valid` is false when there is an error (or, with
    `strict`, a warning)."""
    account = body.post.account
    require_account(principal, account)
    if account is not None and svc.accounts is not None and account not in svc.accounts:
        raise Problem(422, f"no account {account!r} in the accounts file", "unknown-account")
    rules = svc.layers.for_request(tuple(body.select), tuple(body.ignore))
    post = body.post.model_dump(exclude_unset=True)

    def work() -> dict[str, Any]:
        return check_one(svc, principal, post, rules, body.deep, body.strict)

    # Posts of stored media only are header reads (about a millisecond): done on the
    # event loop. URLs, s3:// keys and --deep wait on the network or decode: a thread.
    answer = await run_in_threadpool(work) if body.deep or _remote(post) else work()
    return JSONResponse(answer)


def _remote(post: dict[str, Any]) -> bool:
    refs = [*post["media"], *([post["cover"]] if post.get("cover") is not None else [])]
    return any("://" in str(ref.get("url") or "" if isinstance(ref, dict) else ref) for ref in refs)


def check_one(
    svc: Service,
    principal: Principal,
    post: dict[str, Any],
    rules: RuleSelection,
    deep: bool,
    strict: bool,
) -> dict[str, Any]:
    with checked_post(svc, principal, post, rules, deep) as found:
        report, findings = found.report, found.findings
    count_findings(findings)
    checked = report.posts[0].post
    return {"id": checked.id, "media_type": checked.media_type, **verdict(findings, strict)}

"""GET /v1/rules and GET /v1/explain/{code}: the catalog `igpreflight rules/explain` shows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from igpreflight.api.explaining import explain, rule_dict, rules
from igpreflight.serve.auth import caller
from igpreflight.serve.problems import Problem, responses
from igpreflight.serve.schemas import ExplainOut, RuleOut

router = APIRouter(tags=["catalog"], dependencies=[Depends(caller)])
# Longer than any rule code or Graph code/subcode ("352/2207026"): not looked up, since
# a number of thousands of digits makes int() raise (and the answer was a 500).
MAX_CODE = 40


@router.get(
    "/v1/rules", response_model=list[RuleOut], responses=responses(401, 429), summary="Every rule"
)
def rules_route() -> list[dict[str, Any]]:
    """Every rule: code, severity, what it checks, the Graph error it prevents, fixable."""
    return [rule_dict(r) for r in rules()]


@router.get(
    "/v1/explain/{code:path}",
    response_model=ExplainOut,
    responses=responses(401, 404, 429),
    summary="Explain a code",
)
def explain_route(code: str) -> dict[str, Any]:
    """A rule code (IMG003) or a Graph error (2207026, 190, or 352/2207026)."""
    found = explain(code) if len(code) <= MAX_CODE else None
    if found is None:
        raise Problem(404, f"unknown code {code[:40]!r}: try a rule code or a Graph subcode")
    return found.to_dict()

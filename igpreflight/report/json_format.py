"""The JSON report, version 1 (SPEC section 4)."""

from __future__ import annotations

from igpreflight.envelope import dumps
from igpreflight.model import Report


def render(report: Report) -> str:
    return dumps(report.to_dict())

"""Renderers: one module per output format of `check`, each `render(report) -> str`.

The other commands' output lives beside them: fix.py, urls.py (upload, check-url),
publish.py and run.py render the API's result objects; html.py is the fix review page.
"""

from __future__ import annotations

from collections.abc import Callable

from igpreflight.model import Report
from igpreflight.report import github, json_format, junit, sarif, text
from igpreflight.textcheck import printable

RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "github": github.render,
}


def render(report: Report, fmt: str, strict: bool = False) -> str:
    """Render in `fmt`; `strict` (warnings fail) matters to formats that say pass/fail.
    Text no UTF-8 encoder takes (a lone surrogate from the input) comes out escaped."""
    if fmt == "junit":
        return junit.render(report, strict=strict)
    return printable(RENDERERS[fmt](report))

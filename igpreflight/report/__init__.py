"""Renderers: one module per output format of `check`, each `render(report) -> str`.

The other commands' output lives beside them: fix.py, urls.py (upload, check-url),
publish.py and run.py render the API's result objects; html.py is the fix review page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from igpreflight.config import FORMATS
from igpreflight.model import Report
from igpreflight.textcheck import printable

_MODULES = {"json": "json_format"}  # format -> module, where the names differ


class _Renderers(Mapping[str, Callable[[Report], str]]):
    """format -> render function. Each format's module is imported when it is asked
    for: a `check` that prints text never loads the XML of JUnit or SARIF."""

    def __getitem__(self, fmt: str) -> Callable[[Report], str]:
        if fmt not in FORMATS:
            raise KeyError(fmt)
        module = importlib.import_module(f"{__name__}.{_MODULES.get(fmt, fmt)}")
        return module.render  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(FORMATS)

    def __len__(self) -> int:
        return len(FORMATS)


RENDERERS: Mapping[str, Callable[[Report], str]] = _Renderers()


def render(report: Report, fmt: str, strict: bool = False) -> str:
    """Render in `fmt`; `strict` (warnings fail) matters to formats that say pass/fail.
    Text no UTF-8 encoder takes (a lone surrogate from the input) comes out escaped."""
    if fmt == "junit":
        from igpreflight.report import junit

        return printable(junit.render(report, strict=strict))
    return printable(RENDERERS[fmt](report))

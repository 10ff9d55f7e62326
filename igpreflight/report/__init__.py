"""Renderers: one module per output format, each `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable

from igpreflight.model import Report
from igpreflight.report import json_format, text

RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_format.render,
}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)

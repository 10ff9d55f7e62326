"""The one JSON envelope every report shares: `{"version": 1, "tool": {...}, ...}`.

Every `--format json` document (check, fix, upload, check-url, publish, run) starts
with the same two keys, so a consumer can tell what wrote it before reading the rest.
"""

from __future__ import annotations

import json
from typing import Any

from igpreflight._version import SPEC_VERSION, __version__
from igpreflight.textcheck import printable

SCHEMA_VERSION = 1


def tool() -> dict[str, str]:
    """The `tool` object: name, version, and the spec revision the rules follow."""
    return {"name": "igpreflight", "version": __version__, "spec": SPEC_VERSION}


def envelope(**body: Any) -> dict[str, Any]:
    """A version-1 document: the envelope's keys first, then `body` in order."""
    return {"version": SCHEMA_VERSION, "tool": tool(), **body}


def dumps(doc: dict[str, Any]) -> str:
    """The document as printed: indented, UTF-8 kept readable, one final newline. A
    lone surrogate (which UTF-8 cannot carry) is written as its JSON escape."""
    return printable(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"

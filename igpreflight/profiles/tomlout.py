"""Write TOML data (nested dicts of strings, numbers, booleans and lists) as text.

Only what profiles hold: tables, scalars and lists of scalars. Python's tomllib
reads TOML but does not write it; this small writer keeps the output stable, so
`igpreflight profiles show` prints the same text for the same profile.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name, ensure_ascii=False)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dumps(data: Mapping[str, Any]) -> str:
    """`data` as a TOML document: a table's values first, then its sub-tables."""
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(data: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    plain = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    if path and (plain or not tables):
        lines += ["", "[" + ".".join(key(p) for p in path) + "]"]
    lines += [f"{key(k)} = {scalar(v)}" for k, v in plain.items()]
    for name, table in tables.items():
        _table(table, [*path, name], lines)

"""The TOML reader, loaded when a TOML file or text is read (most runs read none)."""

from __future__ import annotations

import sys
from types import ModuleType


def toml() -> ModuleType:
    """tomllib (tomli on Python 3.10): `.loads` and `.TOMLDecodeError`."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # pragma: no cover - Python 3.10 only

    return tomli  # pragma: no cover

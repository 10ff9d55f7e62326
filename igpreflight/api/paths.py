"""Path arguments of the API: one path or many, each of which must exist."""

from __future__ import annotations

import os
from collections.abc import Iterable

PathLike = str | os.PathLike[str]


def as_list(paths: PathLike | Iterable[PathLike]) -> list[str]:
    """`paths` as a list of strings; FileNotFoundError for the first local path that
    does not exist (s3:// URIs are listed when they are read)."""
    from igpreflight.storage.scheme import is_s3

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = [os.fspath(p) for p in paths]
    for p in out:
        if not is_s3(p) and not os.path.exists(p):
            raise FileNotFoundError(p)
    return out

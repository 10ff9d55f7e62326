"""Path globs the way the configuration writes them (`per-file-ignores`, `roles`, `profiles`).

Split from `config.py`: matching a path against a glob is its own small language
(`**` crosses folders, a pattern with a slash is relative to the config file's
folder, an s3:// URI is matched as bucket/key), used per file by `RuleSelection`
long after the file was read.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: `**` crosses folders, `*` and `?` do not, `[...]` a class."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_matches(pattern: str, path: str | os.PathLike[str], root: str) -> bool:
    """Does `path` match `pattern`? A pattern with a slash is matched against the path
    relative to `root` (the config file's folder); one without, against the file name."""
    pattern = pattern.strip()
    text = os.fspath(path)
    if "://" in text:  # an object URI (s3://bucket/key): globs see bucket/key
        rel = text.split("://", 1)[1]
        name = rel.rsplit("/", 1)[-1]
        if "/" not in pattern.rstrip("/"):
            return bool(_glob_regex(pattern).match(name))
        return bool(_glob_regex(pattern + ("**" if pattern.endswith("/") else "")).match(rel))
    absolute = Path(os.path.abspath(text))
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "/" not in pattern.rstrip("/"):
        return bool(_glob_regex(pattern).match(absolute.name))
    try:
        rel = absolute.relative_to(root).as_posix() if root else absolute.as_posix()
    except ValueError:
        return False
    if pattern.endswith("/"):
        pattern += "**"
    return bool(_glob_regex(pattern).match(rel))

"""Whether a path names an S3 object: asked of every path a command is given, so it
loads nothing (s3uri's parsing and the S3 layer stay unloaded for local files)."""

from __future__ import annotations

import os

SCHEME = "s3://"


def is_s3(path: str | os.PathLike[str]) -> bool:
    """True for an s3:// URI (any case of the scheme)."""
    return isinstance(path, str) and path[:5].lower() == SCHEME

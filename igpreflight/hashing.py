"""Content hashes of files, shared by the fix ledger and the CDN (keys, URL003)."""

from __future__ import annotations

import hashlib
import os

HASH_CHUNK = 1024 * 1024


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file, read in chunks so large videos stay out of memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

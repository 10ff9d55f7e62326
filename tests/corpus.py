"""Where the third-party media corpus is, for every test that reads it.

The corpus (real files nobody here made: camera JPEGs, CMYK, HEIC, broken PNGs,
odd MP4s) is not in the repository. Tests find it at `$IGPREFLIGHT_CORPUS`, else at
`../shared/corpus` beside the repository (where CI lays it). Without it their tests
skip, each saying how to point them at a copy; CI must not skip them
(tests/test_corpus_setup.py fails there instead).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "IGPREFLIGHT_CORPUS"
REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "corpus"


def corpus_path() -> Path:
    """$IGPREFLIGHT_CORPUS (a folder holding MANIFEST.md), else ../shared/corpus."""
    given = os.environ.get(ENV, "").strip()
    return Path(given).expanduser().resolve() if given else DEFAULT


CORPUS = corpus_path()
AVAILABLE = (CORPUS / "MANIFEST.md").is_file()
SKIP_REASON = (
    f"media corpus not found at {CORPUS}: set {ENV}=/path/to/corpus (the folder with "
    "MANIFEST.md) to run this test; see docs/install-and-troubleshooting.md"
)
needs_corpus = pytest.mark.skipif(not AVAILABLE, reason=SKIP_REASON)


def corpus_files(suffixes: set[str] | None = None) -> list[Path]:
    """The corpus's media files (sorted), optionally only those with these suffixes
    (lower case, with the dot); [] without a corpus."""
    if not AVAILABLE:
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file()
        and p.name not in ("MANIFEST.md", "SHA256SUMS")
        and (suffixes is None or p.suffix.lower() in suffixes)
    )

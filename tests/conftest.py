"""Shared test fixtures: the third-party corpus, the committed sample set, and a
factory for generating exactly the media a test needs (Pillow + bundled ffmpeg)."""

from __future__ import annotations

import compileall
import os
from pathlib import Path
from typing import Any

import pytest

from fixtures import generate
from igpreflight.report.locate import CI_ROOT_VARIABLES
from tests.corpus import AVAILABLE, CORPUS, SKIP_REASON

REPO = Path(__file__).resolve().parents[1]
SAMPLE_MEDIA = REPO / "fixtures" / "media"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write the package's bytecode once, before the tests start hundreds of
    `python -m igpreflight` processes. Where PYTHONDONTWRITEBYTECODE is set (this
    project's CI machines set it), no process writes it, and every one compiled
    each module it imports from source again: 0.2 s a process, and a subprocess-
    heavy test file ran 3.4x slower from a fresh checkout than from a used one."""
    for package in ("igpreflight", "fixtures"):
        compileall.compile_dir(REPO / package, quiet=1)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The third-party media corpus (tests/corpus.py: $IGPREFLIGHT_CORPUS, else
    ../shared/corpus); skips, saying how to point at one, when it is absent."""
    if not AVAILABLE:
        pytest.skip(SKIP_REASON)
    return CORPUS


@pytest.fixture(scope="session")
def sample_media() -> Path:
    """The committed sample set (fixtures/media)."""
    return SAMPLE_MEDIA


class MediaFactory:
    """Makes media files under one temporary folder.

    `image(name, **kw)` -> fixtures.generate.make_image, `video(name, **kw)` ->
    make_video, `write(name, data)` raw bytes, `truncated(src, name, keep)` a cut
    copy. Names may contain folders, spaces, unicode or a leading dash.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    def image(self, name: str = "image.jpg", **kwargs: Any) -> Path:
        kwargs.setdefault("size", (64, 80))
        return generate.make_image(self.root / name, **kwargs)

    def video(self, name: str = "clip.mp4", **kwargs: Any) -> Path:
        kwargs.setdefault("width", 64)
        kwargs.setdefault("height", 64)
        kwargs.setdefault("duration", 1.0)
        return generate.make_video(self.root / name, **kwargs)

    def write(self, name: str, data: bytes) -> Path:
        return generate.write_bytes(self.root / name, data)

    def truncated(self, src: str | os.PathLike[str], name: str, keep: float = 0.6) -> Path:
        return generate.truncate_copy(src, self.root / name, keep)


@pytest.fixture
def media_factory(tmp_path: Path) -> MediaFactory:
    return MediaFactory(tmp_path)


@pytest.fixture(autouse=True)
def _outside_ci_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI formats name files from $GITHUB_WORKSPACE or $CI_PROJECT_DIR when one is set
    (report.locate.ci_root); tests expect the working directory, as a run outside CI
    has it, even when the suite itself runs in such a job, unless they set one."""
    for name in CI_ROOT_VARIABLES:
        monkeypatch.delenv(name, raising=False)

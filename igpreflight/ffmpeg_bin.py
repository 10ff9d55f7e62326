"""Where the ffmpeg binary is: IGPREFLIGHT_FFMPEG, else the one in imageio-ffmpeg's wheel."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg to run; `pip install` alone provides one (libx264, aac).

    The wheel's binary is taken as it lies: imageio-ffmpeg's own lookup runs
    `ffmpeg -version` to validate it (twice, 18 ms before a remux's proof could
    start), which only pays when it has to fall back to conda's or the system's."""
    override = os.environ.get("IGPREFLIGHT_FFMPEG")
    if override:
        return override
    bundled = _bundled()
    if bundled is not None:
        return bundled
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _bundled() -> str | None:
    """The binary shipped in imageio-ffmpeg's wheel, when it is there and executable.

    Found without importing imageio_ffmpeg (5-7 ms: logging, its subprocess
    helpers) when its `binaries` folder holds exactly one ffmpeg, as a wheel
    does: that is the one its own table names for this platform."""
    if os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return None  # the user chose one for imageio-ffmpeg: it returns that
    from importlib.util import find_spec

    try:
        spec = find_spec("imageio_ffmpeg")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    folder = os.path.join(os.path.dirname(spec.origin), "binaries")
    try:
        found = [n for n in os.listdir(folder) if n.startswith("ffmpeg-")]
    except OSError:
        found = []
    if len(found) == 1:
        path = os.path.join(folder, found[0])
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return _named_by_imageio()


def _named_by_imageio() -> str | None:
    """The binary imageio-ffmpeg's table names for this platform (several in the folder)."""
    try:
        import imageio_ffmpeg
        from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform
    except ImportError:  # another layout of the package: its own lookup decides
        return None
    name = FNAME_PER_PLATFORM.get(get_platform(), "")
    path = os.path.join(os.path.dirname(imageio_ffmpeg.__file__), "binaries", name)
    return path if name and os.path.isfile(path) and os.access(path, os.X_OK) else None

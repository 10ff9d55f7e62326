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
    """The binary shipped in imageio-ffmpeg's wheel, when it is there and executable."""
    try:
        import imageio_ffmpeg
        from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform
    except ImportError:  # another layout of the package: its own lookup decides
        return None
    if os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return None  # the user chose one for imageio-ffmpeg: it returns that
    name = FNAME_PER_PLATFORM.get(get_platform(), "")
    path = os.path.join(os.path.dirname(imageio_ffmpeg.__file__), "binaries", name)
    return path if name and os.path.isfile(path) and os.access(path, os.X_OK) else None

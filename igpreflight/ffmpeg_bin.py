"""Where the ffmpeg binary is: IGPREFLIGHT_FFMPEG, else the one in imageio-ffmpeg's wheel."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg to run; `pip install` alone provides one (libx264, aac)."""
    override = os.environ.get("IGPREFLIGHT_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()

"""A full decode of a media file: `check --deep`, and fix's proof that an output decodes.

The default check reads headers only, and 24 of 75 mutants it passed did not
decode (Instagram answers 2207005/2207026). Here every pixel and sample is
decoded, with errors fatal:
- images: Pillow `load()` of every frame; JPEGs through libjpeg-turbo with
  every corrupt-data warning fatal (`jpeg_strict`, at 1/8 scale: every block is
  still entropy-decoded), because libjpeg under Pillow conceals corrupt scan
  data as grey blocks without a word; ffmpeg then only says where the damage
  is, and decodes the JPEGs TurboJPEG cannot take (and Pillow's too-large ones);
- videos: an ffmpeg null decode of every video and audio stream with
  `-xerror` and `-err_detect explode`, under the child limits, on one thread,
  without the loop filter (`ffmpeg_decode` says why); an H.264 MP4 in pieces
  cut at IDR pictures, decoded side by side, each on one thread, with the whole
  decode's verdict (`video_proof`).
`decode_error` says what broke and where (a time for videos, ffmpeg's block
position for JPEGs), or None when everything decodes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from igpreflight.limits import IMAGE_FIX
from igpreflight.model import Facts, ImageFacts, VideoFacts
from igpreflight.preflight.ffmpeg_decode import UNSUPPORTED, ffmpeg_error

MAX_FRAMES = 1000  # frames of an animation decoded at most (the fixer keeps the first)
# ffmpeg refuses pictures past (w+128)*(h+128) >= INT_MAX/8; libjpeg takes them.
FFMPEG_MAX_AREA = (2**31 - 1) // 8
# Formats ffmpeg decodes in a capped child when Pillow's decode would not fit the budget.
FFMPEG_IMAGES = ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF")


def decode_cost(facts: ImageFacts, factor: int = 1) -> int:
    """Peak bytes of decoding an image at 1/factor scale and working on its pixels
    (`ImageFixTargets.decode_bytes_per_pixel`)."""
    per_pixel = dict(IMAGE_FIX.decode_bytes_per_pixel).get(
        facts.format.upper(), IMAGE_FIX.other_bytes_per_pixel
    )
    pixels = -(-facts.width // factor) * -(-facts.height // factor)
    return pixels * per_pixel * (2 if (facts.bits or 8) > 8 else 1)


def decode_error(
    path: str | Path, facts: Facts, budget: int | None = None, frames: bool = True
) -> str | None:
    """Why `path` does not decode fully (None: every frame and sample decodes).

    Without `frames`, a video's pictures are not decoded, only its structure is
    proved (`video_proof`: fix's default, the least work); an image is always
    decoded whole. An image whose Pillow decode would pass `budget` bytes (default: the image
    memory budget) is decoded by ffmpeg in a capped child process instead."""
    if isinstance(facts, ImageFacts):
        return image_error(Path(path), facts, budget or IMAGE_FIX.max_memory)
    if isinstance(facts, VideoFacts):
        if not (facts.has_video or facts.has_audio):
            # No stream: nothing is damaged, nothing to decode (ffmpeg would only
            # say it has no output stream); check's VID002 says what is wrong.
            return None
        from igpreflight.preflight.video_proof import prove

        return prove(path, facts.duration, frames)
    return None


def image_error(path: Path, facts: ImageFacts, budget: int) -> str | None:
    """Decode every frame. A JPEG goes through libjpeg-turbo with corrupt data
    fatal (`jpeg_strict`), since Pillow conceals a corrupt scan; one TurboJPEG
    cannot take, and any image too large for Pillow within `budget`, through
    ffmpeg (errors fatal) when it can take it; otherwise Pillow `load()`."""
    jpeg = facts.format.upper() in ("JPEG", "MPO")
    if jpeg:
        from igpreflight.preflight import jpeg_strict

        try:
            jpeg_strict.decode(path)
        except jpeg_strict.CorruptJpeg as exc:
            return located(path, facts, str(exc))
        except jpeg_strict.NotForTurbo:
            return classic_error(path, facts, budget)  # judged as before
        return _later_frames_error(path, facts)
    return classic_error(path, facts, budget)


def classic_error(path: Path, facts: ImageFacts, budget: int) -> str | None:
    """The decode for what TurboJPEG does not take: through ffmpeg (errors fatal)
    a JPEG, and an image too large for Pillow within `budget`, when ffmpeg can
    take them; otherwise Pillow `load()` of every frame."""
    jpeg = facts.format.upper() in ("JPEG", "MPO")
    area = (facts.width + 128) * (facts.height + 128)
    big = not jpeg and decode_cost(facts) > budget
    if area < FFMPEG_MAX_AREA and (jpeg or big):
        verdict = ffmpeg_error(path, None, video=False)
        if verdict != UNSUPPORTED:
            return verdict
    if big:
        return None  # neither decoder can take it within the budget: not judged
    return _pillow_error(path, facts)


def located(path: Path, facts: ImageFacts, complaint: str) -> str:
    """libjpeg-turbo's complaint about a damaged JPEG, with where ffmpeg saw the
    damage when it says (a decode of a file already known to be broken)."""
    if (facts.width + 128) * (facts.height + 128) >= FFMPEG_MAX_AREA:
        return complaint
    where = ffmpeg_error(path, None, video=False)
    if where is None or where in (UNSUPPORTED, complaint):
        return complaint
    return f"{complaint}; {where}"[:300]


def _later_frames_error(path: Path, facts: ImageFacts) -> str | None:
    """Frames after the first of a multi-picture JPEG (MPO), through Pillow."""
    if (facts.frames or 1) <= 1:
        return None
    return _pillow_error(path, facts, first=1)


def _pillow_error(path: Path, facts: ImageFacts, first: int = 0) -> str | None:
    from PIL import Image

    from igpreflight.preflight.probe_image import open_image

    try:
        with open(path, "rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = open_image(fh, str(path))
            if facts.format == "JPEG":
                im.draft(im.mode, (2048, 2048))  # every scan is still entropy-decoded
            for index in range(first, min(facts.frames or 1, MAX_FRAMES)):
                if index:
                    im.seek(index)
                im.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        return " ".join(str(exc).split())[:200] or type(exc).__name__
    return None

"""One JPEG decode that both proves the file and gives its pixels, DCT-scaled.

libjpeg (under Pillow) conceals corrupt scan data as grey blocks and says
nothing; ffmpeg reports it, but proving a file through ffmpeg and then decoding
it again with Pillow cost two decodes (fix ran at 0.66x vipsthumbnail's speed).
libjpeg-turbo's TurboJPEG API, through simplejpeg, decodes with every warning
reported (`strict`) and scales in the DCT domain by n/8 (n = 1..16): every
block is still entropy-decoded, so a 1/8 decode proves the whole file, and a
3/8 decode of a 4000 px photo gives the 1500 px the fixer shrinks to 1440.

libjpeg-turbo is also stricter than ffmpeg where it matters: a Pixel motion
photo whose scan stops early (96 % of it grey) is "premature end of data
segment" here, while ffmpeg calls it an overread and passes it.

Verdicts:
- `CorruptJpeg`: the data is damaged (a corrupt-data warning or a fatal error
  after the header); the reason is libjpeg-turbo's one line;
- `NotForTurbo`: anything else TurboJPEG says: it cannot take this JPEG (12-bit,
  lossless, unusual sampling, a fatal error), it warned about the headers (an
  unknown JFIF revision, Adobe transform or progression; TurboJPEG reports only
  the first warning, so damage after one of those would go unseen), or data was
  left before the end-of-image marker (padding, or a scrambled scan). The caller
  proves and decodes such a file the old way (ffmpeg, then Pillow), so its
  verdict is what it always was.
"""

from __future__ import annotations

import math
import mmap
import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

# The verdicts and the pixels live in jpeg_outcome, which jpeg_child reads its helper's
# answer into too; callers catch them here as `jpeg_strict.CorruptJpeg` and so on.
from igpreflight.preflight.jpeg_outcome import CorruptJpeg, Decoded, NotForTurbo

if TYPE_CHECKING:
    from PIL import Image

# libjpeg's warnings that say the entropy-coded data is damaged (jerror.h JWRN_*:
# bad Huffman or arithmetic code, premature end of a segment or of the file, a
# marker where a restart marker belongs, extraneous bytes).
_CORRUPT = ("Corrupt JPEG data", "Premature end of JPEG file")
# Bytes left between the last scan and the end-of-image marker: some encoders pad
# there, but scrambled scan data that happens to decode as valid codes ends the
# same way (every block decoded, data left over). libjpeg cannot tell the two
# apart; ffmpeg, which checks DC codes more strictly, can: it decides.
_UNDECIDED = "extraneous bytes before marker 0xd9"
# TurboJPEG colour spaces -> (simplejpeg output, Pillow mode, Pillow raw mode).
# CMYK comes out as stored; Pillow reads every CMYK JPEG with Adobe's inversion.
_SPACES = {
    "Gray": ("GRAY", "L", "L"),
    "YCbCr": ("RGB", "RGB", "RGB"),
    "RGB": ("RGB", "RGB", "RGB"),
    "CMYK": ("CMYK", "CMYK", "CMYK;I"),
    "YCCK": ("CMYK", "CMYK", "CMYK;I"),
}
__all__ = ["CorruptJpeg", "Decoded", "NotForTurbo", "decode", "decode_here", "scale_for"]


def scale_for(stored: tuple[int, int], wanted: tuple[int, int]) -> Fraction:
    """The smallest n/8 (n = 1..8) whose scaled size is at least `wanted` in both
    axes (TurboJPEG rounds a scaled side up), 1 when nothing smaller is."""
    for n in range(1, 8):
        scaled = [math.ceil(side * n / 8) for side in stored]
        if scaled[0] >= wanted[0] and scaled[1] >= wanted[1]:
            return Fraction(n, 8)
    return Fraction(1)


def _mapped(path: Path) -> mmap.mmap | bytes:
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _verdict(message: str) -> Exception:
    """What a strict decode's complaint means."""
    text = " ".join(message.split())
    if _UNDECIDED in text:
        return NotForTurbo(text[:200])
    if text.startswith(_CORRUPT):
        return CorruptJpeg(text[:200])
    return NotForTurbo(text[:200])


def decode(path: str | os.PathLike[str], min_size: tuple[int, int] = (1, 1)) -> Image.Image:
    """The JPEG at `path` decoded at the smallest n/8 scale of at least `min_size`
    (stored orientation), every warning about its data fatal.

    `min_size` (1, 1) proves the file at 1/8 scale. Raises CorruptJpeg or
    NotForTurbo (see the module's docstring). On POSIX the decode runs in a
    helper process (`jpeg_child`): simplejpeg needs numpy, 11 MB this process
    does not take on."""
    from PIL import Image

    if os.name == "posix":
        from igpreflight.preflight.jpeg_child import decode_in_child

        decoded = decode_in_child(os.path.abspath(path), min_size)
    else:
        decoded = decode_here(path, min_size)
    size, mode, rawmode, pixels = decoded
    if mode == "L":  # Pillow stores grey as the decoder wrote it: no copy
        return Image.frombuffer("L", size, pixels, "raw", "L", 0, 1)
    return Image.frombytes(mode, size, pixels, "raw", rawmode)


def decode_here(path: str | os.PathLike[str], min_size: tuple[int, int] = (1, 1)) -> Decoded:
    """`decode`'s work in this process: the pixels, or CorruptJpeg / NotForTurbo."""
    import simplejpeg  # numpy comes with it

    data = _mapped(Path(path))
    try:
        try:
            height, width, space, _ = simplejpeg.decode_jpeg_header(data, strict=False)
        except (ValueError, KeyError, RuntimeError) as exc:  # a header it will not take
            raise NotForTurbo(" ".join(str(exc).split())[:200]) from None
        if space not in _SPACES:
            raise NotForTurbo(f"JPEG colour space {space}")
        target, mode, rawmode = _SPACES[space]
        scale = scale_for((width, height), min_size)
        size = (math.ceil(width * scale), math.ceil(height * scale))
        buffer = bytearray(size[0] * size[1] * (1 if target == "GRAY" else len(target)))
        try:
            simplejpeg.decode_jpeg(
                data,
                colorspace=target,
                min_width=size[0],
                min_height=size[1],
                buffer=buffer,
                strict=True,
            )
        except ValueError as exc:  # TurboJPEG's first warning, or a fatal error
            raise _verdict(str(exc)) from None
        return Decoded(size, mode, rawmode, buffer)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()

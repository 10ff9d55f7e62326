"""What a strict JPEG decode gives back: its pixels or one of its two verdicts.

Its own module because both sides of the decode share it: `jpeg_strict` (which
decodes, here or through its helper process) and `jpeg_child` (which reads the
helper's answer into these types). Neither needs the other to know them.
"""

from __future__ import annotations

from typing import NamedTuple


class CorruptJpeg(Exception):
    """The JPEG's data is damaged; str() is libjpeg-turbo's one-line reason."""


class NotForTurbo(Exception):
    """TurboJPEG cannot judge or decode this JPEG; prove and decode it another way."""


class Decoded(NamedTuple):
    """A strict decode's pixels, as Pillow's raw decoder takes them."""

    size: tuple[int, int]
    mode: str  # Pillow's mode: L, RGB or CMYK
    rawmode: str
    pixels: bytearray

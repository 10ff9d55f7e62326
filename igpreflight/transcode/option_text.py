"""fix's option values read from text (`--pad-color`, `--background`, `--max-memory`),
without the image pipeline.

Every `fix` reads all three, and a video fix has no other use for Pillow or the
image plans: the colour defaults ("white") and #rrggbb / #rgb are read here,
exactly as Pillow's ImageColor reads them; any other name or form goes to
ImageColor.
"""

from __future__ import annotations

import re

_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_colour(value: str) -> tuple[int, int, int]:
    """A colour name or #rrggbb as RGB (raises ValueError for anything else)."""
    named = _NAMED.get(value.lower())
    if named is not None:
        return named
    digits = value[1:]
    if value.startswith("#") and len(digits) in (3, 6) and _HEX.issuperset(digits):
        step = len(digits) // 3
        parts = [digits[i * step : (i + 1) * step] for i in range(3)]
        r, g, b = (int(p * (2 // step), 16) for p in parts)
        return r, g, b
    from PIL import ImageColor

    rgb = ImageColor.getrgb(value)
    return rgb[0], rgb[1], rgb[2]


def parse_memory(text: str) -> int:
    """'1G', '512M', '1.5GB', '800000000' -> bytes; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise ValueError(f"{text!r} is not a size (e.g. 512M, 1G, 1.5G)")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2)]
    value = int(float(m.group(1)) * scale)
    if value <= 0:
        raise ValueError("the memory budget must be positive")
    return value

"""The constant frame rate a video fix converts to, and how ffmpeg spells it.

Arithmetic on Fractions, no rule codes: the planner asks it for the rate an
out-of-range or variable-rate source becomes, the standard rate a rounded
MediaInfo value stands for, and the frame grid a copied stream is re-timed on.
"""

from __future__ import annotations

import math
from fractions import Fraction

from igpreflight.limits import VideoLimits
from igpreflight.model import VideoFacts
from igpreflight.preflight.rules.fmt import exact, fmt_number

# Frame rates people and players expect; VFR sources are snapped to the nearest.
STANDARD_RATES: tuple[Fraction, ...] = (
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(48),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
)
SNAP_TOLERANCE = 0.002  # relative: 29.97 (MediaInfo's rounding) is 30000/1001


def _snap(rate: Fraction) -> Fraction:
    """The standard rate `rate` stands for (29.97 -> 30000/1001), else `rate`."""
    best = min(STANDARD_RATES, key=lambda std: abs(rate - std))
    return best if abs(rate - best) / best <= SNAP_TOLERANCE else rate


def fps_label(rate: Fraction) -> str:
    return fmt_number(float(rate))


def fps_arg(rate: Fraction) -> str:
    """30000/1001 or 30: what the fps filter and -r accept."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def target_fps(fps: float | None, vfr: bool, lim: VideoLimits) -> Fraction:
    """The constant rate to convert to.

    Out of range: divide (120 -> 60, 90 -> 45) or multiply (15 -> 30, 12.5 -> 25)
    by the smallest whole number that lands in range, so frames are dropped or
    repeated evenly (no judder). VFR: the standard rate nearest to that.
    """
    lo, hi = Fraction(exact(lim.min_fps)), Fraction(exact(lim.max_fps))
    if not fps or fps <= 0:
        return Fraction(30)
    rate = Fraction(round(fps * 1000), 1000)
    if rate > hi:
        rate /= math.ceil(rate / hi)
    elif rate < lo:
        rate *= math.ceil(lo / rate)
    rate = _snap(rate)
    if vfr:
        in_range = [r for r in STANDARD_RATES if lo <= r <= hi]
        rate = min(in_range, key=lambda r: (abs(r - rate), -r))
    return min(max(rate, lo), hi)


def _copy_time_base(facts: VideoFacts, lim: VideoLimits) -> str | None:
    """The frame duration to snap copied timestamps to, for sources that store
    them in milliseconds (Matroska, WebM, FLV): 33/34 ms steps would make the
    MP4 variable-rate. ISO-BMFF sources keep their exact timing (None)."""
    if facts.container in lim.containers or not facts.fps:
        return None
    if (facts.frame_rate_mode or "").upper() == "VFR":
        return None
    rate = _snap(Fraction(round(facts.fps * 1000), 1000))
    return f"{rate.denominator}/{rate.numerator}"

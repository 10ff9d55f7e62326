"""Exact comparisons and one-line wording shared by the rule modules.

Rules compare ratios as exact fractions (1080x1350 is exactly 4:5 and passes)
and every message names the measured value and the limit; these helpers keep
that wording identical across image, video and post rules.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache


@lru_cache(maxsize=256)
def exact(limit: float) -> Fraction:
    """A limit written as a decimal (0.8, 1.91, 0.5625) as the exact fraction it means."""
    return Fraction(repr(float(limit))).limit_denominator(1_000_000)


def ratio_label(limit: float) -> str:
    """'4:5 (0.8)', '9:16 (0.5625)', '1.91:1', '10:1': how people write a ratio limit."""
    f = exact(limit)
    if f.denominator == 1:
        return f"{f.numerator}:1"
    small = f.limit_denominator(20)
    if small == f:
        return f"{small.numerator}:{small.denominator} ({float(f):g})"
    return f"{float(f):g}:1"


def fmt_ratio(value: float, limit: float | None = None) -> str:
    """A measured ratio with 3 decimals, more when 3 would print the limit itself
    (0.79985 is shown as 0.79985, not as a confusing 0.800 'below 0.8')."""
    for digits in range(3, 8):
        text = f"{value:.{digits}f}"
        if limit is None or float(text) != limit:
            return text
    return repr(value)


def relative_gap(value: float, target: float) -> float:
    """How far a ratio is from a target, relative to the target (0.01 = 1%)."""
    return abs(value - target) / target if target else float("inf")


def fmt_int(n: int) -> str:
    """8,400,000: byte counts with thousands separators, as SPEC writes limits."""
    return f"{n:,}"


def fmt_number(x: float, digits: int = 3) -> str:
    """61 -> '61', 23.976 -> '23.976', 22.9 -> '22.9' (rounded, trailing zeros dropped)."""
    return f"{round(x, digits):.{digits}f}".rstrip("0").rstrip(".")


def fmt_rate(bps: float, unit: str) -> str:
    """Bits per second in kbps or Mbps: 30_200_000 -> '30.2 Mbps'."""
    scale = {"kbps": 1_000, "Mbps": 1_000_000}[unit]
    return f"{fmt_number(bps / scale, 2)} {unit}"


def fmt_seconds(s: float) -> str:
    """'2.5 s', '75 s (1:15)': seconds, with minutes for long clips."""
    text = f"{fmt_number(s)} s"
    if s >= 60:
        m, sec = divmod(round(s), 60)
        text += f" ({m}:{sec:02d})"
    return text


def ratio_name(limit: float) -> str:
    """'4:5', '9:16', '1.91:1', '10:1': a ratio limit as a rule summary names it."""
    f = exact(limit)
    small = f.limit_denominator(20)
    if small == f:
        return f"{small.numerator}:{small.denominator}"
    return f"{float(f):g}:1"


def allowed_aspect(value: float, aspects: tuple[float, ...], tolerance: float) -> bool:
    """Is `value` one of a house profile's allowed ratios, within `tolerance` (relative)?"""
    return any(relative_gap(value, a) <= tolerance for a in aspects)


def aspects_label(aspects: tuple[float, ...]) -> str:
    """'4:5' or 'one of 4:5, 1:1': a house profile's allowed ratios in a message."""
    names = [ratio_name(a) for a in aspects]
    return names[0] if len(names) == 1 else f"one of {', '.join(names)}"

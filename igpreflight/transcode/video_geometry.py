"""The frame sizes a video fix goes through: crop or pad into the aspect range,
then downscale to the width limit, with square pixels and even dimensions.

Pure arithmetic, no rule codes: the planner turns a Geometry into its crop, scale
and pad steps, and asks it whether the output can reach the profile's minimum
frame at all. Its own module because it is the one part of the plan with real
arithmetic (even pixels, sample aspect, 2 px nudges into the range) and its own
property tests (tests/test_fix_video_plan.py).
"""

from __future__ import annotations

import math
from fractions import Fraction

from igpreflight.limits import VideoLimits
from igpreflight.media_facts import simplest_ratio
from igpreflight.model import VideoFacts
from igpreflight.preflight.rules.fmt import exact
from igpreflight.records import record
from igpreflight.transcode.aim import aspect_bounds
from igpreflight.transcode.types import FixOptions


def _even_floor(x: float) -> int:
    return max(2, int(x) // 2 * 2)


def _even_round(x: float) -> int:
    return max(2, int(round(x / 2.0)) * 2)


def _even_ceil(x: float) -> int:
    return max(2, math.ceil(x / 2.0) * 2)


@record
class Geometry:
    """Frame sizes through the filter chain, after ffmpeg's autorotation.

    Sizes are in pixels of the rotated frame (`src_w` x `src_h`, sample aspect
    `sar`); `crop` is a region of it, `scale` the size it is resized to, `pad`
    the final canvas. None means the step is not needed.
    """

    src_w: int
    src_h: int
    sar: Fraction
    crop: tuple[int, int, int, int] | None  # w, h, x, y
    scale: tuple[int, int] | None
    pad: tuple[int, int, int, int] | None  # w, h, x, y
    out_w: int
    out_h: int


def _ratio_ok(w: int, h: int, lo: Fraction, hi: Fraction) -> bool:
    return lo <= Fraction(w, h) <= hi


def _nudge(w: int, h: int, lo: Fraction, hi: Fraction, grow: bool) -> tuple[int, int]:
    """Move an even size into [lo, hi] by 2 px steps: shrink the long side, or
    (when `grow`, i.e. the frame is resampled anyway) grow the short one."""
    for _ in range(100_000):
        if _ratio_ok(w, h, lo, hi):
            break
        if Fraction(w, h) < lo:
            if h > 2:
                h -= 2
            elif grow:
                w += 2
            else:
                break
        elif w > 2:
            w -= 2
        elif grow:
            h += 2
        else:
            break
    return w, h


def plan_geometry(facts: VideoFacts, lim: VideoLimits, aspect_mode: str) -> Geometry:
    """Crop or pad into the role's aspect range, then downscale to the width limit,
    with square pixels and even dimensions (what H.264 4:2:0 needs)."""
    w, h = int(facts.width or 2), int(facts.height or 2)
    sar = simplest_ratio(facts.sar or 1.0)
    if facts.rotation in (90, 270):
        w, h, sar = h, w, 1 / sar
    ratio = Fraction(w, h) * sar  # displayed aspect
    bounds = aspect_bounds(lim, ratio)
    lo, hi = bounds[0] or exact(lim.min_aspect), bounds[1] or exact(lim.max_aspect)

    crop = None
    cw, ch = w, h  # content region in source pixels
    if aspect_mode != "pad" and ratio < lo:
        ch = min(h, int(w * sar / lo))
    elif aspect_mode != "pad" and ratio > hi:
        cw = min(w, int(h * hi / sar))
    # Content in display (square) pixels, then the canvas it sits on.
    dw, dh = float(cw * sar), float(ch)
    canvas_w, canvas_h = dw, dh
    if aspect_mode == "pad" and ratio < lo:
        canvas_w = math.ceil(dh * lo)
    elif aspect_mode == "pad" and ratio > hi:
        canvas_h = math.ceil(dw / hi)
    s = min(1.0, lim.max_width / canvas_w)
    padding = (canvas_w, canvas_h) != (dw, dh)
    max_w = _even_floor(lim.max_width)

    scale = None
    if s == 1.0 and sar == 1:
        # No resampling needed: cut to even sizes (at most one pixel per axis).
        content = (_even_floor(cw), _even_floor(ch))
        if not padding:
            content = _nudge(*content, lo, hi, grow=False)
        if content[0] > w or content[1] > h or not (padding or _ratio_ok(*content, lo, hi)):
            # A frame of a few pixels: only resampling can reach the range.
            content = scale = _nudge(*content, lo, hi, grow=True)
            if (cw, ch) != (w, h):
                crop = (cw, ch, (w - cw) // 2, (h - ch) // 2)
        elif content != (w, h):
            crop = (*content, (w - content[0]) // 2, (h - content[1]) // 2)
    else:
        if (cw, ch) != (w, h):
            crop = (cw, ch, (w - cw) // 2, (h - ch) // 2)
        content = (min(max_w, _even_round(dw * s)), _even_round(dh * s))
        if not padding:
            # Even rounding may push the ratio a hair out: resize 2 px less.
            content = _nudge(*content, lo, hi, grow=True)
        scale = content
    pad = None
    out_w, out_h = content
    if padding:
        pw = min(max_w, max(_even_ceil(canvas_w * s), content[0]))
        ph = max(_even_ceil(canvas_h * s), content[1])
        while not _ratio_ok(pw, ph, lo, hi):
            if Fraction(pw, ph) > hi:
                ph += 2
            elif pw < max_w:
                pw += 2
            else:
                break
        pad = (pw, ph, (pw - content[0]) // 2, (ph - content[1]) // 2)
        out_w, out_h = pw, ph
    return Geometry(w, h, sar, crop, scale, pad, out_w, out_h)


def _below_minimum(facts: VideoFacts, lim: VideoLimits, options: FixOptions) -> str | None:
    """Why the output would be smaller than the profile's minimum frame (Facebook Reels:
    540x960), which no fix can undo (upscaling adds no detail), or None."""
    if lim.min_short_edge is None and lim.min_long_edge is None:
        return None
    geo = plan_geometry(facts, lim, options.aspect)
    short, long = sorted((geo.out_w, geo.out_h))
    if short >= (lim.min_short_edge or 0) and long >= (lim.min_long_edge or 0):
        return None
    least = f"{lim.min_short_edge or 0}x{lim.min_long_edge or 0}"
    made = f"{geo.out_w}x{geo.out_h}"
    if (geo.out_w, geo.out_h) == (facts.display_width, facts.display_height):
        return f"{made} is below the minimum {least} ({lim.platform}); use a larger original"
    return (
        f"{facts.display_width}x{facts.display_height} brought into the aspect range is "
        f"{made}, below the minimum {least} ({lim.platform}); use a larger original"
    )

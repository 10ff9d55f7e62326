"""What a fix plan did to a picture's frame, as fractions a thumbnail can draw.

A crop keeps a box of the source; a pad places the whole source inside a larger
canvas. Both are expressed as fractions (0..1), so they apply to a thumbnail of
any size. The numbers come from the step's machine-readable `params` when the
step has them (video steps: w/h/x/y), else from the step's detail text, whose
shape the image planner fixes ("centre WxH of WxH ...", "WxH on a WxH canvas").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from igpreflight.model import Kind
from igpreflight.transcode.types import FixPlan, Step


@dataclass(frozen=True)
class Overlay:
    """`kind` "crop": `box` is the kept region, as fractions of the source picture.
    `kind` "pad": `box` is where the source sits, as fractions of the canvas, and
    `canvas_aspect` is the canvas's width / height."""

    kind: str
    box: tuple[float, float, float, float]
    canvas_aspect: float | None = None
    detail: str = ""


_SIZE = r"(\d+)x(\d+)"


def overlays(plan: FixPlan | None) -> list[Overlay]:
    """Every crop and pad of a plan, in plan order."""
    if plan is None:
        return []
    found: list[Overlay | None] = []
    for step in plan.steps:
        params = _params(step)
        if step.name == "crop":
            found.append(_crop(step, params, plan.kind))
        elif step.name == "pad":
            found.append(_pad(step, params, plan))
    return [o for o in found if o is not None]


def _params(step: Step) -> Mapping[str, Any]:
    params = getattr(step, "params", None)
    return params if isinstance(params, Mapping) else {}


def _crop(step: Step, params: Mapping[str, Any], kind: Kind) -> Overlay | None:
    if "box" in params and "source" in params:  # image steps, if the planner records them
        x0, y0, x1, y1 = (float(v) for v in params["box"])
        sw, sh = (float(v) for v in params["source"])
        return _frac_crop((x0 / sw, y0 / sh, x1 / sw, y1 / sh), step)
    if kind is Kind.VIDEO:
        # "{src_w}x{src_h} -> {w}x{h} centred", params w/h/x/y in the same pixels
        m = re.search(rf"{_SIZE}\s*->", step.detail)
        if m and {"w", "h", "x", "y"} <= params.keys():
            sw, sh = int(m[1]), int(m[2])
            x, y, w, h = (float(params[k]) for k in ("x", "y", "w", "h"))
            return _frac_crop((x / sw, y / sh, (x + w) / sw, (y + h) / sh), step)
    # Image: "centre {w}x{h} of {dw}x{dh} ..." (a centred crop)
    m = re.search(rf"{_SIZE}\s+of\s+{_SIZE}", step.detail)
    if m:
        w, h, sw, sh = (int(g) for g in m.groups())
        fx, fy = (sw - w) / 2 / sw, (sh - h) / 2 / sh
        return _frac_crop((fx, fy, fx + w / sw, fy + h / sh), step)
    return None


def _pad(step: Step, params: Mapping[str, Any], plan: FixPlan) -> Overlay | None:
    if {"w", "h", "x", "y"} <= params.keys():  # video: canvas w/h, content offset x/y
        cw, ch, x, y = (float(params[k]) for k in ("w", "h", "x", "y"))
        content = _content_size(plan.steps, step) or (cw - 2 * x, ch - 2 * y)
        w, h = content
    else:
        m = re.search(rf"{_SIZE}\s+on\s+a\s+{_SIZE}\s+canvas", step.detail)
        if not m:
            return None
        w, h, cw, ch = (float(g) for g in m.groups())
        x, y = (cw - w) // 2, (ch - h) // 2
    if cw <= 0 or ch <= 0:
        return None
    box = (x / cw, y / ch, (x + w) / cw, (y + h) / ch)
    return Overlay("pad", _clamp(box), cw / ch, str(step))


def _content_size(steps: Sequence[Step], pad: Step) -> tuple[float, float] | None:
    """The size of the picture a video pad step places: the last scale or crop before it."""
    size = None
    for step in steps:
        if step is pad:
            break
        params = _params(step)
        if step.name in ("scale", "crop") and {"w", "h"} <= params.keys():
            size = (float(params["w"]), float(params["h"]))
    return size


def _frac_crop(box: tuple[float, float, float, float], step: Step) -> Overlay:
    return Overlay("crop", _clamp(box), None, str(step))


def _clamp(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (min(1.0, max(0.0, v)) for v in box)
    return (x0, y0, x1, y1)

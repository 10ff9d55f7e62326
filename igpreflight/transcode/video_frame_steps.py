"""The steps that reshape a video's frames: crop, scale, tone-map and pad.

From the sizes `video_geometry.plan_geometry` worked out and the transfer the probe
read, in the order ffmpeg's filter chain applies them. The planner (`plan_video`)
says which of its rules the aspect (crop, pad) and the width (scale) resolve.
"""

from __future__ import annotations

from igpreflight.limits import VideoLimits
from igpreflight.model import VideoFacts
from igpreflight.preflight.rules.fmt import fmt_number
from igpreflight.transcode.types import Step, VideoStep
from igpreflight.transcode.video_geometry import Geometry

# MediaInfo's HDR transfer names -> zscale's names for them.
HDR_TRANSFERS = {
    "PQ": "smpte2084",
    "SMPTE ST 2084": "smpte2084",
    "HLG": "arib-std-b67",
    "ARIB STD-B67": "arib-std-b67",
}


def pixels_label(facts: VideoFacts) -> str:
    """The source's chroma, bit depth and HDR transfer, as far as the probe knows them
    (ProRes has no bit depth in MediaInfo's report): "4:2:2 10-bit", "4:2:0 8-bit PQ",
    "4:2:2", "unknown"."""
    depth = f"{facts.bit_depth}-bit" if facts.bit_depth else ""
    hdr = facts.transfer if facts.hdr else None
    return " ".join(filter(None, (facts.chroma, depth, hdr))) or "unknown"


def frame_steps(
    facts: VideoFacts,
    geo: Geometry,
    lim: VideoLimits,
    pad_color: str,
    aspect_rules: tuple[str, ...],
    scale_rules: tuple[str, ...],
) -> list[Step]:
    """Crop, scale, tone-map and pad, each only when the frames need it."""
    steps: list[Step] = []
    lo, hi = lim.min_aspect, lim.max_aspect
    if geo.crop is not None:
        cw, ch, cx, cy = geo.crop
        why = (
            f"into {fmt_number(lo)}..{fmt_number(hi)}"
            if aspect_rules
            else "to even dimensions" + (" (display size)" if geo.scale else "")
        )
        steps.append(
            VideoStep(
                "crop",
                f"{geo.src_w}x{geo.src_h} -> {cw}x{ch} centred ({why})",
                aspect_rules if aspect_rules else (),
                {"w": cw, "h": ch, "x": cx, "y": cy},
            )
        )
    if geo.scale is not None:
        sw, sh = geo.scale
        reasons = []
        if geo.sar != 1:
            reasons.append(f"square pixels (SAR {geo.sar.numerator}:{geo.sar.denominator})")
        base_w = geo.crop[0] if geo.crop else geo.src_w
        if round(base_w * geo.sar) > sw or (geo.pad and geo.pad[0] >= lim.max_width):
            reasons.append(f"width at most {lim.max_width}")
        steps.append(
            VideoStep(
                "scale",
                f"-> {sw}x{sh}" + (f" ({', '.join(reasons)})" if reasons else ""),
                scale_rules,
                {"w": sw, "h": sh},
            )
        )
    hdr = HDR_TRANSFERS.get((facts.transfer or "").upper())
    if hdr is not None:
        steps.append(
            VideoStep(
                "tone-map",
                f"HDR ({facts.transfer}) -> SDR BT.709 (hable): 8-bit H.264 cannot carry "
                "HDR, and unmapped it plays washed out",
                (),
                {"transfer": hdr},
            )
        )
    if geo.pad is not None:
        pw, ph, px, py = geo.pad
        steps.append(
            VideoStep(
                "pad",
                f"-> {pw}x{ph} with {'a blurred fill' if pad_color == 'blur' else pad_color} "
                f"(into {fmt_number(lo)}..{fmt_number(hi)})",
                aspect_rules,
                {"w": pw, "h": ph, "x": px, "y": py, "color": pad_color},
            )
        )
    return steps

"""Decide the least work that makes an image pass: facts + findings -> FixPlan.

Pure: no file is opened. The findings say WHAT is wrong (their rule codes pick
the steps, so the plan and the re-check agree on what "compliant" means); the
facts give the numbers (sizes, orientation, colour). A JPEG with no fixable
finding is copied byte for byte (no generation loss), which is also why fixing
a fixed file changes nothing: a fixed file has no fixable finding left.

Once pixels are decoded, every normalisation applies (orientation, sRGB, 8 bit,
no alpha, size, aspect), because the re-encoded file must pass on its own; the
plan lists the steps that change something and the rules each one resolves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import field
from fractions import Fraction
from typing import Any

from igpreflight.limits import IMAGE_FIX, ImageFixTargets, ImageLimits
from igpreflight.media_facts import undecodable
from igpreflight.model import Finding, ImageFacts, Kind, Role
from igpreflight.preflight.jpeg_strict import scale_for
from igpreflight.preflight.rules.fmt import allowed_aspect, aspects_label, fmt_int, ratio_label
from igpreflight.preflight.rules.image import expected_extensions
from igpreflight.profiles import INSTAGRAM, Profile
from igpreflight.records import record
from igpreflight.transcode.aim import aspect_bounds
from igpreflight.transcode.plan_colour import misfit_profile, needs_colour, only_relabel
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus, Step

# Rules a decode + re-encode resolves (each also names the step that does it).
PIXEL_RULES = frozenset(
    {"IMG001", "IMG002", "IMG003", "IMG004", "IMG006", "IMG007", "IMG008", "IMG009", "IMG014"}
)
# A JPEG coded in a process browsers refuse: re-encoded, unless its decoder cannot
# be trusted with it (`media_facts.undecodable`), and then unfixable.
CODING_RULE = "IMG014"
# Resolved by writing the file under the right extension; no pixel is touched.
RENAME_RULES = frozenset({"IMG010"})
# PNG is tolerated (IMG012 warning): converted to JPEG unless --keep-png.
PNG_RULE = "IMG012"
# A corrupt EXIF block: dropped from the bytes ("strip-exif") or not carried into
# a re-encode; the pixels are never decoded for it.
EXIF_RULE = "IMG013"
# A JPEG whose only colour fault is a profile viewers ignore gets the sRGB label
# ("relabel-srgb", `plan_colour.only_relabel`), its pixels' bytes untouched.
COLOUR_RULE = "IMG006"
# Steps done on the file's bytes (`jpeg_segments`), without decoding a pixel.
BYTE_STEPS = ("strip-exif", "relabel-srgb")
# Every rule this planner resolves: exactly the fixable image rules (a test holds
# the registry and this set together, and that each one gets a step).
RESOLVES = PIXEL_RULES | RENAME_RULES | {PNG_RULE, EXIF_RULE}

# Formats whose decoder scales in the DCT domain (JPEG draft mode).
DRAFT_FORMATS = frozenset({"JPEG", "MPO"})


@record
class ImageStep(Step):
    """A Step with the exact numbers the executor needs (box, sizes, quality bounds),
    so that `apply_image` does exactly what the plan shows."""

    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@record
class Geometry:
    """Where the output's pixels come from, in DISPLAYED (oriented) coordinates.

    `box` is the source region (a centre crop, or the whole image), resized to
    `content`; `content` is pasted at `offset` on a `canvas` (equal to `content`
    unless the image is padded).
    """

    source: tuple[int, int]
    box: tuple[float, float, float, float]
    content: tuple[int, int]
    canvas: tuple[int, int]
    offset: tuple[int, int] = (0, 0)

    @property
    def cropped(self) -> bool:
        x0, y0, x1, y1 = self.box
        return (x0, y0, x1, y1) != (0, 0, *self.source)

    @property
    def padded(self) -> bool:
        return self.canvas != self.content

    @property
    def scale(self) -> float:
        """Output pixels per source pixel (1.0 when nothing is resized)."""
        x0, _, x1, _ = self.box
        return self.content[0] / (x1 - x0) if x1 > x0 else 1.0

    @property
    def resized(self) -> bool:
        x0, y0, x1, y1 = self.box
        return (x1 - x0, y1 - y0) != self.content

    @property
    def unchanged(self) -> bool:
        return not (self.cropped or self.padded or self.resized)


def _fit_scale(w: float, h: float, limits: ImageLimits) -> float:
    """The largest scale <= 1 that brings width and long edge under the limits."""
    return min(1.0, limits.max_width / w, limits.max_long_edge / max(w, h))


def _clamp_ratio(w: int, h: int, lo: Fraction | None, hi: Fraction | None) -> tuple[int, int]:
    """Shrink one side by a pixel or so when rounding pushed the ratio out of range.
    Only ever shrinking keeps the width and long-edge limits true."""
    if hi is not None and Fraction(w, h) > hi:
        w = max(1, math.floor(h * hi))
    if lo is not None and Fraction(w, h) < lo:
        h = max(1, math.floor(w / lo))
    return w, h


def geometry(width: int, height: int, limits: ImageLimits, aspect: str = "crop") -> Geometry:
    """Crop or pad into the role's aspect range, then fit the size limits.

    Pure arithmetic on the displayed size. The output ratio is checked with the
    same exact fractions the rules use, after rounding to whole pixels.
    """
    ratio = Fraction(width, height)
    lo, hi = aspect_bounds(limits, ratio, band=False)
    too_wide = hi is not None and ratio > hi
    too_tall = lo is not None and ratio < lo

    if aspect == "pad" and (too_wide or too_tall):
        # Canvas: the image's long side kept, the short side grown to the limit.
        cw, ch = (width, width / hi) if too_wide else (height * lo, height)
        s = _fit_scale(cw, ch, limits)
        canvas = _clamp_ratio(max(1, round(cw * s)), max(1, round(ch * s)), lo, hi)
        fit = min(canvas[0] / width, canvas[1] / height)
        content = (
            min(canvas[0], max(1, round(width * fit))),
            min(canvas[1], max(1, round(height * fit))),
        )
        offset = ((canvas[0] - content[0]) // 2, (canvas[1] - content[1]) // 2)
        return Geometry((width, height), (0, 0, width, height), content, canvas, offset)

    # Crop (or no aspect problem): the region kept, then scaled.
    if too_wide:
        rw, rh = float(height * hi), float(height)
    elif too_tall:
        rw, rh = float(width), float(width / lo)
    else:
        rw, rh = float(width), float(height)
    s = _fit_scale(rw, rh, limits)
    out = _clamp_ratio(max(1, round(rw * s)), max(1, round(rh * s)), lo, hi)
    if not (too_wide or too_tall):
        # In range: the whole image, scaled (rounding moves the ratio < 1 px).
        return Geometry((width, height), (0, 0, width, height), out, out)
    # The largest centred region with exactly the output's ratio.
    if Fraction(width, height) > Fraction(*out):
        bw, bh = height * out[0] / out[1], float(height)
    else:
        bw, bh = float(width), width * out[1] / out[0]
    if abs(bw - out[0]) < 1e-6 and abs(bh - out[1]) < 1e-6:
        # No scaling: a whole-pixel crop, never a half-pixel resample.
        x0, y0 = (width - out[0]) // 2, (height - out[1]) // 2
        box: tuple[float, float, float, float] = (x0, y0, x0 + out[0], y0 + out[1])
    else:
        x0, y0 = (width - bw) / 2, (height - bh) / 2
        box = (x0, y0, x0 + bw, y0 + bh)
    return Geometry((width, height), box, out, out)


def draft_factor(facts: ImageFacts, geo: Geometry, targets: ImageFixTargets = IMAGE_FIX) -> int:
    """The DCT scaling (1, 2, 4 or 8) a JPEG decode may use without upsampling later."""
    if facts.format.upper() not in DRAFT_FORMATS or geo.scale <= 0:
        return 1
    shrink = 1 / geo.scale
    if shrink < targets.draft_min_factor:
        return 1
    factor = 1
    while factor < 8 and factor * 2 <= shrink:
        factor *= 2
    return factor


def scale_needed(geo: Geometry) -> Fraction:
    """The least decode scale (of the whole image) whose crop box still covers the
    output: below it the resize would upsample."""
    x0, y0, x1, y1 = geo.box
    width, height = Fraction(x1) - Fraction(x0), Fraction(y1) - Fraction(y0)
    if width <= 0 or height <= 0:
        return Fraction(1)
    return min(Fraction(1), max(geo.content[0] / width, geo.content[1] / height))


def dct_scale(facts: ImageFacts, geo: Geometry) -> Fraction:
    """The n/8 a JPEG decode is scaled to in the DCT domain (1 for other formats):
    the smallest that covers the output (`jpeg_strict.scale_for`)."""
    if facts.format.upper() not in DRAFT_FORMATS:
        return Fraction(1)
    need = scale_needed(geo)
    wanted = (math.ceil(facts.width * need), math.ceil(facts.height * need))
    return scale_for((facts.width, facts.height), wanted)


def decoded_pixels(facts: ImageFacts, geo: Geometry, targets: ImageFixTargets = IMAGE_FIX) -> int:
    """How many pixels the decode holds (draft mode divides a JPEG's by factor^2)."""
    f = draft_factor(facts, geo, targets)
    return math.ceil(facts.width / f) * math.ceil(facts.height / f)


def output_extension(fmt: str, current: str) -> str:
    """The output's extension: the current one when it already names the format
    (photo.JPG stays photo.JPG), else the format's usual one."""
    wanted = expected_extensions(fmt)
    return current if current.lower() in wanted else wanted[0]


def plan_image(
    facts: ImageFacts,
    findings: list[Finding],
    role: Role,
    options: FixOptions,
    profile: Profile | None = None,
) -> FixPlan:
    """The ordered steps that make `facts` pass in `role`, each with the rules it resolves,
    under `profile` (the intersection of the file's profiles; None: instagram)."""
    limits = (profile or INSTAGRAM).image(role)
    targets = IMAGE_FIX
    codes = {f.rule for f in findings if f.fixable or f.rule in RENAME_RULES}
    png_kept = options.keep_png and facts.format.upper() == "PNG"
    to_jpeg = PNG_RULE in codes and not png_kept
    relabel = codes & PIXEL_RULES == {COLOUR_RULE} and not to_jpeg and only_relabel(facts)
    decode = bool(codes & PIXEL_RULES) and not relabel or to_jpeg
    out_fmt = "PNG" if png_kept else "JPEG"
    ext = output_extension(out_fmt if decode else facts.format.upper(), facts.extension)
    why_not = undecodable(facts.jpeg_coding)
    if why_not and (decode or any(f.rule == CODING_RULE for f in findings)):
        reason = f"{facts.jpeg_coding} JPEG: {why_not}; convert it with another tool first"
        return FixPlan(Kind.IMAGE, role, FixStatus.UNFIXABLE, (), ext, reason, profile)

    if not decode:
        kept: list[Step] = []
        if EXIF_RULE in codes:
            why = f"corrupt EXIF block dropped ({facts.exif_error}), pixels kept"
            kept.append(Step("strip-exif", why, (EXIF_RULE,)))
        if relabel:
            why = f"{misfit_profile(facts)} (ignored by viewers) replaced by sRGB's, pixels kept"
            kept.append(Step("relabel-srgb", why, (COLOUR_RULE,)))
        if codes & RENAME_RULES:
            kept.append(Step("rename", f".{facts.extension or '(none)'} -> .{ext}", ("IMG010",)))
        if kept:
            rewritten = EXIF_RULE in codes or relabel
            status = FixStatus.CONVERTED if rewritten else FixStatus.COPIED
            return FixPlan(Kind.IMAGE, role, status, tuple(kept), ext, profile=profile)
        status = FixStatus.UNCHANGED if options.in_place else FixStatus.COPIED
        return FixPlan(Kind.IMAGE, role, status, (), ext, profile=profile)

    dw, dh = facts.display_width, facts.display_height
    geo = geometry(dw, dh, limits, options.aspect)
    if decoded_pixels(facts, geo, targets) > targets.max_decode_pixels:
        reason = (
            f"{facts.width}x{facts.height} {facts.format} would need a "
            f"{decoded_pixels(facts, geo, targets) / 1e6:,.0f} MP decode, over the "
            f"{targets.max_decode_pixels / 1e6:,.0f} MP budget; downscale it first"
        )
        return FixPlan(Kind.IMAGE, role, FixStatus.UNFIXABLE, (), ext, reason, profile)
    if limits.aspects and not _reaches_aspect(geo, limits):
        reason = (
            f"{dw}x{dh} is too small to crop or pad to {aspects_label(limits.aspects)} "
            f"within {limits.aspect_tolerance:.0%}"
        )
        return FixPlan(Kind.IMAGE, role, FixStatus.UNFIXABLE, (), ext, reason, profile)

    if geo.cropped:
        x0, y0, x1, y1 = geo.box
        share = (x1 - x0) * (y1 - y0) / (dw * dh)
        if share < targets.min_crop_share:
            reason = (
                f"a centre crop of {dw}x{dh} into {_range(limits)} would keep {share:.2%} "
                "of the picture; use --aspect pad to keep all of it"
            )
            return FixPlan(Kind.IMAGE, role, FixStatus.UNFIXABLE, (), ext, reason, profile)

    steps: list[Step] = []

    def add(name: str, detail: str, rules: tuple[str, ...], **params: Any) -> None:
        steps.append(ImageStep(name, detail, tuple(r for r in rules if r in codes), params))

    if facts.frames > 1:
        add("first-frame", f"frame 1 of {facts.frames}", ("IMG008",))
    if facts.orientation != 1:
        add("orient", f"EXIF orientation {facts.orientation} baked in, tag removed", ("IMG007",))
    if geo.cropped:
        x0, y0, x1, y1 = geo.box
        add(
            "crop",
            f"centre {round(x1 - x0)}x{round(y1 - y0)} of {dw}x{dh} (ratio into {_range(limits)})",
            ("IMG003",),
            box=geo.box,
            source=(dw, dh),
        )
    if geo.resized:
        x0, y0, x1, y1 = geo.box
        scale = dct_scale(facts, geo)
        how = "Lanczos" + (f", JPEG decoded at {scale}" if scale < 1 else "")
        add(
            "resize",
            f"{round(x1 - x0)}x{round(y1 - y0)} -> {geo.content[0]}x{geo.content[1]} ({how})",
            ("IMG004",),
            dct_scale=str(scale),
        )
    colour = needs_colour(facts)
    if colour:
        add("to-srgb", colour, ("IMG006",))
    if facts.has_alpha:
        add("flatten", f"alpha onto {options.background}", ("IMG009",))
    if geo.padded:
        fill = "blurred fill" if options.pad_color == "blur" else options.pad_color
        add(
            "pad",
            f"{geo.content[0]}x{geo.content[1]} on a {geo.canvas[0]}x{geo.canvas[1]} canvas "
            f"({fill}; ratio into {_range(limits)})",
            ("IMG003",),
            canvas=geo.canvas,
            content=geo.content,
            offset=geo.offset,
        )
    if out_fmt == "JPEG":
        why = "convert" if facts.format.upper() not in ("JPEG",) else "re-encode"
        add(
            "encode",
            f"JPEG q<={targets.max_quality} under {fmt_int(limits.max_bytes)} bytes "
            f"({why} from {facts.format})",
            ("IMG001", "IMG002", "IMG012", "IMG010", CODING_RULE, EXIF_RULE),
            format="JPEG",
        )
    else:
        add(
            "encode",
            f"PNG (--keep-png) under {fmt_int(limits.max_bytes)} bytes",
            ("IMG001", "IMG010", EXIF_RULE),
            format="PNG",
        )
    return FixPlan(
        Kind.IMAGE,
        role,
        FixStatus.CONVERTED,
        tuple(steps),
        ext,
        None,
        profile,
    )


def _reaches_aspect(geo: Geometry, limits: ImageLimits) -> bool:
    """Does the output's ratio land on one of a house profile's allowed ratios?"""
    w, h = geo.canvas
    return bool(h) and allowed_aspect(w / h, limits.aspects, limits.aspect_tolerance)


def plan_geometry(
    facts: ImageFacts, role: Role, options: FixOptions, profile: Profile | None = None
) -> Geometry:
    """The geometry `plan_image` decided, for the executor (same inputs, same answer)."""
    limits = (profile or INSTAGRAM).image(role)
    return geometry(facts.display_width, facts.display_height, limits, options.aspect)


def _range(limits: ImageLimits) -> str:
    if limits.aspects:
        return aspects_label(limits.aspects)
    lo, hi = limits.min_aspect, limits.max_aspect
    if lo is None or hi is None:
        return "any"
    return f"{ratio_label(lo)}..{ratio_label(hi)}"

"""Image rules IMG001-IMG014: pure functions of ImageFacts and the role's ImageLimits.

Each rule yields at most one finding whose message names the measured value and
the limit. Sizes and ratios are the DISPLAYED ones (after EXIF orientation),
because that is what Instagram measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from igpreflight import formats
from igpreflight.limits import IMAGE_LIMITS, STORY_ASPECT, ImageLimits
from igpreflight.media_facts import HUFFMAN_CODINGS, JPEG_CODINGS, undecodable
from igpreflight.model import Finding, ImageFacts, Role, Severity
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import (
    allowed_aspect,
    aspects_label,
    exact,
    fmt_int,
    fmt_ratio,
    ratio_label,
    ratio_name,
    relative_gap,
)

# Colour models Instagram converts (with visible shifts) rather than shows as is.
NON_RGB_COLORSPACES = ("CMYK", "YCCK", "LAB")
# The colour model a colour space is shown as, in check's and fix's words alike.
COLOUR_MODEL = {"YCCK": "CMYK", "LAB": "CIELAB"}

ORIENTATION_NAMES = {
    2: "mirrored horizontally",
    3: "rotated 180°",
    4: "mirrored vertically",
    5: "mirrored and rotated 90° counter-clockwise",
    6: "rotated 90° clockwise",
    7: "mirrored and rotated 90° clockwise",
    8: "rotated 90° counter-clockwise",
}


# The numbers in rule summaries (what `igpreflight rules` lists): the feed image's limits.
_FEED = IMAGE_LIMITS[Role.FEED_IMAGE]
_feed_min, _feed_max = ratio_name(_FEED.min_aspect or 0), ratio_name(_FEED.max_aspect or 0)
_story = ratio_name(STORY_ASPECT)


def expected_extensions(fmt: str) -> tuple[str, ...]:
    """The extensions that match a Pillow format name (its lower-case name when unknown);
    the first is what the fixer writes. An MPO is conventionally named .jpg."""
    return formats.extensions_for(fmt)


def _size(f: ImageFacts) -> str:
    return f"{f.display_width}x{f.display_height}"


@REGISTRY.image_rule(
    "IMG001",
    Severity.ERROR,
    f"image file is at most {fmt_int(_FEED.max_bytes)} bytes",
    graph=(36000, 2207004),
    fix="re-encoded at the highest JPEG quality that fits",
    limits=("image.max_bytes",),
)
def file_size(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.bytes > lim.max_bytes:
        yield file_size.finding(
            f"file is {fmt_int(f.bytes)} bytes; the limit is {fmt_int(lim.max_bytes)}"
        )


@REGISTRY.image_rule(
    "IMG002",
    Severity.ERROR,
    "image format is JPEG (or PNG)",
    graph=(36001, 2207005),
    fix="converted to JPEG",
    limits=("image.accepted_formats", "image.tolerated_formats"),
)
def image_format(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    fmt = f.format.upper()
    if not (lim.accepted_formats or lim.tolerated_formats):  # a videos-only profile
        yield image_format.finding(
            f"format {f.format} is not accepted: {lim.platform} publishes no images",
            fixable=False,
        )
    elif fmt not in lim.accepted_formats and fmt not in lim.tolerated_formats:
        yield image_format.finding(
            f"format {f.format} is not accepted; use {' or '.join(lim.accepted_formats)}",
        )


@REGISTRY.image_rule(
    "IMG012",
    Severity.WARNING,
    "PNG is accepted in practice but only JPEG is documented",
    fix="converted to JPEG (unless --keep-png)",
    limits=("image.tolerated_formats",),
)
def tolerated_format(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.format.upper() in lim.tolerated_formats:
        yield tolerated_format.finding(
            f"format {f.format} is accepted in practice, but Meta documents only "
            f"{' or '.join(lim.accepted_formats)}",
        )


@REGISTRY.image_rule(
    "IMG003",
    Severity.ERROR,
    f"displayed aspect ratio is between {_feed_min} and {_feed_max}",
    graph=(36003, 2207009),
    fix="centre-cropped (--aspect crop) or padded (--aspect pad)",
    limits=("image.min_aspect", "image.max_aspect", "image.aspects"),
)
def aspect_ratio(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if not f.display_width or not f.display_height:
        return
    ratio = Fraction(f.display_width, f.display_height)
    shown = f"aspect ratio {{}} ({_size(f)})"
    if lim.min_aspect is not None and ratio < exact(lim.min_aspect):
        value = shown.format(fmt_ratio(float(ratio), lim.min_aspect))
        yield aspect_ratio.finding(f"{value} is below {ratio_label(lim.min_aspect)}")
    elif lim.max_aspect is not None and ratio > exact(lim.max_aspect):
        value = shown.format(fmt_ratio(float(ratio), lim.max_aspect))
        yield aspect_ratio.finding(f"{value} is above {ratio_label(lim.max_aspect)}")
    elif lim.aspects and not allowed_aspect(float(ratio), lim.aspects, lim.aspect_tolerance):
        value = shown.format(fmt_ratio(float(ratio)))
        yield aspect_ratio.finding(f"{value} is not {aspects_label(lim.aspects)}")


@REGISTRY.image_rule(
    "IMG011",
    Severity.INFO,
    f"story image is {_story} (other ratios are letterboxed)",
    todo=f"crop to {_story} for a full-screen story",
    limits=("image.recommended_aspect",),
)
def story_ratio(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    target = lim.recommended_aspect
    if target is None or not f.display_height:
        return
    if relative_gap(f.aspect, target) > lim.recommended_aspect_tolerance:
        yield story_ratio.finding(
            f"aspect ratio {fmt_ratio(f.aspect)} ({_size(f)}) is not {ratio_label(target)}; "
            "the story is shown letterboxed",
        )


@REGISTRY.image_rule(
    "IMG004",
    Severity.WARNING,
    f"width is at most {_FEED.max_width} px and the long edge at most {_FEED.max_long_edge} px",
    fix="downscaled with Lanczos",
    limits=("image.max_width", "image.max_long_edge"),
)
def too_large(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    parts = []
    if f.display_width > lim.max_width:
        parts.append(f"width {f.display_width} px is above {lim.max_width}")
    long_edge = max(f.display_width, f.display_height)
    if long_edge > lim.max_long_edge:
        parts.append(f"long edge {long_edge} px is above {lim.max_long_edge}")
    if parts:
        yield too_large.finding(" and ".join(parts) + f"; {lim.platform} downscales it")


@REGISTRY.image_rule(
    "IMG005",
    Severity.WARNING,
    f"width is at least {_FEED.min_width} px (Instagram upscales smaller images)",
    todo="use a larger original",
    limits=("image.min_width",),
)
def too_small(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.display_width < lim.min_width:
        yield too_small.finding(
            f"width {f.display_width} px is below {lim.min_width}; {lim.platform} upscales it",
        )


@REGISTRY.image_rule(
    "IMG006",
    Severity.WARNING,
    f"colour is {_FEED.max_bits}-bit sRGB",
    fix="converted to sRGB with ImageCms (a profile viewers ignore: relabelled, pixels kept)",
    limits=("image.max_bits",),
)
def colour(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    parts = []
    space = f.colorspace.upper()
    if space in NON_RGB_COLORSPACES or f.mode.upper() in NON_RGB_COLORSPACES:
        named = space if space in NON_RGB_COLORSPACES else f.mode.upper()
        # YCCK is how a JPEG stores CMYK, not another colour model: say CMYK, as fix does
        parts.append(f"colour is {COLOUR_MODEL.get(named, named)}")
    # A missing profile on RGB means sRGB; grayscale has no gamut to shift.
    elif space != "GRAY" and f.icc_misfit:
        # Viewers ignore it and show sRGB: the colours are right, the label is wrong.
        parts.append(
            f"ICC profile is unreadable, which viewers ignore: they show {space} pixels as "
            "sRGB under a broken label"
            if f.icc_misfit == "unreadable"
            else f"ICC profile '{f.icc_name or 'unnamed'}' is a {f.icc_misfit} profile on "
            f"{space} pixels, which viewers ignore: they show sRGB under a wrong label"
        )
    elif space != "GRAY" and f.icc_is_srgb is False:
        what = "colour label" if (f.icc_name or "").startswith("CICP") else "ICC profile"
        parts.append(f"{what} '{f.icc_name or 'unnamed'}' is not sRGB")
    if f.bits > lim.max_bits:
        parts.append(f"{f.bits} bits per channel (limit {lim.max_bits})")
    if parts:
        shifts = len(parts) > 1 or not f.icc_misfit or space in NON_RGB_COLORSPACES
        yield colour.finding(
            "; ".join(parts)
            + f"; {lim.platform} expects {lim.max_bits}-bit sRGB"
            + (" and converts with visible colour shifts" if shifts else ", labelled as such"),
        )


@REGISTRY.image_rule(
    "IMG007",
    Severity.WARNING,
    "EXIF orientation is 1 (rotation baked into the pixels)",
    fix="orientation baked in, tag removed",
)
def orientation(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.orientation in ORIENTATION_NAMES:
        yield orientation.finding(
            f"EXIF orientation is {f.orientation} ({ORIENTATION_NAMES[f.orientation]}); "
            "it should be 1, with the rotation baked into the pixels",
        )


@REGISTRY.image_rule(
    "IMG008",
    Severity.ERROR,
    "image has a single frame (not animated)",
    graph=(None, 2207005),
    fix="first frame kept",
    limits=("image.max_frames",),
)
def frames(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.frames > lim.max_frames:
        yield frames.finding(
            f"image has {f.frames} frames; {lim.platform} accepts {lim.max_frames} "
            f"(animations and multi-image files are not images to {lim.platform})",
        )


@REGISTRY.image_rule(
    "IMG009",
    Severity.WARNING,
    "image has no alpha channel",
    fix="flattened onto --background (white)",
)
def alpha(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.has_alpha:
        # Said of the header, not the pixels: an alpha channel may be fully opaque.
        what = "an alpha channel" if f.mode.endswith(("A", "a")) else "a transparent colour"
        yield alpha.finding(
            f"image has {what} (mode {f.mode}); it should have none: "
            f"{lim.platform} flattens any transparency, often onto black",
        )


@REGISTRY.image_rule(
    "IMG013",
    Severity.ERROR,
    "the EXIF block is well formed (no directory, entry or value outside it)",
    graph=(None, 2207005),
    fix="corrupt EXIF block dropped, every other byte kept",
)
def exif_block(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.exif_error:
        yield exif_block.finding(
            f"corrupt EXIF block: {f.exif_error}; {lim.platform} refuses the file though "
            "its pixels are fine",
        )


_SOF_OF = {name: n for n, name in JPEG_CODINGS.items()}


@REGISTRY.image_rule(
    "IMG014",
    Severity.WARNING,
    "JPEG is Huffman-coded: baseline, extended or progressive (what browsers decode)",
    fix="re-encoded as a standard (Huffman-coded) JPEG",
)
def jpeg_coding(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    coding = f.jpeg_coding
    if coding is None or coding in HUFFMAN_CODINGS:
        return
    sof = _SOF_OF.get(coding)
    named = f"{coding} coding" + (f" (SOF{sof})" if sof is not None else "")
    why_not = undecodable(coding)
    yield jpeg_coding.finding(
        f"JPEG uses {named}, which browsers and many decoders do not decode; Meta "
        f"documents only JPEG, not which of its coding processes {lim.platform} reads"
        + (f"; igpreflight fix cannot re-encode it: {why_not}" if why_not else ""),
        fixable=not why_not,
    )


@REGISTRY.image_rule(
    "IMG010",
    Severity.WARNING,
    "file extension matches the content",
    graph=(None, 2207052),
    fix="written with the right extension",
)
def extension(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    wanted = expected_extensions(f.format)
    ext = f.extension.lower().lstrip(".")
    if ext in wanted:
        return
    if not ext:
        yield extension.finding(f"file has no extension; the content is {f.format} (.{wanted[0]})")
    else:
        yield extension.finding(
            f"extension .{ext} does not match the content ({f.format}); expected .{wanted[0]}",
        )

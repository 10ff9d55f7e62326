"""Image rules IMG001-IMG012: pure functions of ImageFacts and the role's ImageLimits.

Each rule yields at most one finding whose message names the measured value and
the limit. Sizes and ratios are the DISPLAYED ones (after EXIF orientation),
because that is what Instagram measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from igpreflight.catalog import finding
from igpreflight.limits import ImageLimits
from igpreflight.model import Finding, ImageFacts
from igpreflight.preflight.rules import REGISTRY
from igpreflight.preflight.rules.fmt import exact, fmt_int, fmt_ratio, ratio_label, relative_gap

# The file extensions that name each Pillow format; the first one is what the fixer writes.
# An MPO (a JPEG with extra images) is conventionally named .jpg, so that is not a mismatch.
FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": ("jpg", "jpeg", "jpe", "jfif", "jif"),
    "MPO": ("mpo", "jpg", "jpeg", "jpe"),
    "PNG": ("png",),
    "WEBP": ("webp",),
    "GIF": ("gif",),
    "TIFF": ("tif", "tiff"),
    "BMP": ("bmp", "dib"),
    "HEIF": ("heic", "heif", "hif"),
    "AVIF": ("avif", "avifs"),
    "JPEG2000": ("jp2", "j2k", "jpf", "jpx", "j2c"),
    "JXL": ("jxl",),
    "ICO": ("ico",),
    "PPM": ("ppm", "pgm", "pbm", "pnm"),
    "TGA": ("tga",),
    "PSD": ("psd",),
}

# Colour models Instagram converts (with visible shifts) rather than shows as is.
NON_RGB_COLORSPACES = ("CMYK", "YCCK", "LAB")

ORIENTATION_NAMES = {
    2: "mirrored horizontally",
    3: "rotated 180°",
    4: "mirrored vertically",
    5: "mirrored and rotated 90° counter-clockwise",
    6: "rotated 90° clockwise",
    7: "mirrored and rotated 90° clockwise",
    8: "rotated 90° counter-clockwise",
}


def expected_extensions(fmt: str) -> tuple[str, ...]:
    """The extensions that match a Pillow format name (its lower-case name when unknown)."""
    return FORMAT_EXTENSIONS.get(fmt.upper(), (fmt.lower(),))


def _size(f: ImageFacts) -> str:
    return f"{f.display_width}x{f.display_height}"


@REGISTRY.image_rule("IMG001")
def file_size(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.bytes > lim.max_bytes:
        yield finding(
            "IMG001", f"file is {fmt_int(f.bytes)} bytes; the limit is {fmt_int(lim.max_bytes)}"
        )


@REGISTRY.image_rule("IMG002")
def image_format(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    fmt = f.format.upper()
    if fmt not in lim.accepted_formats and fmt not in lim.tolerated_formats:
        yield finding(
            "IMG002",
            f"format {f.format} is not accepted; use {' or '.join(lim.accepted_formats)}",
        )


@REGISTRY.image_rule("IMG012")
def tolerated_format(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.format.upper() in lim.tolerated_formats:
        yield finding(
            "IMG012",
            f"format {f.format} is accepted in practice, but Meta documents only "
            f"{' or '.join(lim.accepted_formats)}",
        )


@REGISTRY.image_rule("IMG003")
def aspect_ratio(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if not f.display_width or not f.display_height:
        return
    ratio = Fraction(f.display_width, f.display_height)
    shown = f"aspect ratio {{}} ({_size(f)})"
    if lim.min_aspect is not None and ratio < exact(lim.min_aspect):
        value = shown.format(fmt_ratio(float(ratio), lim.min_aspect))
        yield finding("IMG003", f"{value} is below {ratio_label(lim.min_aspect)}")
    elif lim.max_aspect is not None and ratio > exact(lim.max_aspect):
        value = shown.format(fmt_ratio(float(ratio), lim.max_aspect))
        yield finding("IMG003", f"{value} is above {ratio_label(lim.max_aspect)}")


@REGISTRY.image_rule("IMG011")
def story_ratio(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    target = lim.recommended_aspect
    if target is None or not f.display_height:
        return
    if relative_gap(f.aspect, target) > lim.recommended_aspect_tolerance:
        yield finding(
            "IMG011",
            f"aspect ratio {fmt_ratio(f.aspect)} ({_size(f)}) is not {ratio_label(target)}; "
            "the story is shown letterboxed",
        )


@REGISTRY.image_rule("IMG004")
def too_large(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    parts = []
    if f.display_width > lim.max_width:
        parts.append(f"width {f.display_width} px is above {lim.max_width}")
    long_edge = max(f.display_width, f.display_height)
    if long_edge > lim.max_long_edge:
        parts.append(f"long edge {long_edge} px is above {lim.max_long_edge}")
    if parts:
        yield finding("IMG004", " and ".join(parts) + "; Instagram downscales it")


@REGISTRY.image_rule("IMG005")
def too_small(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.display_width < lim.min_width:
        yield finding(
            "IMG005",
            f"width {f.display_width} px is below {lim.min_width}; Instagram upscales it",
        )


@REGISTRY.image_rule("IMG006")
def colour(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    parts = []
    space = f.colorspace.upper()
    if space in NON_RGB_COLORSPACES or f.mode.upper() in NON_RGB_COLORSPACES:
        parts.append(f"colour is {space if space in NON_RGB_COLORSPACES else f.mode}")
    # A missing profile on RGB means sRGB; grayscale has no gamut to shift.
    elif space != "GRAY" and f.icc_is_srgb is False:
        parts.append(f"ICC profile '{f.icc_name or 'unnamed'}' is not sRGB")
    if f.bits > lim.max_bits:
        parts.append(f"{f.bits} bits per channel (limit {lim.max_bits})")
    if parts:
        yield finding(
            "IMG006",
            "; ".join(parts) + f"; Instagram expects {lim.max_bits}-bit sRGB and converts "
            "with visible colour shifts",
        )


@REGISTRY.image_rule("IMG007")
def orientation(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.orientation in ORIENTATION_NAMES:
        yield finding(
            "IMG007",
            f"EXIF orientation is {f.orientation} ({ORIENTATION_NAMES[f.orientation]}); "
            "it should be 1, with the rotation baked into the pixels",
        )


@REGISTRY.image_rule("IMG008")
def frames(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.frames > lim.max_frames:
        yield finding(
            "IMG008",
            f"image has {f.frames} frames; Instagram accepts {lim.max_frames} "
            "(animations and multi-image files are not images to Instagram)",
        )


@REGISTRY.image_rule("IMG009")
def alpha(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    if f.has_alpha:
        yield finding(
            "IMG009",
            f"image has transparency (mode {f.mode}); it should have none: "
            "Instagram flattens it, often onto black",
        )


@REGISTRY.image_rule("IMG010")
def extension(f: ImageFacts, lim: ImageLimits) -> Iterator[Finding]:
    wanted = expected_extensions(f.format)
    ext = f.extension.lower().lstrip(".")
    if ext in wanted:
        return
    if not ext:
        yield finding("IMG010", f"file has no extension; the content is {f.format} (.{wanted[0]})")
    else:
        yield finding(
            "IMG010",
            f"extension .{ext} does not match the content ({f.format}); expected .{wanted[0]}",
        )

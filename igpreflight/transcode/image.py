"""Execute an image FixPlan with Pillow: decode once, normalise, encode once (or a few times).

The one decode also proves the source: a JPEG through libjpeg-turbo with every
corrupt-data warning fatal, DCT-scaled to the smallest n/8 that still covers the
output (`preflight.jpeg_strict`); any other image through Pillow, errors fatal,
every frame of an animation. A source that does not decode raises Undecodable
(FILE001), never grey blocks.

Order: open (no Pillow bomb cut-off; the probe's policy already ran) -> JPEG
DCT-scaled decode when shrinking -> 8-bit mode -> orientation baked -> crop/resize
(one Lanczos pass over the crop box) -> sRGB through the embedded ICC profile ->
alpha flattened -> pad -> JPEG at the highest quality <= 92 that fits, found by
bisection. Colour is converted after the resize: the same result to the eye, and
a 200 MP photo costs a 2.6 MP transform. Everything the plan decided is recomputed from the same pure
functions, so the executor cannot drift from what `--dry-run` showed.
"""

from __future__ import annotations

import io
import math
import struct
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageCms, ImageFilter, ImageMath

from igpreflight import atomic
from igpreflight.limits import IMAGE_FIX
from igpreflight.model import ImageFacts
from igpreflight.preflight.decode import MAX_FRAMES, classic_error, located
from igpreflight.preflight.image_colour import UNREADABLE_ICC
from igpreflight.preflight.probe_image import bomb_reason, icc_facts, open_image
from igpreflight.transcode import image_resize, jpeg_segments
from igpreflight.transcode.aim import plan_image_limits
from igpreflight.transcode.cicp_icc import cicp_profile
from igpreflight.transcode.image_encode import (
    SRGB_ICC,
    FixError,
    encode_jpeg,
    encode_png,
    metadata,
    source_quality,
)
from igpreflight.transcode.image_memory import budget, memory_factor
from igpreflight.transcode.option_text import parse_colour
from igpreflight.transcode.plan_image import (
    BYTE_STEPS,
    DRAFT_FORMATS,
    Geometry,
    draft_factor,
    plan_geometry,
    scale_needed,
)
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus

# Pillow's resize first reduces by whole factors (box filter) down to this
# multiple of the target, then runs Lanczos: the same look, a fraction of the time.
REDUCING_GAP = 3.0

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# The transforms target exactly the profile that is embedded.
_SRGB = ImageCms.ImageCmsProfile(io.BytesIO(SRGB_ICC))


class Undecodable(FixError):
    """The source does not decode (FILE001); the reason says what broke and where."""


def decodes_pixels(plan: FixPlan | None) -> bool:
    """Whether executing `plan` decodes the source (and so proves it decodes)."""
    return (
        plan is not None
        and plan.status is FixStatus.CONVERTED
        and not any(s.name in BYTE_STEPS for s in plan.steps)
    )


def apply_image(
    src: Path, facts: ImageFacts, plan: FixPlan, dst: Path, options: FixOptions
) -> int | None:
    """Write the fixed image to `dst` atomically; returns the JPEG quality used
    (None when the bytes were copied or the output is a PNG)."""
    src, dst = Path(src), Path(dst)
    if plan.status is FixStatus.UNCHANGED:
        return None
    if plan.status is FixStatus.COPIED:
        atomic.copy_file(src, dst)
        return None
    if plan.status is not FixStatus.CONVERTED:
        raise FixError(plan.reason or f"nothing to apply for a {plan.status.value} plan")
    names = {s.name for s in plan.steps}
    if names & set(BYTE_STEPS):
        icc = SRGB_ICC if "relabel-srgb" in names else None
        try:
            jpeg_segments.rewrite(src, dst, drop_exif="strip-exif" in names, icc=icc)
        except (jpeg_segments.SegmentError, struct.error) as exc:
            raise FixError(f"the JPEG's header segments cannot be rewritten: {exc}") from exc
        return None
    role = plan.role
    if role is None:
        raise FixError("an image plan needs a role")
    geo = plan_geometry(facts, role, options, plan.profile)
    out_format = next(
        (s.param("format") for s in plan.steps if s.name == "encode" and hasattr(s, "param")),
        "JPEG",
    )
    keep = options.keep_metadata
    orientation = facts.orientation
    # open_image skips Pillow's MAX_IMAGE_PIXELS check (no global is changed): the
    # probe's bomb policy, applied again just below, decides what is a real image.
    with open(src, "rb") as fp:
        if facts.format.upper() == "TIFF":
            fp, orientation = _tiff_unoriented(fp.read())
        im = open_image(fp, str(src))
        reason = bomb_reason(im.width, im.height, facts.bytes, im.format or "")
        if reason:
            raise FixError(reason)
        meta = metadata(im, exif_ok=not facts.exif_error) if keep else {}
        factor = _factor(facts, geo, options)
        icc = im.info.get("icc_profile") or (cicp_profile(*facts.cicp) if facts.cicp else None)
        # Pixels kept at their size: never a higher quality than the source's.
        ceiling = source_quality(getattr(im, "quantization", None)) if geo.unchanged else None
        pixels = _decode(src, im, facts, geo, factor)
    del im
    pixels = _orient(pixels, orientation)
    pixels = _crop_resize(pixels, facts, geo)
    pixels = _to_srgb(pixels, icc)
    pixels = _flatten(pixels, options.background)
    if geo.padded:
        pixels = _pad(pixels, geo, options)
    limits = plan_image_limits(plan)
    if out_format == "PNG":
        data = encode_png(pixels, meta)
        if len(data) > limits.max_bytes:
            raise FixError(
                f"as PNG the image is {len(data):,} bytes, over {limits.max_bytes:,}; "
                "fix it without --keep-png"
            )
        atomic.write_bytes(dst, data)
        return None
    data, quality = encode_jpeg(pixels, limits.max_bytes, meta, ceiling=ceiling)
    atomic.write_bytes(dst, data)
    return quality


# ---------------------------------------------------------------- decode


def _wanted(width: int, height: int, geo: Geometry, factor: int) -> tuple[int, int]:
    """The size a JPEG is decoded at: the smallest n/8 covering the output, 1/`factor`
    at most (the memory budget's)."""
    scale = min(scale_needed(geo), Fraction(1, factor))
    return math.ceil(width * scale), math.ceil(height * scale)


def strict_jpeg_size(
    facts: ImageFacts, plan: FixPlan, options: FixOptions
) -> tuple[int, int] | None:
    """The size `apply_image` asks the strict JPEG decode for (None: it decodes no
    JPEG that way), so a batch can have it decoded ahead (`jpeg_child.decode_ahead`)."""
    if not decodes_pixels(plan) or plan.role is None:
        return None
    if facts.format.upper() not in DRAFT_FORMATS:
        return None
    geo = plan_geometry(facts, plan.role, options, plan.profile)
    return _wanted(facts.width, facts.height, geo, _factor(facts, geo, options))


def _factor(facts: ImageFacts, geo: Geometry, options: FixOptions) -> int:
    """How much smaller than stored the source may be decoded (the memory budget's
    factor, else the draft factor the output allows)."""
    return memory_factor(facts, geo, budget(options)) or draft_factor(facts, geo)


def _decode(
    src: Path, im: Image.Image, facts: ImageFacts, geo: Geometry, factor: int
) -> Image.Image:
    """The source's first frame in 8 bits, decoded once with errors fatal.

    A JPEG: libjpeg-turbo, DCT-scaled to the smallest n/8 covering the output
    (1/`factor` at most, the memory budget's). One TurboJPEG does not take:
    proved as before (ffmpeg), then Pillow's draft decode. Anything else: Pillow,
    every frame of an animation decoded (the output keeps the first)."""
    if (im.format or "").upper() in DRAFT_FORMATS:
        from igpreflight.preflight import jpeg_strict

        wanted = _wanted(im.width, im.height, geo, factor)
        try:
            return _eight_bit(jpeg_strict.decode(src, wanted))
        except jpeg_strict.CorruptJpeg as exc:
            raise Undecodable(located(src, facts, str(exc))) from None
        except jpeg_strict.NotForTurbo:
            broken = classic_error(src, facts, IMAGE_FIX.max_memory)
            if broken:
                raise Undecodable(broken) from None
    if factor > 1:
        im.draft(im.mode, (-(-im.width // factor), -(-im.height // factor)))
    try:
        im.load()
        pixels = _eight_bit(im)
        frames = min(facts.frames or 1, MAX_FRAMES)
        if frames > 1 and (im.format or "").upper() not in DRAFT_FORMATS:
            pixels = pixels.copy() if pixels is im else pixels
            for index in range(1, frames):  # proved, not kept
                im.seek(index)
                im.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise Undecodable(" ".join(str(exc).split())[:200] or type(exc).__name__) from None
    return pixels


# ---------------------------------------------------------------- pixels


def _eight_bit(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> L, LA, RGB, RGBA or CMYK with 8 bits per channel.

    16-bit grey is scaled (Pillow's own I;16 -> L clips at 255), and a
    transparency key (tRNS) becomes a real alpha channel so it can be flattened.
    """
    mode = im.mode
    info = im.info
    if mode in ("L", "RGB") and "transparency" in info:
        return im.convert("LA" if mode == "L" else "RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _grey_to_l(im)
    return im.convert("RGBA" if "A" in im.getbands() else "RGB")


def _grey_to_l(im: Image.Image) -> Image.Image:
    wide = im.convert("I") if im.mode != "F" else im
    top = 65535 if im.mode.startswith("I;16") else max(255, int(wide.getextrema()[1] or 0))
    grey = wide.point(lambda v: v * (255 / top)).convert("L")
    key = im.info.get("transparency")
    if isinstance(key, int) and im.mode != "F":
        alpha = ImageMath.lambda_eval(lambda a: (a["im"] != key) * 255, im=wide).convert("L")
        grey = Image.merge("LA", (grey, alpha))
    return grey


def _icc_space(icc: bytes) -> str:
    return icc[16:20].decode("ascii", "replace").strip() if len(icc) >= 20 else ""


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """ICC-correct conversion to sRGB: RGB, CMYK and grey profiles; CMYK without a
    profile goes the way viewers show it (Pillow's conversion, as browsers do).

    Alpha is kept aside and re-attached (ImageCms converts colour only)."""
    alpha = im.getchannel("A") if im.mode in ("LA", "RGBA") else None
    base = im.convert({"LA": "L", "RGBA": "RGB"}.get(im.mode, im.mode))
    space = _icc_space(icc) if icc else ""
    expected = {"RGB": "RGB", "CMYK": "CMYK", "L": "GRAY"}[base.mode]
    # A profile lcms cannot open is ignored, as viewers do (check calls it a misfit).
    name, is_srgb = icc_facts(icc) if icc else ("", False)
    usable = space == expected and name != UNREADABLE_ICC
    if icc and usable and not (base.mode != "CMYK" and is_srgb):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            cmyk = base.mode == "CMYK"
            intent = ImageCms.Intent.PERCEPTUAL if cmyk else ImageCms.Intent.RELATIVE_COLORIMETRIC
            transform = ImageCms.buildTransform(
                source,
                _SRGB,
                base.mode,
                "RGB",
                renderingIntent=intent,
                flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
            )
            converted = ImageCms.applyTransform(base, transform)
            assert converted is not None
            base = converted
            if im.mode in ("L", "LA"):
                base = base.convert("L")  # a grey source stays grey (R = G = B)
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            raise FixError(f"the embedded ICC profile cannot be used: {exc}") from exc
    elif base.mode == "CMYK":
        base = base.convert("RGB")
    if alpha is None:
        return base
    return Image.merge(base.mode + "A", (*base.split(), alpha))


def _tiff_unoriented(data: bytes) -> tuple[io.BytesIO, int]:
    """The TIFF with its first IFD's Orientation set to 1, and the value it had.

    Pillow applies a TIFF's orientation while loading, but for 5-8 on anything
    but RGB and bilevel it decodes into a buffer of the rotated shape and the
    pixels come out scrambled; decoding as stored and rotating here avoids that.
    (The probe reports a TIFF as already oriented: the same displayed size.)
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8 or struct.unpack(order + "H", data[2:4])[0] != 42:
        return io.BytesIO(data), 1
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return io.BytesIO(data), 1
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(data):
            break
        tag, kind, n = struct.unpack(order + "HHI", data[at : at + 8])
        if tag == 0x0112 and kind == 3 and n == 1:
            (value,) = struct.unpack(order + "H", data[at + 8 : at + 10])
            patched = bytearray(data)
            patched[at + 8 : at + 10] = struct.pack(order + "H", 1)
            return io.BytesIO(bytes(patched)), value if 1 <= value <= 8 else 1
    return io.BytesIO(data), 1


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _flatten(im: Image.Image, background: str) -> Image.Image:
    if im.mode not in ("LA", "RGBA"):
        return im
    colour = parse_colour(background)
    grey_ok = im.mode == "LA" and colour[0] == colour[1] == colour[2]
    mode = "L" if grey_ok else "RGB"
    base = im.convert("L" if im.mode == "LA" else "RGB").convert(mode)
    canvas = Image.new(mode, im.size, colour[0] if grey_ok else colour)
    canvas.paste(base, (0, 0), im.getchannel("A"))
    return canvas


def _crop_resize(im: Image.Image, facts: ImageFacts, geo: Geometry) -> Image.Image:
    """Crop + resize in one Lanczos pass over the box (in full-size display pixels,
    scaled to the maybe drafted decode), in two bands at once (`image_resize`).
    Pillow resizes alpha premultiplied."""
    dw, dh = facts.display_width, facts.display_height
    if Fraction(im.width, im.height) != Fraction(dw, dh) and (
        abs(im.width / im.height - dw / dh) > 0.02 * dw / dh
    ):
        raise FixError(f"decoded {im.width}x{im.height} does not match the probed {dw}x{dh}")
    sx, sy = im.width / dw, im.height / dh
    x0, y0, x1, y1 = geo.box
    box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    if box == (0, 0, im.width, im.height) and im.size == geo.content:
        return im
    if (
        all(float(v).is_integer() for v in box)
        and (box[2] - box[0], box[3] - box[1]) == geo.content
    ):
        return im.crop(tuple(int(v) for v in box))
    return image_resize.lanczos(im, geo.content, box, REDUCING_GAP)


def _pad(content: Image.Image, geo: Geometry, options: FixOptions) -> Image.Image:
    if options.pad_color == "blur":
        canvas = _blurred_fill(content, geo.canvas)
    else:
        colour = parse_colour(options.pad_color)
        mode = "L" if content.mode == "L" and colour[0] == colour[1] == colour[2] else "RGB"
        canvas = Image.new(mode, geo.canvas, colour[0] if mode == "L" else colour)
    canvas.paste(content.convert(canvas.mode), geo.offset)
    return canvas


def _blurred_fill(content: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image itself, scaled to cover the canvas and heavily blurred (done small,
    then scaled up, so a 1080 px canvas costs what a 100 px blur does)."""
    cw, ch = size
    small = (max(1, cw // 8), max(1, ch // 8))
    scale = max(small[0] / content.width, small[1] / content.height)
    cover = content.resize(
        (max(small[0], round(content.width * scale)), max(small[1], round(content.height * scale))),
        Image.Resampling.BILINEAR,
    )
    left, top = (cover.width - small[0]) // 2, (cover.height - small[1]) // 2
    cover = cover.crop((left, top, left + small[0], top + small[1]))
    blurred = cover.filter(ImageFilter.GaussianBlur(max(1, max(small) // 12)))
    return blurred.resize(size, Image.Resampling.BILINEAR)

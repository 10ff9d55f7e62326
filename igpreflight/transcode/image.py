"""Execute an image FixPlan with Pillow: decode once, normalise, encode once (or a few times).

Order: open (no Pillow bomb cut-off; the probe's policy already ran) -> JPEG draft
decode when shrinking 2x or more -> 8-bit mode -> orientation baked -> crop/resize
(one Lanczos pass over the crop box) -> sRGB through the embedded ICC profile ->
alpha flattened -> pad -> JPEG at the highest quality <= 92 that fits, found by
bisection. Colour is converted after the resize: the same result to the eye, and
a 200 MP photo costs a 2.6 MP transform. Everything the plan decided is recomputed from the same pure
functions, so the executor cannot drift from what `--dry-run` showed.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageCms, ImageColor, ImageFilter, ImageMath

from igpreflight import atomic
from igpreflight.limits import IMAGE_FIX, ImageFixTargets
from igpreflight.model import ImageFacts
from igpreflight.preflight.decode import decode_cost
from igpreflight.preflight.probe_image import bomb_reason, icc_facts, open_image
from igpreflight.transcode.aim import plan_image_limits
from igpreflight.transcode.plan_image import Geometry, draft_factor, plan_geometry
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

# lcms stamps the profile it builds with the current date and time (ICC header
# bytes 24..35), so every process would embed different bytes and the same fix
# would give a different file (and upload key) each run. The stamp is set to
# this constant and the profile ID (an MD5 over the profile) recomputed.
ICC_DATE = (2024, 1, 1, 0, 0, 0)  # year, month, day, hour, minute, second (UTC)


def _constant_icc(profile: bytes) -> bytes:
    """`profile` with its creation date set to ICC_DATE and its profile ID
    recomputed (ICC.1:2010 7.2.18: the MD5 of the profile with the flags,
    rendering intent and ID fields zeroed; profiles before v4 keep a zero ID)."""
    data = bytearray(profile)
    data[24:36] = struct.pack(">6H", *ICC_DATE)
    data[84:100] = bytes(16)
    if data[8] >= 4:
        masked = bytearray(data)
        masked[44:48] = bytes(4)
        masked[64:68] = bytes(4)
        data[84:100] = hashlib.md5(masked, usedforsecurity=False).digest()
    return bytes(data)


SRGB_ICC: bytes = _constant_icc(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
# The transforms target exactly the profile that is embedded.
_SRGB = ImageCms.ImageCmsProfile(io.BytesIO(SRGB_ICC))

_MAX_EXIF = 65_000  # bytes of EXIF a JPEG APP1 segment can carry (65,533 with its header)
_XMP_MOTION = re.compile(rb"MicroVideo|MotionPhoto")
_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation\s*=\s*"|<tiff:Orientation>)\s*[2-8]')


class FixError(Exception):
    """The image cannot be fixed as planned (the reason is one line)."""


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
    if any(s.name == "strip-exif" for s in plan.steps):
        without_exif(src, dst)
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
        meta = _metadata(im, exif_ok=not facts.exif_error) if keep else {}
        factor = memory_factor(facts, geo, budget(options)) or draft_factor(facts, geo)
        if factor > 1:
            im.draft(im.mode, (-(-im.width // factor), -(-im.height // factor)))
        im.load()
        icc = im.info.get("icc_profile") or None
        pixels = _eight_bit(im)
    del im
    pixels = _orient(pixels, orientation)
    pixels = _crop_resize(pixels, facts, geo)
    pixels = _to_srgb(pixels, icc)
    pixels = _flatten(pixels, options.background)
    if geo.padded:
        pixels = _pad(pixels, geo, options)
    limits = plan_image_limits(plan)
    if out_format == "PNG":
        data = _encode_png(pixels, meta)
        if len(data) > limits.max_bytes:
            raise FixError(
                f"as PNG the image is {len(data):,} bytes, over {limits.max_bytes:,}; "
                "fix it without --keep-png"
            )
        atomic.write_bytes(dst, data)
        return None
    data, quality = encode_jpeg(pixels, limits.max_bytes, meta)
    atomic.write_bytes(dst, data)
    return quality


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
    if icc and space == expected and not (base.mode != "CMYK" and icc_facts(icc)[1]):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            intent = (
                ImageCms.Intent.PERCEPTUAL
                if base.mode == "CMYK"
                else ImageCms.Intent.RELATIVE_COLORIMETRIC
            )
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


def parse_colour(value: str) -> tuple[int, int, int]:
    """A colour name or #rrggbb as RGB (raises ValueError for anything else)."""
    rgb = ImageColor.getrgb(value)
    return rgb[0], rgb[1], rgb[2]


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
    scaled to the maybe drafted decode). Pillow resizes alpha premultiplied."""
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
    return im.resize(geo.content, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)


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


# ---------------------------------------------------------------- encode


def _metadata(im: Image.Image, exif_ok: bool = True) -> dict[str, bytes | str]:
    """EXIF (orientation removed: it is baked in; a corrupt block never), XMP and
    comment, for --keep-metadata."""
    out: dict[str, bytes | str] = {}
    try:
        exif = im.getexif() if exif_ok else None
    except Exception:  # noqa: BLE001 - a broken EXIF block is dropped, not fatal
        exif = None
    if exif:
        exif.pop(0x0112, None)
        data = exif.tobytes() if len(exif) else b""
        if len(data) > _MAX_EXIF:
            # A JPEG APP1 segment holds 64 KB: the maker note goes first, then all of it.
            exif.get_ifd(0x8769).pop(0x927C, None)
            data = exif.tobytes()
        if data and len(data) <= _MAX_EXIF:
            out["exif"] = data
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    # A motion photo's XMP points at a video appended to the JPEG; the re-encoded
    # file has no such video, so that XMP would lie (and mislead readers).
    if xmp and not _XMP_MOTION.search(xmp):
        out["xmp"] = _XMP_ORIENTATION.sub(rb"\g<1>1", xmp)
    comment = im.info.get("comment")
    if comment:
        out["comment"] = comment
    return out


def _icc_for(im: Image.Image) -> bytes | None:
    """sRGB colour images carry the sRGB profile; grey images carry none."""
    return SRGB_ICC if im.mode == "RGB" else None


def _encode_once(im: Image.Image, quality: int, meta: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    params: dict[str, object] = {
        "quality": quality,
        "subsampling": 2,  # 4:2:0
        "progressive": False,
        "optimize": True,
    }
    icc = _icc_for(im)
    if icc:
        params["icc_profile"] = icc
    params.update(meta)
    im.save(buf, "JPEG", **params)
    return buf.getvalue()


def encode_jpeg(
    im: Image.Image,
    max_bytes: int,
    meta: dict[str, bytes | str] | None = None,
    targets: ImageFixTargets = IMAGE_FIX,
) -> tuple[bytes, int]:
    """The highest quality <= targets.max_quality whose JPEG fits in `max_bytes`.

    One encode when the top quality fits (nearly always); otherwise a bisection
    over [min_quality, max_quality - 1], at most `targets.max_encodes` encodes.
    """
    meta = meta or {}
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    top = _encode_once(im, targets.max_quality, meta)
    if len(top) <= max_bytes:
        return top, targets.max_quality
    lo, hi = targets.min_quality, targets.max_quality - 1
    best: tuple[bytes, int] | None = None
    encodes = 1
    while lo <= hi and encodes < targets.max_encodes:
        mid = (lo + hi) // 2
        data = _encode_once(im, mid, meta)
        encodes += 1
        if len(data) <= max_bytes:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    if best is None:
        raise FixError(f"no JPEG quality down to {targets.min_quality} fits in {max_bytes:,} bytes")
    return best


def _encode_png(im: Image.Image, meta: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    params: dict[str, object] = {"compress_level": 6}
    icc = _icc_for(im)
    if icc:
        params["icc_profile"] = icc
    if "exif" in meta:
        params["exif"] = meta["exif"]
    im.save(buf, "PNG", **params)
    return buf.getvalue()


def without_exif(src: Path, dst: Path) -> None:
    """Copy a JPEG to `dst` without its EXIF block(s), every other byte kept.

    A corrupt EXIF block makes Instagram refuse a file whose pixels are fine:
    dropping the APP1 "Exif" segment repairs it without decoding a pixel.
    """
    data = Path(src).read_bytes()
    out = bytearray(data[:2])  # SOI
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if not (marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00"):
            out += data[pos:end]
        pos = end
    out += data[pos:]
    atomic.write_bytes(Path(dst), bytes(out))


# ---------------------------------------------------------------- memory budget


def budget(options: FixOptions) -> int:
    """Bytes one image decode may use: --max-memory, else ImageFixTargets.max_memory."""
    return options.max_memory or IMAGE_FIX.max_memory


def memory_factor(facts: ImageFacts, geo: Geometry, limit: int) -> int | None:
    """The draft factor that keeps the decode within `limit` bytes (None: none does).

    The plan's own factor first (no upsampling later); a JPEG over budget is
    decoded smaller still (down to 1/8), the output then coming from fewer pixels.
    """
    factor = draft_factor(facts, geo)
    while decode_cost(facts, factor) > limit:
        if facts.format.upper() not in ("JPEG", "MPO") or factor >= 8:
            return None
        factor *= 2
    return factor


def memory_reason(facts: ImageFacts, plan: FixPlan, options: FixOptions) -> str | None:
    """Why converting this image does not fit the memory budget (None: it fits)."""
    if plan.status is not FixStatus.CONVERTED or plan.role is None:
        return None
    limit = budget(options)
    geo = plan_geometry(facts, plan.role, options, plan.profile)
    if memory_factor(facts, geo, limit) is not None:
        return None
    need = decode_cost(facts, draft_factor(facts, geo))
    return (
        f"decoding this {facts.width}x{facts.height} {facts.format} needs about "
        f"{_size(need)}, over the memory budget of {_size(limit)}; "
        f"give --max-memory {_size(need, up=True)} or downscale it first"
    )


def _size(n: int, up: bool = False) -> str:
    gb = n / (1 << 30)
    if gb >= 1:
        return f"{(int(gb * 10) + 1) / 10 if up else gb:.1f}G"
    mb = n / (1 << 20)
    return f"{int(mb) + 1 if up else mb:.0f}M"


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

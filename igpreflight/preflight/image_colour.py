"""An image's colour description: its ICC profile or CICP/nclx values, as (name, is sRGB).

Split from `probe_image.py` because the image fixer asks the same question of the
profile it keeps. lcms loads only for a file that carries a profile, and then only its
binding (`PIL._imagingcms`, 2-3 ms) rather than `PIL.ImageCms` with `PIL.Image` (15 ms),
unless a tone curve has to go through an lcms transform.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageCms, _imagingcms

# sRGB's colorants as an ICC v2/v4 profile stores them (adapted to D50).
_SRGB_XYZ = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
_NCLX_PRIMARIES = {1: "BT.709", 5: "BT.601", 6: "BT.601", 9: "BT.2020", 11: "DCI-P3", 12: "P3"}
_NCLX_TRANSFER = {16: "PQ", 18: "HLG"}  # HDR: not sRGB whatever the primaries
# Names for the SDR transfers phones and encoders write, for the facts' wording only.
_SDR_TRANSFER = {1: "BT.709", 4: "gamma 2.2", 6: "BT.709", 8: "linear", 13: "sRGB"}
# Grey levels a profile's tone curves must return as sRGB's, within TONE_TOLERANCE
# levels of 255: a pure gamma 2.2 (compact "sRGB" profiles) is off by at most 6 there,
# gamma 1.8 by 19 and linear light (scRGB) by 60.
_GREY_RAMP = (32, 64, 96, 128, 160, 192, 224)
TONE_TOLERANCE = 8
_RGB_TRC = (b"rTRC", b"gTRC", b"bTRC")


def _tags(icc: bytes) -> dict[bytes, tuple[int, int]]:
    """The ICC tag table: signature -> (offset, size)."""
    (count,) = struct.unpack(">I", icc[128:132])
    tags = {}
    for i in range(min(count, 200)):
        sig, off, n = struct.unpack(">4sII", icc[132 + 12 * i : 144 + 12 * i])
        tags[sig] = (off, n)
    return tags


def _icc_colorants(icc: bytes) -> list[tuple[float, float, float]] | None:
    try:
        tags = _tags(icc)
        out = []
        for sig in (b"rXYZ", b"gXYZ", b"bXYZ"):
            off, _n = tags[sig]
            x, y, z = struct.unpack(">iii", icc[off + 8 : off + 20])
            out.append((x / 65536, y / 65536, z / 65536))
        return out
    except (KeyError, struct.error, ValueError):
        return None


def _curve(icc: bytes, off: int) -> Callable[[float], float] | None:
    """An ICC v2/v4 tone curve ('curv' or 'para') as a function of 0..1, read from
    its tag; None for anything else (the caller asks lcms)."""
    kind = icc[off : off + 4]
    if kind == b"curv":
        (n,) = struct.unpack(">I", icc[off + 8 : off + 12])
        if n == 0:
            return lambda x: x
        if n == 1:
            (g,) = struct.unpack(">H", icc[off + 12 : off + 14])
            return lambda x, g=g / 256: x**g
        table = struct.unpack(f">{n}H", icc[off + 12 : off + 12 + 2 * n])
        return lambda x: table[round(x * (n - 1))] / 65535
    if kind == b"para":
        (fn,) = struct.unpack(">H", icc[off + 8 : off + 10])
        count = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(fn)
        if count is None:
            return None
        raw = struct.unpack(f">{count}i", icc[off + 12 : off + 12 + 4 * count])
        g, a, b, c, d, e, f = [v / 65536 for v in raw] + [0.0] * (7 - count)
        if fn == 0:
            return lambda x: x**g
        if fn == 1:
            return lambda x: (a * x + b) ** g if x >= -b / a else 0.0
        if fn == 2:
            return lambda x: (a * x + b) ** g + c if x >= -b / a else c
        if fn == 3:
            return lambda x: (a * x + b) ** g if x >= d else c * x
        return lambda x: (a * x + b) ** g + e if x >= d else c * x + f
    return None


def _srgb_encode(linear: float) -> float:
    linear = min(max(linear, 0.0), 1.0)
    return 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055


def _tone_from_tags(icc: bytes, sigs: tuple[bytes, ...] = _RGB_TRC) -> bool | None:
    """`_srgb_tone` read from the rTRC/gTRC/bTRC tags, or a grey profile's kTRC (a few
    microseconds, where a lcms transform costs milliseconds on every photo carrying
    an sRGB profile); None when a curve is not a plain 'curv' or 'para'."""
    try:
        tags = _tags(icc)
        for sig in sigs:
            curve = _curve(icc, tags[sig][0])
            if curve is None:
                return None
            for v in _GREY_RAMP:
                back = 255 * _srgb_encode(curve(v / 255))
                if abs(back - v) > TONE_TOLERANCE:
                    return False
        return True
    except (KeyError, struct.error, ValueError, ZeroDivisionError, OverflowError):
        return None
    except TypeError:  # a negative base to a fractional power: a curve that makes no sense
        return False


def _srgb_tone(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether `profile`'s tone curves are sRGB's, give or take TONE_TOLERANCE:
    a grey ramp (a few synthetic pixels, nothing of the file) goes through lcms
    into sRGB and must come back as it went in."""
    from PIL import Image, ImageCms

    ramp = Image.frombytes("RGB", (len(_GREY_RAMP), 1), bytes(v for v in _GREY_RAMP for _ in "rgb"))
    try:
        transform = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "RGB", "RGB")
        out = ImageCms.applyTransform(ramp, transform)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    assert out is not None
    got = out.tobytes()
    return all(
        abs(got[3 * i + c] - v) <= TONE_TOLERANCE
        for i, v in enumerate(_GREY_RAMP)
        for c in range(3)
    )


def _tone(icc: bytes, cms: _imagingcms.CmsProfile) -> bool:
    quick = _tone_from_tags(icc)
    if quick is not None:
        return quick
    from PIL import ImageCms

    return _srgb_tone(ImageCms.ImageCmsProfile(cms))


# The name of a profile lcms cannot open. Viewers ignore such a profile and show the
# pixels as sRGB (Chrome's Skia, Firefox's qcms), so it is a misfit, not a conversion.
UNREADABLE_ICC = "unreadable ICC profile"


@functools.lru_cache(maxsize=64)  # a batch carries a handful of distinct profiles
def icc_facts(icc: bytes) -> tuple[str, bool]:
    """(description, is_srgb) of an ICC profile.

    An RGB matrix profile is sRGB when its colorants are sRGB's within 0.005
    (so compact profiles such as Facebook's "c2" count, and "DCI-P3 D65 Gamut
    with sRGB Transfer" does not) and its tone curves are sRGB's (`_srgb_tone`:
    scRGB and other linear-light profiles share sRGB's colorants, and their
    pixels mean other colours); any other profile when its description says
    sRGB (or sGray for grey ones, whose kTRC must not say otherwise).
    """
    try:
        # What ImageCms.getProfileDescription(ImageCmsProfile(...)) calls, without
        # PIL.Image: the same lcms open and description, so the same answers.
        from PIL import _imagingcms

        cms = _imagingcms.profile_frombytes(icc)
        name = ((cms.profile_description or "") + "\n").strip()
    except Exception:  # noqa: BLE001 - lcms raises its own error types on bad profiles
        return UNREADABLE_ICC, False
    name = name or "unnamed ICC profile"
    space = icc[16:20]
    if space == b"RGB ":
        colorants = _icc_colorants(icc)
        if colorants is not None:
            # Matrix profiles: the colorants decide ("DCI-P3 D65 Gamut with sRGB
            # Transfer" names sRGB but is P3), then the tone curves.
            return name, all(
                abs(a - b) < 0.005
                for got, want in zip(colorants, _SRGB_XYZ, strict=True)
                for a, b in zip(got, want, strict=True)
            ) and _tone(icc, cms)
    low = name.lower()
    if space == b"GRAY":
        # The name alone is not enough: Ghostscript's "sGray" has a gamma 1.8 curve,
        # which viewers apply (a mid grey 128 shows as 146).
        named = "srgb" in low or "sgray" in low
        return name, named and _tone_from_tags(icc, (b"kTRC",)) is not False
    return name, "srgb" in low


# The profile colour spaces viewers apply to an image's pixels, by the image's colour
# space: Chrome (Skia's SkJpegCodec) and Firefox (nsJPEGDecoder) ignore any other
# profile and show the pixels as sRGB; a grey image takes a grey or an RGB profile.
_FITTING = {
    "RGB": ("RGB",),
    "GRAY": ("GRAY", "RGB"),
    "CMYK": ("CMYK",),
    "YCCK": ("CMYK",),
    "LAB": ("Lab",),
}


def profile_misfit(icc: bytes, colorspace: str) -> str | None:
    """The colour space of `icc` (GRAY, CMYK, RGB...) when it does not fit pixels
    of `colorspace` (RGB, GRAY, CMYK, YCCK, LAB), so viewers ignore it; else None."""
    space = icc[16:20].decode("ascii", "replace").strip() if len(icc) >= 20 else ""
    fitting = _FITTING.get(colorspace.upper())
    if fitting is None or not space or space in fitting:
        return None
    return space


def colour_description(
    icc: bytes | None, nclx: tuple[int, int] | None, colorspace: str
) -> tuple[str | None, bool | None, str | None]:
    """(name, is sRGB, misfit) of an image's profile or CICP values, for its facts;
    one function for the Pillow path and the JPEG one (`jpeg_facts.py`)."""
    icc_name: str | None = None
    icc_is_srgb: bool | None = None
    icc_misfit: str | None = None
    if icc:
        icc_name, icc_is_srgb = icc_facts(icc)
        # A profile that does not fit the pixels (sGray on a colour JPEG) is ignored
        # by viewers: whatever it names, it is not the image's colour space.
        icc_misfit = "unreadable" if icc_name == UNREADABLE_ICC else profile_misfit(icc, colorspace)
        if icc_misfit:
            icc_is_srgb = False
    elif nclx:
        described = nclx_facts(*nclx)
        if described:
            icc_name, icc_is_srgb = described
    return icc_name, icc_is_srgb, icc_misfit


def nclx_facts(primaries: int, transfer: int) -> tuple[str, bool] | None:
    """A CICP/nclx colour description that is not sRGB-like, as (name, False)."""
    if primaries in (1, 2) and transfer not in _NCLX_TRANSFER:
        return None  # BT.709 primaries (sRGB's) or unspecified
    pname = _NCLX_PRIMARIES.get(primaries, f"primaries {primaries}")
    tname = _NCLX_TRANSFER.get(transfer) or _SDR_TRANSFER.get(transfer, f"transfer {transfer}")
    return f"CICP {pname} / {tname}", False

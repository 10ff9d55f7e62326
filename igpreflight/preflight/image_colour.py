"""An image's colour description: its ICC profile or CICP/nclx values, as (name, is sRGB).

Split from `probe_image.py` because the image fixer asks the same question of the
profile it keeps; lcms (`PIL.ImageCms`) loads only for a file that carries a profile.
"""

from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageCms

# sRGB's colorants as an ICC v2/v4 profile stores them (adapted to D50).
_SRGB_XYZ = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
_NCLX_PRIMARIES = {1: "BT.709", 5: "BT.601", 6: "BT.601", 9: "BT.2020", 11: "DCI-P3", 12: "P3"}
_NCLX_TRANSFER = {16: "PQ", 18: "HLG"}
# Grey levels a profile's tone curves must return as sRGB's, within TONE_TOLERANCE
# levels of 255: a pure gamma 2.2 (compact "sRGB" profiles) is off by at most 6 there,
# gamma 1.8 by 19 and linear light (scRGB) by 60.
_GREY_RAMP = (32, 64, 96, 128, 160, 192, 224)
TONE_TOLERANCE = 8


def _icc_colorants(icc: bytes) -> list[tuple[float, float, float]] | None:
    try:
        (count,) = struct.unpack(">I", icc[128:132])
        tags = {}
        for i in range(min(count, 200)):
            sig, off, n = struct.unpack(">4sII", icc[132 + 12 * i : 144 + 12 * i])
            tags[sig] = (off, n)
        out = []
        for sig in (b"rXYZ", b"gXYZ", b"bXYZ"):
            off, _n = tags[sig]
            x, y, z = struct.unpack(">iii", icc[off + 8 : off + 20])
            out.append((x / 65536, y / 65536, z / 65536))
        return out
    except (KeyError, struct.error, ValueError):
        return None


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


def icc_facts(icc: bytes) -> tuple[str, bool]:
    """(description, is_srgb) of an ICC profile.

    An RGB matrix profile is sRGB when its colorants are sRGB's within 0.005
    (so compact profiles such as Facebook's "c2" count, and "DCI-P3 D65 Gamut
    with sRGB Transfer" does not) and its tone curves are sRGB's (`_srgb_tone`:
    scRGB and other linear-light profiles share sRGB's colorants, and their
    pixels mean other colours); any other profile when its description says
    sRGB (or sGray for grey ones).
    """
    from PIL import ImageCms  # lcms: loaded only for a file that carries a profile

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        name = ImageCms.getProfileDescription(profile).strip()
    except Exception:  # noqa: BLE001 - lcms raises its own error types on bad profiles
        return "unreadable ICC profile", False
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
            ) and _srgb_tone(profile)
    low = name.lower()
    return name, "srgb" in low or (space == b"GRAY" and "sgray" in low)


def nclx_facts(primaries: int, transfer: int) -> tuple[str, bool] | None:
    """A CICP/nclx colour description that is not sRGB-like, as (name, False)."""
    if primaries in (1, 2) and transfer not in _NCLX_TRANSFER:
        return None  # BT.709 primaries (sRGB's) or unspecified
    pname = _NCLX_PRIMARIES.get(primaries, f"primaries {primaries}")
    tname = _NCLX_TRANSFER.get(transfer, f"transfer {transfer}")
    return f"CICP {pname} / {tname}", False

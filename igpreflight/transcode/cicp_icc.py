"""An ICC profile for a CICP/nclx colour description, so that fix converts an
AVIF or HEIF labelled only by CICP (Display P3 from a phone, BT.2020 SDR) to sRGB
with ImageCms, as it does an image with an ICC profile, instead of writing its
numbers as sRGB's (P3 reds and greens came out dull).

The profile is an ICC v2 RGB matrix/TRC profile: the primaries and white point
adapted to D50 (Bradford), the transfer as a parametric curve. PQ and HLG (HDR)
and primaries not listed here give None: those pixels are still written as sRGB.
"""

from __future__ import annotations

import functools
import struct

# CICP colour primaries (ITU-T H.273): red, green, blue, white as CIE xy.
_D65 = (0.3127, 0.3290)
_PRIMARIES: dict[int, tuple[tuple[float, float], ...]] = {
    1: ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), _D65),  # BT.709
    5: ((0.64, 0.33), (0.29, 0.60), (0.15, 0.06), _D65),  # BT.470 B/G
    6: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), _D65),  # SMPTE 170M
    9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), _D65),  # BT.2020
    11: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351)),  # DCI-P3
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), _D65),  # Display P3
}
# CICP transfer characteristics as ICC parametric curves (function type, params).
_SRGB_CURVE = (3, (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
_BT709_CURVE = (3, (1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081))
_TRANSFERS: dict[int, tuple[int, tuple[float, ...]]] = {
    1: _BT709_CURVE,
    2: _SRGB_CURVE,  # unspecified: what viewers assume
    4: (0, (2.2,)),
    5: (0, (2.8,)),
    6: _BT709_CURVE,
    8: (0, (1.0,)),
    13: _SRGB_CURVE,
    14: _BT709_CURVE,
    15: _BT709_CURVE,
}
_D50 = (0.9642, 1.0, 0.8249)
_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))

Matrix = tuple[tuple[float, float, float], ...]


def _mul(a: Matrix, b: Matrix) -> Matrix:
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )


def _apply(m: Matrix, v: tuple[float, ...]) -> tuple[float, float, float]:
    x, y, z = (sum(m[i][k] * v[k] for k in range(3)) for i in range(3))
    return x, y, z


def _inverse(m: Matrix) -> Matrix:
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    adj = (
        (e * i - f * h, c * h - b * i, b * f - c * e),
        (f * g - d * i, a * i - c * g, c * d - a * f),
        (d * h - e * g, b * g - a * h, a * e - b * d),
    )
    return tuple(tuple(v / det for v in row) for row in adj)


def _xyz(xy: tuple[float, float]) -> tuple[float, float, float]:
    x, y = xy
    return x / y, 1.0, (1 - x - y) / y


def _colorants(primaries: tuple[tuple[float, float], ...]) -> Matrix:
    """The D50-adapted XYZ of red, green and blue, as rows."""
    *rgb, white = primaries
    cols = [_xyz(p) for p in rgb]
    m = tuple(tuple(cols[j][i] for j in range(3)) for i in range(3))
    w = _xyz(white)
    s = _apply(_inverse(m), w)
    m = tuple(tuple(m[i][j] * s[j] for j in range(3)) for i in range(3))
    src, dst = _apply(_BRADFORD, w), _apply(_BRADFORD, _D50)
    scale = tuple(tuple(dst[i] / src[i] if i == j else 0.0 for j in range(3)) for i in range(3))
    adapt = _mul(_mul(_inverse(_BRADFORD), scale), _BRADFORD)
    adapted = _mul(adapt, m)
    return tuple(tuple(adapted[i][j] for i in range(3)) for j in range(3))


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _tag_xyz(v: tuple[float, ...]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(x) for x in v)


def _tag_para(kind: int, params: tuple[float, ...]) -> bytes:
    return b"para\0\0\0\0" + struct.pack(">HH", kind, 0) + b"".join(_s15(p) for p in params)


def _tag_desc(text: str) -> bytes:
    raw = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(raw)) + raw + b"\0" * (12 + 67)


@functools.lru_cache(maxsize=16)
def cicp_profile(primaries: int, transfer: int) -> bytes | None:
    """ICC profile bytes for CICP (primaries, transfer), or None when not an SDR
    colour space this module knows."""
    if primaries not in _PRIMARIES or transfer not in _TRANSFERS:
        return None
    red, green, blue = _colorants(_PRIMARIES[primaries])
    curve = _tag_para(*_TRANSFERS[transfer])
    tags = [
        (b"desc", _tag_desc(f"CICP {primaries}/{transfer}")),
        (b"cprt", b"text\0\0\0\0none\0"),
        (b"wtpt", _tag_xyz(_D50)),
        (b"rXYZ", _tag_xyz(red)),
        (b"gXYZ", _tag_xyz(green)),
        (b"bXYZ", _tag_xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", start + len(data), len(body))
        data += body
    size = start + len(data)
    header = (
        struct.pack(">I", size)
        + b"\0" * 4
        + bytes((2, 0x10, 0, 0))
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)  # rendering intent: perceptual
        + b"".join(_s15(v) for v in _D50)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + data

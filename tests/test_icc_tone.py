"""The tone-curve half of "is this profile sRGB": read from the profile's curve tags
(`_tone_from_tags`, microseconds) it must say what lcms says for a grey ramp sent
through the profile into sRGB (`_srgb_tone`, milliseconds), on every kind of curve
an ICC v2/v4 matrix profile can carry."""

from __future__ import annotations

import io
import math
import struct

import pytest
from PIL import ImageCms

from fixtures.generate import make_icc_profile
from igpreflight.preflight.image_colour import _srgb_tone, _tone_from_tags, icc_facts


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def para(fn: int, *params: float) -> bytes:
    return b"para" + b"\0" * 4 + struct.pack(">H", fn) + b"\0\0" + b"".join(map(_s15, params))


def table(curve, n: int) -> bytes:
    values = [round(65535 * min(max(curve(i / (n - 1)), 0.0), 1.0)) for i in range(n)]
    return b"curv" + b"\0" * 4 + struct.pack(f">I{n}H", n, *values)


def srgb_decode(x: float) -> float:
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


CURVES = {
    "gamma 1.0": b"curv" + b"\0" * 8,  # no entries: the identity (linear light, scRGB)
    "gamma 1.8": None,
    "gamma 2.2": None,
    "gamma 2.4": None,
    "gamma 2.6": None,
    "para 0, 2.2": para(0, 2.2),
    "para 0, 1.0": para(0, 1.0),
    "para 1": para(1, 2.2, 1.0, 0.0),
    "para 2": para(2, 2.4, 1 / 1.055, 0.055 / 1.055, 0.0),
    "para 3, sRGB": para(3, 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045),
    "para 3, BT.709": para(3, 1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081),
    "para 4": para(4, 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045, 0.0, 0.0),
    "table sRGB 1024": table(srgb_decode, 1024),
    "table sRGB 256": table(srgb_decode, 256),
    "table linear 4096": table(lambda x: x, 4096),
    "table gamma 1.8": table(lambda x: x**1.8, 512),
    "table PQ-like": table(lambda x: math.pow(x, 5.0), 1024),
}


@pytest.mark.parametrize("name", list(CURVES))
def test_the_tags_say_what_lcms_says(name):
    trc = CURVES[name]
    gamma = float(name.split()[1]) if trc is None else 2.2
    icc = make_icc_profile("srgb-compact", gamma=gamma, trc=trc)
    quick = _tone_from_tags(icc)
    assert quick is not None, name
    assert quick == _srgb_tone(ImageCms.ImageCmsProfile(io.BytesIO(icc))), name


def test_srgb_itself_and_a_linear_profile():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert _tone_from_tags(srgb) is True and icc_facts(srgb)[1] is True
    linear = make_icc_profile("srgb-compact", trc=CURVES["gamma 1.0"])
    assert _tone_from_tags(linear) is False and icc_facts(linear)[1] is False


def test_a_curve_lcms_must_judge_is_left_to_it():
    """A tone curve that is neither 'curv' nor 'para' (a LUT profile, a cut tag)
    is not guessed: the tags say nothing and lcms decides."""
    odd = make_icc_profile("srgb-compact", trc=b"mAB " + b"\0" * 28)
    assert _tone_from_tags(odd) is None
    cut = make_icc_profile("srgb-compact", trc=b"curv" + b"\0" * 4 + struct.pack(">I", 4000))
    assert _tone_from_tags(cut) is None

"""`icc_facts` opens a profile through lcms's binding (`PIL._imagingcms`) rather than
`PIL.ImageCms`, which imports `PIL.Image` (issue 20: a JPEG with a profile is then
checked without it). The binding is what ImageCms calls, so every answer must be
the one ImageCms gives: the description, an unreadable profile, and the tone that
only an lcms transform can judge."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms

from fixtures.generate import make_icc_profile
from fixtures.icc import make_space_profile
from igpreflight.preflight.image_colour import _srgb_tone, icc_facts
from tests.corpus import corpus_files


def imagecms_name(icc: bytes) -> str:
    """The description as icc_facts read it before, through ImageCms."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        name = ImageCms.getProfileDescription(profile).strip()
    except Exception:  # noqa: BLE001 - what icc_facts catches
        return "unreadable ICC profile"
    return name or "unnamed ICC profile"


def profiles() -> dict[str, bytes]:
    made = {space: make_icc_profile(space) for space in ("srgb", "display-p3", "adobe-rgb")}
    made["srgb-compact"] = make_icc_profile("srgb-compact")
    made["sgray"] = make_space_profile("GRAY", "sGray")
    made["cmyk"] = make_space_profile("CMYK", "Some CMYK")
    made["unnamed"] = make_space_profile("GRAY", "")
    made["garbage"] = b"not a profile at all" * 10
    made["cut"] = made["display-p3"][:200]
    for path in corpus_files({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"}):
        try:
            icc = Image.open(path).info.get("icc_profile")
        except Exception:  # noqa: BLE001 - only the corpus's profiles matter here
            continue
        if icc:
            made[path.name] = icc
    return made


def test_the_binding_names_every_profile_as_imagecms_does():
    for name, icc in profiles().items():
        assert icc_facts.__wrapped__(icc)[0] == imagecms_name(icc), name


def test_a_tone_only_lcms_can_judge_still_goes_through_imagecms():
    odd = make_icc_profile("srgb-compact", trc=b"mAB " + b"\0" * 28)
    cut = make_icc_profile("srgb-compact", trc=b"curv" + b"\0" * 4 + struct.pack(">I", 4000))
    for icc in (odd, cut):
        want = _srgb_tone(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
        assert icc_facts.__wrapped__(icc) == (imagecms_name(icc), want)

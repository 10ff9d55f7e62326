"""What an image's colour needs from a fix: a conversion (the "to-srgb" step of a
re-encode, `needs_colour`), or only the sRGB label (`only_relabel`).

A JPEG whose only colour fault is a profile viewers ignore (a grey or CMYK one on
colour pixels: `image_colour.profile_misfit`; or one lcms cannot open) gets its ICC segments swapped for
sRGB's ("relabel-srgb", `jpeg_segments`), its pixels' bytes untouched: what
viewers show is already sRGB, and a re-encode would only lose a generation.
"""

from __future__ import annotations

from igpreflight.model import ImageFacts
from igpreflight.transcode.cicp_icc import cicp_profile


def misfit_profile(facts: ImageFacts) -> str:
    """The profile viewers ignore, in words: "unreadable ICC profile" or "GRAY profile 'x'"."""
    if facts.icc_misfit == "unreadable":
        return "unreadable ICC profile"
    return f"{facts.icc_misfit} profile '{facts.icc_name}'"


def only_relabel(facts: ImageFacts) -> bool:
    """Whether a JPEG's colour needs nothing but the sRGB label: 8-bit colour pixels
    whose profile viewers ignore, so what they show is already sRGB."""
    return (
        bool(facts.icc_misfit)
        and facts.format.upper() == "JPEG"
        and facts.colorspace == "RGB"
        and facts.mode == "RGB"
        and facts.bits <= 8
    )


def needs_colour(facts: ImageFacts) -> str | None:
    """Why the pixels need a colour conversion, or None."""
    parts = []
    if facts.mode == "LAB" or facts.colorspace == "LAB":
        parts.append("CIELAB -> sRGB")
    elif facts.mode == "CMYK" or facts.colorspace in ("CMYK", "YCCK"):
        plain = not facts.icc_name or facts.icc_misfit  # no CMYK profile to convert with
        parts.append("CMYK -> sRGB" + (" (no profile: as viewers show it)" if plain else ""))
    elif facts.icc_misfit:
        parts.append(f"{misfit_profile(facts)} ignored as viewers do")
    elif facts.icc_is_srgb is False and facts.icc_name:
        if facts.icc_name.startswith("CICP") and not (facts.cicp and cicp_profile(*facts.cicp)):
            # HDR (PQ, HLG) or unknown primaries: the pixels are written as sRGB.
            parts.append(f"{facts.icc_name} written as sRGB (no ICC profile to convert from)")
        else:
            parts.append(f"{facts.icc_name} -> sRGB")
    if facts.bits > 8:
        parts.append(f"{facts.bits}-bit -> 8-bit")
    return ", ".join(parts) or None

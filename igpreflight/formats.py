"""The Content-Type a media file must be served with, decided by its content.

Instagram's fetcher trusts the Content-Type header, and an upload tool that
guesses it from the file name serves a PNG named .jpg as image/jpeg. Both the
uploader (what to set) and the URL check (what to expect) ask this module.
"""

from __future__ import annotations

from PIL import Image

from igpreflight.model import Facts, ImageFacts, VideoFacts

# The four types SPEC section 1 accepts for a media URL.
ACCEPTED_TYPES = ("image/jpeg", "image/png", "video/mp4", "video/quicktime")

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heif": "heic",
    "image/avif": "avif",
    "image/tiff": "tif",
    "image/bmp": "bmp",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/x-msvideo": "avi",
}

_IMAGE_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "HEIF": "image/heif"}
# The probe names MOV "QuickTime" (from the ftyp brand) and MP4 "MPEG-4".
_VIDEO_TYPES = {
    "QuickTime": "video/quicktime",
    "WebM": "video/webm",
    "Matroska": "video/x-matroska",
    "AVI": "video/x-msvideo",
}
OCTET_STREAM = "application/octet-stream"
# ISO-BMFF brands of still images (HEIF/AVIF share the box format with MP4).
_STILL_BRANDS = {
    b"heic": "image/heif",
    b"heix": "image/heif",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}


def content_type_for(facts: Facts) -> str:
    """The MIME type of probed media (application/octet-stream when unknown)."""
    if isinstance(facts, ImageFacts):
        return _IMAGE_TYPES.get(facts.format) or Image.MIME.get(facts.format, OCTET_STREAM)
    if isinstance(facts, VideoFacts):
        if facts.container in _VIDEO_TYPES:
            return _VIDEO_TYPES[facts.container]
        return "video/mp4" if facts.container == "MPEG-4" else OCTET_STREAM
    return OCTET_STREAM


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a body show, for the four accepted types."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _STILL_BRANDS:
            return _STILL_BRANDS[brand]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    return None


def extension_for(content_type: str, fallback: str = "bin") -> str:
    """The file extension a key gets for a content type (jpg, png, mp4, mov...)."""
    return EXTENSIONS.get(content_type, fallback)


def bare_type(header: str | None) -> str:
    """A Content-Type header without parameters, lower-case ("" when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()

"""Opening an image with Pillow, and the one decompression-bomb policy.

Split from `probe_image.py` because the image fixer and the full decode open files
too: they share this module's plugin choice (only the plugin the magic bytes name is
imported, which keeps `check` of one JPEG fast) and `bomb_reason`, and need nothing
of the probe's header walks.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, BinaryIO

from igpreflight.probe_limits import PROBE_LIMITS, ProbeLimits

if TYPE_CHECKING:
    from PIL import Image

_HEIF_REGISTERED = False
# What one PNG text chunk (zTXt, compressed iTXt) may inflate to. Pillow's 1 MB refused
# sound files as "corrupt": ImageMagick stores an XMP or EXIF profile as hex text in a
# zTXt chunk ("Raw profile type xmp"), twice its size, and a Photoshop XMP bloated with
# document ancestors passes 1 MB. Pillow's MAX_TEXT_MEMORY (64 MB for all of a file's
# text) still bounds a text bomb.
PNG_TEXT_CHUNK = 16 * 1024 * 1024


def _register_heif() -> None:
    """HEIC/HEIF come from pillow-heif; Pillow 13 reads AVIF itself."""
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        import pillow_heif

        # Keep irot/imir applied by libheif (pillow-heif's default) so that the
        # size we report is what any HEIF decoder hands to the fixer.
        pillow_heif.register_heif_opener()
        _HEIF_REGISTERED = True


# ---------------------------------------------------------------- bombs


def bomb_reason(
    width: int, height: int, nbytes: int, fmt: str, limits: ProbeLimits = PROBE_LIMITS
) -> str | None:
    """Why a declared image size cannot be a real image, or None when it can.

    The one decompression-bomb policy, shared by the probe and the image fixer:
    a size beyond `limits.max_pixels`, or more pixels per byte of file than the
    format's best coder can describe (`limits.max_pixels_per_byte`).
    """
    pixels = max(width, 0) * max(height, 0)
    if pixels > limits.max_pixels:
        return (
            f"decompression bomb: {width}x{height} is {pixels / 1e6:,.0f} MP, "
            f"over the {limits.max_pixels / 1e6:,.0f} MP cap"
        )
    per_byte = dict(limits.max_pixels_per_byte).get(fmt.upper())
    if per_byte and pixels > per_byte * max(nbytes, 1):
        return (
            f"{fmt.upper()} header declares {width}x{height} but {nbytes:,} bytes cannot hold "
            "that image (decompression bomb or corrupt file)"
        )
    return None


def open_image(fp: BinaryIO, filename: str = "") -> Image.Image:
    """`Image.open` without Pillow's 179 MP bomb refusal (we apply `bomb_reason`).

    Same plugin search as Pillow's own `open` (preinit, then every plugin; the
    plugin the magic bytes name first), so
    the image fixer can open sharp's 280 MP giant-image.jpg and use draft mode.
    Raises `UnidentifiedImageError` when no plugin accepts the file.
    """
    # Pillow loads here, not with the module: `bomb_reason` serves jpeg_facts.py's
    # Pillow-free check of a JPEG.
    from PIL import Image, UnidentifiedImageError

    fp.seek(0)
    prefix = fp.read(16)
    if prefix[4:8] == b"ftyp":  # only an ISO-BMFF file can be HEIF: pillow-heif loads in 17 ms
        _register_heif()
    elif prefix.startswith(b"\x89PNG"):
        from PIL import PngImagePlugin

        PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, PNG_TEXT_CHUNK)
    tried: set[str] = set()
    for loader in (lambda: _likely_plugin(prefix), Image.preinit, Image.init):
        loader()
        for fmt in list(Image.ID):
            if fmt in tried:
                continue
            tried.add(fmt)
            factory, accept = Image.OPEN[fmt]
            try:
                result = not accept or accept(prefix)
                if result and not isinstance(result, str):
                    fp.seek(0)
                    return factory(fp, filename)
            except (SyntaxError, IndexError, TypeError, struct.error):
                continue
    raise UnidentifiedImageError("cannot identify image file")


# The plugin that most likely reads a file, by its magic bytes: imported alone, it
# spares a `check` of one JPEG the five plugins of Pillow's preinit, and a WebP,
# TIFF or AVIF all forty of Pillow's init (15 ms).
_PLUGINS = (
    (0, b"\xff\xd8\xff", "JpegImagePlugin"),
    (0, b"\x89PNG", "PngImagePlugin"),
    (8, b"WEBP", "WebPImagePlugin"),
    (0, b"GIF8", "GifImagePlugin"),
    (0, b"II*\x00", "TiffImagePlugin"),
    (0, b"MM\x00*", "TiffImagePlugin"),
    (0, b"BM", "BmpImagePlugin"),
    (8, b"avif", "AvifImagePlugin"),
    (8, b"avis", "AvifImagePlugin"),
)


def _likely_plugin(prefix: bytes) -> None:
    import importlib

    for at, magic, module in _PLUGINS:
        if prefix[at : at + len(magic)] == magic:
            importlib.import_module(f"PIL.{module}")
            return

"""Small JPEG thumbnails of images and of one video frame, for the HTML fix report.

Pictures are shown as a browser shows them: EXIF orientation applied, alpha
flattened onto white, colour converted to sRGB through the file's own ICC profile
(a CMYK JPEG with a press profile once came out green-shifted next to Chromium's
rendering of the original), a video frame rotated and with square pixels. The
conversion is the fixer's own, so "before" and "after" differ only where the fix
changed something. A file that cannot be decoded gives None, never an exception:
a report about broken files must still be written.
"""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from igpreflight.childproc import child_kwargs
from igpreflight.ffmpeg_bin import ffmpeg_exe

THUMB_SIZE = 240
JPEG_QUALITY = 82
FFMPEG_TIMEOUT = 60  # seconds for one frame; a hung decoder must not hang the report


@dataclass(frozen=True)
class Thumb:
    """A JPEG thumbnail and its pixel size."""

    jpeg: bytes
    width: int
    height: int


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # HEIC thumbnails are a nicety; the rest still renders
        pass


def image_thumb(path: str | os.PathLike[str], size: int = THUMB_SIZE) -> Thumb | None:
    """The first frame of an image, oriented, as a JPEG of at most `size` px a side."""
    _register_heif()
    try:
        with Image.open(path) as im:
            if im.format in ("JPEG", "MPO"):
                im.draft("RGB", (size * 2, size * 2))  # decode at 1/2..1/8 scale: fast
            im.seek(0)
            return _encode(_displayable(im, im.info.get("icc_profile")), size)
    except Exception:
        return None


def video_thumb(path: str | os.PathLike[str], size: int = THUMB_SIZE) -> Thumb | None:
    """A representative frame from the first second or so of a video (ffmpeg's
    `thumbnail` filter skips black fades), rotated and with square pixels."""
    src = str(Path(path).resolve())  # absolute, so a name starting with '-' is not an option
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-i",
        src,
        "-an",
        "-vf",
        f"thumbnail=30,scale=trunc(iw*sar/2)*2:ih,setsar=1,"
        f"scale={size * 2}:{size * 2}:force_original_aspect_ratio=decrease",
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-vcodec",
        "png",
        "-",
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False, **child_kwargs()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout:
        return None
    try:
        with Image.open(io.BytesIO(done.stdout)) as im:
            return _encode(_displayable(im), size)
    except Exception:
        return None


def _displayable(im: Image.Image, icc: bytes | None = None) -> Image.Image:
    im = ImageOps.exif_transpose(im) or im
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256).convert("L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if icc:
        im = _through_profile(im, icc)
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


# The ICC colour space each Pillow mode needs its profile to describe.
_PROFILE_SPACE = {"RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK", "L": "GRAY", "LA": "GRAY"}


def _through_profile(im: Image.Image, icc: bytes) -> Image.Image:
    """The pixels in sRGB by their embedded profile, as a colour-managed browser shows
    them: Chromium renders with relative colorimetric intent and no black-point
    compensation (measured on a SWOP CMYK JPEG: within 1 level of its mean colour).
    A profile that cannot be used leaves the pixels as they are, as browsers do."""
    from PIL import ImageCms

    space = icc[16:20].decode("ascii", "replace").strip() if len(icc) >= 20 else ""
    if _PROFILE_SPACE.get(im.mode) != space:
        return im
    alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
    base = im.convert(im.mode.rstrip("A")) if alpha is not None else im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        transform = ImageCms.buildTransform(
            source, srgb, base.mode, "RGB", ImageCms.Intent.RELATIVE_COLORIMETRIC
        )
        rgb = ImageCms.applyTransform(base, transform)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im
    if rgb is None:
        return im
    return rgb if alpha is None else Image.merge("RGBA", (*rgb.split(), alpha))


def _encode(im: Image.Image, size: int) -> Thumb:
    """Fit the long edge to `size` (small pictures are enlarged too, so every
    thumbnail of the page has the same scale of box and a box drawn on it is visible)."""
    scale = size / max(im.width, im.height)
    target = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    if target != im.size:
        im = im.resize(target, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Thumb(buf.getvalue(), im.width, im.height)

"""probe(path) -> ImageFacts | VideoFacts | Unreadable, from headers only.

The content decides the kind: the first bytes are sniffed (a PNG named .jpg is
an image with format PNG and extension "jpg"), images go to Pillow opened
lazily (`probe_image`), everything else to MediaInfo (`probe_video`). A bad
file never raises: it becomes `Unreadable(path, reason)` with a one-line
reason, which the rules report as FILE001.

Semantics of the facts (what rules and fixers may rely on):

Images
- width/height: the size the decoder delivers; `orientation` is what is left to
  apply (EXIF 1-8). JPEG/WebP/PNG: the stored size plus the EXIF tag.
  AVIF: Pillow delivers the stored size and turns irot/imir into an EXIF
  orientation, so the same rule holds. HEIF/HEIC: libheif applies irot/imir
  while decoding, so width/height are already the displayed size and
  orientation is 1 (pillow-heif resets the EXIF tag). TIFF likewise: Pillow
  reports the oriented size and applies the tag while loading, so orientation
  is 1.
- bits: stored bits per channel: PNG IHDR depth (palette PNGs: 8, the palette's
  precision; 1/2/4-bit grey: that depth), JPEG SOF precision, TIFF
  BitsPerSample, HEIF/AVIF pixi. 16-bit PNGs report 16 even though Pillow's
  mode (RGB, RGBA) hides it.
- frames: 1 for a still. More than 1 means animated or multi-image: the exact
  count for APNG (acTL frames, plus a default image shown only by non-APNG
  readers, as Pillow counts them), WebP, AVIF, HEIF (top-level images), TIFF
  pages and stereo MPO; for GIF only 2 ("more than one"), to avoid walking
  every frame.
  A JPEG with an MPF gain map or preview (UltraHDR, Apple) is a one-frame JPEG.
- has_alpha: an alpha channel (RGBA, LA, PA) or a transparency key (tRNS, GIF),
  whether or not any pixel is actually transparent (that would need a decode).
- icc_name / icc_is_srgb: the ICC profile description and whether it is sRGB:
  for RGB matrix profiles, whether the colorants are sRGB's (so Facebook's
  "c2" is sRGB and "DCI-P3 D65 Gamut with sRGB Transfer" is not); for other
  profiles, whether the description says sRGB (or sGray). A profile whose
  colour space does not fit the pixels' (a grey or CMYK one on a colour image,
  which viewers ignore) is never sRGB, whatever its name: icc_misfit says its
  space (`image_colour.profile_misfit`).
  With no ICC profile but a CICP/nclx colour description that is not sRGB
  (Display P3, BT.2020, PQ/HLG) the name is "CICP P3 / PQ" and icc_is_srgb
  False. Both None when nothing describes the colour (assumed sRGB).
- colorspace: GRAY, RGB, CMYK, YCCK (JPEG: components + Adobe transform) or
  LAB. Palette images are RGB.
- progressive: a progressive JPEG (SOF2); False for every other format.

Videos (see `probe_video` and `isobmff`)
- scan_type: MediaInfo's word (Progressive, Interlaced, MBAFF, Mixed...);
  None when the stream does not say (usual for HEVC, VP9, AV1: progressive).
- frame_rate_mode: MediaInfo's CFR/VFR, except that frame durations differing
  by at most one millisecond tick (a Matroska/WebM/FLV remux) count as CFR.
- rotation: MediaInfo's Rotation, clockwise degrees, as 0/90/180/270 (ffprobe's
  display matrix "-90" is 90 here); 90/270 swap the displayed axes.
- is_streamable: moov before the first mdat (ISO-BMFF only; else None).
- Truncation: JPEG without EOI, PNG without IEND, GIF without trailer, WebP /
  Matroska / AVI shorter than declared, ISO-BMFF boxes or MP4 samples past the
  end of the file are all Unreadable ("truncated ...").
- has_edit_list: an edit list that really changes the timeline
  (`isobmff.edits_change_timeline`): not ffmpeg's usual one-entry list for
  AAC priming or B-frame delay.
- video_bitrate / audio_bitrate: for MP4/MOV, the stream's bytes over what its
  samples last (the sample tables, exact); elsewhere MediaInfo's BitRate, else
  stream size / duration, else (video) file rate minus audio rate.
- MP4/MOV with H.264 and AAC-LC are read without MediaInfo (`mp4_native`), with
  the very values MediaInfo gives; other streams and containers by MediaInfo.
- Audio-only files and MP4s with no streams are VideoFacts with has_video False.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, BinaryIO

from igpreflight import formats
from igpreflight.model import ImageFacts, Kind, Unreadable, VideoFacts
from igpreflight.preflight.container_size import truncation_reason

__all__ = ["probe", "probe_stream", "sniff"]  # and bomb_reason, open_image (__getattr__)


def sniff(head: bytes) -> str:
    """What the first bytes say: jpeg, png, gif, webp, bmp, tiff, heif, jxl, iso, media, or ''.

    "iso" is an MP4/MOV; "media" something MediaInfo might read (Matroska, AVI, TS...).
    The magic bytes live in the formats registry (`igpreflight.formats`).
    """
    return formats.probe_route(head)


def probe(path: str | os.PathLike[str]) -> ImageFacts | VideoFacts | Unreadable:
    """Facts of one file, from its headers; never raises for a bad file."""
    shown = os.fspath(path)
    real = os.path.abspath(shown)
    try:
        st = os.stat(real)
    except OSError as e:
        return Unreadable(shown, f"cannot read: {e.strerror or e}")
    if stat.S_ISDIR(st.st_mode):
        return Unreadable(shown, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        return Unreadable(shown, "not a regular file (a device, pipe or socket)")
    memo = _MEMO.get()
    key = (real, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    known = memo.get(key) if memo is not None else None  # one lookup: threads share it
    if known is not None:
        return known if known.path == shown else replace(known, path=shown)
    try:
        with open(real, "rb") as f:
            facts = probe_stream(shown, f, st.st_size, real)
    except OSError as e:
        return Unreadable(shown, f"cannot read: {e.strerror or e}", st.st_size)
    if memo is not None:
        memo.remember(key, facts)
    return facts


class ProbeMemo(dict):  # type: ignore[type-arg]
    """Facts of files probed before, by path, size, modification time and inode."""

    def __init__(self, capacity: int = 1024) -> None:
        super().__init__()
        self.capacity = capacity

    def remember(self, key: tuple, facts: ImageFacts | VideoFacts | Unreadable) -> None:  # type: ignore[type-arg]
        if len(self) >= self.capacity:
            self.clear()  # the rare overflow starts afresh: no bookkeeping a probe
        self[key] = facts


_MEMO: ContextVar[ProbeMemo | None] = ContextVar("igpreflight_probe_memo", default=None)


@contextmanager
def remembering(memo: ProbeMemo) -> Iterator[None]:
    """Within it, `probe` answers a file it probed before, unchanged since (same size,
    modification time and inode), from `memo`: the service's stored uploads never
    change, and a post checked a thousand times need not probe its photo as often."""
    token = _MEMO.set(memo)
    try:
        yield
    finally:
        _MEMO.reset(token)


def probe_stream(
    shown: str, f: BinaryIO, size: int, real: str | None = None
) -> ImageFacts | VideoFacts | Unreadable:
    """Facts of an open, seekable binary file of `size` bytes, shown as `shown`.

    `real` is the path on disk when there is one (MediaInfo reads a path
    fastest); without it MediaInfo reads `f` through its buffer API, so a
    ranged reader over an S3 object is probed from its headers alone.
    """
    ext = _extension(shown)
    if size == 0:
        return Unreadable(shown, "zero bytes", 0)
    try:
        f.seek(0)
        head = f.read(64)
        kind = sniff(head)
        if kind in ("jpeg", "png", "gif", "webp", "bmp", "tiff", "heif"):
            # Pillow loads with the first image: checking or fixing a video never needs it.
            from igpreflight.preflight.probe_image import probe_image

            facts = probe_image(shown, f, size, ext, kind, skim=real is None)
            if not (kind == "heif" and isinstance(facts, Unreadable)):
                return facts
            # An ISO-BMFF image Pillow cannot read may still be a movie MediaInfo can.
            image_failure = facts
        elif kind == "jxl":
            return Unreadable(shown, "JPEG XL cannot be read here; convert it to JPEG", size)
        else:
            image_failure = None
            cut = truncation_reason(f, size)
            if cut:
                return Unreadable(shown, cut, size)
    except OSError as e:
        return Unreadable(shown, f"cannot read: {e.strerror or e}", size)
    iso = kind in ("iso", "heif")
    # Loaded with the first video: checking images never imports MediaInfo's side.
    from igpreflight.preflight.probe_video import probe_video

    facts = probe_video(real or shown, size, ext, iso=iso, source=None if real else f)
    if isinstance(facts, VideoFacts):
        return _with_path(facts, shown)
    if image_failure is not None:
        return image_failure
    if kind == "media" and _other_image(head, ext):
        fallback = _pillow_fallback(shown, real, f, size, ext)
        if fallback is not None:
            return fallback
    return Unreadable(shown, facts.reason, size)


def _extension(shown: str) -> str:
    """PurePosixPath(shown).suffix without the dot, lower case (without pathlib's cost)."""
    name = shown.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if 0 < dot < len(name) - 1 else ""


def _other_image(head: bytes, ext: str) -> bool:
    """An image format with no reader of its own that Pillow may know: by its magic
    (PSD, ICO, JPEG 2000...) or, for formats with none (TGA, PPM), by its name."""
    fmt = formats.identify(head) or formats.by_extension(ext)
    return fmt is not None and fmt.kind is Kind.IMAGE


def _with_path(facts: VideoFacts, shown: str) -> VideoFacts:
    return replace(facts, path=shown)


def _pillow_fallback(
    shown: str, real: str | None, f: BinaryIO, size: int, ext: str
) -> ImageFacts | None:
    """Images with no magic we sniff (PSD, ICO, JPEG 2000...) that Pillow knows."""
    from PIL import UnidentifiedImageError

    from igpreflight.preflight.probe_image import open_image, probe_image

    try:
        im = open_image(f, real or shown)
        fmt = (im.format or "").lower()
        facts = probe_image(shown, f, size, ext, fmt)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None
    return facts if isinstance(facts, ImageFacts) else None


def is_iso_bmff(path: str | os.PathLike[str]) -> bool:
    """True for an MP4/MOV/HEIF file (it starts with ftyp or a QuickTime box)."""
    try:
        with open(os.path.abspath(os.fspath(path)), "rb") as f:
            return sniff(f.read(16)) in ("iso", "heif")
    except OSError:
        return False


def __getattr__(name: str) -> Any:
    """bomb_reason and open_image (Pillow's side), loaded when first named."""
    if name in ("bomb_reason", "open_image"):
        from igpreflight.preflight import probe_image

        return getattr(probe_image, name)
    raise AttributeError(name)

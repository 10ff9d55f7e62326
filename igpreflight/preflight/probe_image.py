"""Image facts from headers: Pillow opened lazily plus a few cheap structure walks.

Nothing here decodes pixels: Pillow's `Image.open` only parses headers, and the
JPEG marker walk, PNG chunk walk and ISO-BMFF box walk seek past the payloads.
That is why a 6000x4000 JPEG costs what a 600x400 one does.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from igpreflight.limits import PROBE_LIMITS, ProbeLimits
from igpreflight.model import ImageFacts, Unreadable
from igpreflight.preflight.exif import exif_problem

_HEIF_REGISTERED = False


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
    fp.seek(0)
    prefix = fp.read(16)
    if prefix[4:8] == b"ftyp":  # only an ISO-BMFF file can be HEIF: pillow-heif loads in 17 ms
        _register_heif()
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


# ---------------------------------------------------------------- structure walks


@dataclass
class JpegHeader:
    """What a JPEG's markers say before its scan (no pixel decoded)."""

    precision: int = 8
    components: int = 3
    progressive: bool = False
    adobe_transform: int | None = None
    sos_offset: int | None = None
    trailer_bytes: int = 0  # bytes appended after the JPEG (motion photo video)


_MOTION_LEN = re.compile(
    rb'(?:MicroVideoOffset\s*=\s*"|MicroVideoOffset>)(\d+)'
    rb'|Item:Semantic="MotionPhoto"[^/]*?Item:Length="(\d+)"'
    rb'|Item:Length="(\d+)"[^/]*?Item:Semantic="MotionPhoto"'
)


def jpeg_header(f: BinaryIO, size: int) -> JpegHeader | str:
    """Walk JPEG markers up to the first SOS; a string is the reason it is broken."""
    hdr = JpegHeader()
    f.seek(2)
    pos = 2
    for _ in range(10_000):
        f.seek(pos)
        two = f.read(2)
        if len(two) < 2:
            return "truncated JPEG: the header ends before the image data"
        if two[0] != 0xFF:
            return f"corrupt JPEG: no marker at byte {pos}"
        marker = two[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker == 0xD9:
            return "corrupt JPEG: the image ends before any image data"
        raw = f.read(2)
        if len(raw) < 2:
            return "truncated JPEG: the header ends before the image data"
        (length,) = struct.unpack(">H", raw)
        if length < 2 or pos + 2 + length > size:
            return "truncated JPEG: a header segment runs past the end of the file"
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            seg = f.read(6)
            if len(seg) == 6:
                hdr.precision = seg[0]
                hdr.components = seg[5]
            hdr.progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
        elif marker == 0xEE:  # APP14 Adobe: colour transform
            seg = f.read(min(length - 2, 12))
            if seg[:5] == b"Adobe" and len(seg) >= 12:
                hdr.adobe_transform = seg[11]
        elif marker == 0xE1:  # APP1: EXIF or XMP; a motion photo says its video length
            seg = f.read(min(length - 2, 65_535))
            if b"http://ns.adobe.com/xap/1.0/" in seg[:40]:
                m = _MOTION_LEN.search(seg)
                if m:
                    hdr.trailer_bytes = int(next(g for g in m.groups() if g))
        elif marker == 0xDA:
            hdr.sos_offset = pos
            return hdr
        pos += 2 + length
    return "corrupt JPEG: too many header segments"


def jpeg_truncation(f: BinaryIO, size: int, hdr: JpegHeader) -> str | None:
    """Why a JPEG's scan data is incomplete (no EOI marker after SOS), or None.

    Entropy-coded data never contains FF D9 (FF bytes are stuffed), so an EOI
    after the first SOS means the scans are complete. The last two bytes (before
    a motion photo's video), then the last 64 KB, are read first, which costs the
    same for any image size; only when the marker is not there is the rest of the
    scan data searched (files with data appended after the image).
    """
    end = size - hdr.trailer_bytes if 0 < hdr.trailer_bytes < size else size
    sos = hdr.sos_offset or 0
    if end - 2 >= sos:
        f.seek(end - 2)
        if f.read(2) == b"\xff\xd9":  # nearly every JPEG: EOI is its last two bytes
            return None
    start = max(sos, end - 65_536)
    f.seek(start)
    if b"\xff\xd9" in f.read(end - start):
        return None
    pos, carry = sos, b""
    f.seek(pos)
    while pos < size:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        if b"\xff\xd9" in carry + chunk:
            return None
        carry, pos = chunk[-1:], pos + len(chunk)
    return "truncated JPEG: no end-of-image marker (image data ends early)"


@dataclass
class PngHeader:
    """What a PNG's chunks say before its image data (no pixel decoded)."""

    bit_depth: int = 8
    color_type: int = 2
    interlaced: bool = False
    frames: int = 1
    exif: bytes | None = None
    cicp: tuple[int, int, int] | None = None
    has_iend: bool = False
    chunks: list[bytes] = field(default_factory=list)


def png_header(f: BinaryIO, size: int) -> PngHeader | str:
    """Walk PNG chunk headers (seeking past IDAT), to IEND."""
    hdr = PngHeader()
    pos = 8
    for _ in range(1_000_000):
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return "truncated PNG: no IEND chunk (image data ends early)"
        length, ctype = struct.unpack(">I4s", head)
        if pos == 8 and ctype != b"IHDR":
            return "corrupt PNG: the first chunk is not IHDR"
        if pos + 12 + length > size:
            return "truncated PNG: image data ends early"
        if ctype == b"IHDR":
            data = f.read(17)
            if length != 13 or len(data) < 17:
                return "corrupt PNG: bad IHDR chunk"
            if zlib.crc32(b"IHDR" + data[:13]) != struct.unpack(">I", data[13:17])[0]:
                return "corrupt PNG: the IHDR checksum is wrong"
            hdr.bit_depth, hdr.color_type = data[8], data[9]
            hdr.interlaced = data[12] == 1
        elif ctype == b"acTL":
            data = f.read(8)
            hdr.frames = max(1, struct.unpack(">I", data[:4])[0])
        elif ctype == b"eXIf" and length < 1_000_000:
            hdr.exif = f.read(length)
        elif ctype == b"cICP" and length >= 4:
            p, t, m = f.read(3)
            hdr.cicp = (p, t, m)
        elif ctype == b"IEND":
            hdr.has_iend = True
            return hdr
        if ctype not in hdr.chunks:
            hdr.chunks.append(ctype)
        pos += 12 + length
    return "corrupt PNG: too many chunks"


def tiff_truncation(im: Image.Image, size: int) -> str | None:
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    for off_tag, len_tag in ((273, 279), (324, 325)):
        offsets, counts = tags.get(off_tag), tags.get(len_tag)
        if not offsets or not counts:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        if any(o + c > size for o, c in zip(offsets, counts, strict=False)):
            return "truncated TIFF: image data ends early"
    return None


# ---------------------------------------------------------------- colour


# sRGB's colorants as an ICC v2/v4 profile stores them (adapted to D50).
_SRGB_XYZ = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
_NCLX_PRIMARIES = {1: "BT.709", 5: "BT.601", 6: "BT.601", 9: "BT.2020", 11: "DCI-P3", 12: "P3"}
_NCLX_TRANSFER = {16: "PQ", 18: "HLG"}


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


def icc_facts(icc: bytes) -> tuple[str, bool]:
    """(description, is_srgb) of an ICC profile.

    An RGB matrix profile is sRGB when its colorants are sRGB's within 0.005
    (so compact profiles such as Facebook's "c2" count, and "DCI-P3 D65 Gamut
    with sRGB Transfer" does not); any other profile when its description says
    sRGB (or sGray for grey ones).
    """
    from PIL import ImageCms  # lcms: loaded only for a file that carries a profile

    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except Exception:  # noqa: BLE001 - lcms raises its own error types on bad profiles
        return "unreadable ICC profile", False
    name = name or "unnamed ICC profile"
    space = icc[16:20]
    if space == b"RGB ":
        colorants = _icc_colorants(icc)
        if colorants is not None:
            # Matrix profiles: the colorants decide ("DCI-P3 D65 Gamut with sRGB
            # Transfer" names sRGB but is P3).
            return name, all(
                abs(a - b) < 0.005
                for got, want in zip(colorants, _SRGB_XYZ, strict=True)
                for a, b in zip(got, want, strict=True)
            )
    low = name.lower()
    return name, "srgb" in low or (space == b"GRAY" and "sgray" in low)


def nclx_facts(primaries: int, transfer: int) -> tuple[str, bool] | None:
    """A CICP/nclx colour description that is not sRGB-like, as (name, False)."""
    if primaries in (1, 2) and transfer not in _NCLX_TRANSFER:
        return None  # BT.709 primaries (sRGB's) or unspecified
    pname = _NCLX_PRIMARIES.get(primaries, f"primaries {primaries}")
    tname = _NCLX_TRANSFER.get(transfer, f"transfer {transfer}")
    return f"CICP {pname} / {tname}", False


# ---------------------------------------------------------------- the probe

_ALPHA_MODES = {"RGBA", "LA", "PA", "La", "RGBa", "I;16A"}
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_MP_MULTIVIEW = ("Multi-Frame Image: (Disparity)", "Multi-Frame Image: (Multi-Angle)")


def _mode_bits(mode: str) -> int:
    if mode == "1":
        return 1
    if mode.startswith("I;16"):
        return 16
    if mode in ("I", "F"):
        return 32
    return 8


def _orientation(im: Image.Image) -> int:
    try:
        value = Image.Image.getexif(im).get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block means "no orientation"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _exif_orientation(data: bytes) -> int:
    exif = Image.Exif()
    try:
        exif.load(data)
        value = exif.get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block means "no orientation"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def probe_image(
    path: str, f: BinaryIO, size: int, ext: str, sniffed: str
) -> ImageFacts | Unreadable:
    """Facts of an image file already sniffed as `sniffed` (jpeg, png, gif, webp, heif...).

    Decoders answer hostile bytes with many exception types (RuntimeError from
    libavif, struct.error, ...): every one becomes Unreadable, never an exception.
    """
    label = sniffed.upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _probe_image(path, f, size, ext, sniffed)
    except UnidentifiedImageError:
        return Unreadable(path, f"corrupt {label}: the header cannot be parsed", size)
    except Image.DecompressionBombError as e:
        # Pillow checks frames (GIF) against its own limit while opening.
        m = re.search(r"\((\d+) pixels\)", str(e))
        declared = f"{int(m.group(1)) / 1e6:,.0f} MP" if m else "more pixels than Pillow allows"
        return Unreadable(
            path, f"decompression bomb: a frame declares {declared} in {size:,} bytes", size
        )
    except Exception as e:  # noqa: BLE001 - a bad file is a finding, not a crash
        return Unreadable(path, f"corrupt {label}: {_one_line(e)}", size)


def _probe_image(
    path: str, f: BinaryIO, size: int, ext: str, sniffed: str
) -> ImageFacts | Unreadable:
    jpeg: JpegHeader | None = None
    png: PngHeader | None = None
    if sniffed == "jpeg":
        got = jpeg_header(f, size)
        if isinstance(got, str):
            return Unreadable(path, got, size)
        jpeg = got
    elif sniffed == "gif":
        f.seek(6)
        w, h = struct.unpack("<HH", f.read(4).ljust(4, b"\0"))
        bomb = bomb_reason(w, h, size, "GIF")
        if bomb:
            return Unreadable(path, bomb, size)
    elif sniffed == "webp":
        f.seek(4)
        (riff,) = struct.unpack("<I", f.read(4).ljust(4, b"\0"))
        if riff + 8 > size:
            return Unreadable(
                path, "truncated WEBP: the file is shorter than its header says", size
            )
    elif sniffed == "png":
        got_png = png_header(f, size)
        if isinstance(got_png, str):
            # Report a bomb before the truncation it also is (it never ends).
            corrupt = got_png.startswith("corrupt")
            return Unreadable(path, (None if corrupt else _png_bomb(f, size)) or got_png, size)
        png = got_png
    im = open_image(f, path)
    return _facts(path, f, size, ext, im, jpeg, png)


def _png_bomb(f: BinaryIO, size: int) -> str | None:
    f.seek(16)
    data = f.read(8)
    if len(data) < 8:
        return None
    w, h = struct.unpack(">II", data)
    return bomb_reason(w, h, size, "PNG")


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def _facts(
    path: str,
    f: BinaryIO,
    size: int,
    ext: str,
    im: Image.Image,
    jpeg: JpegHeader | None,
    png: PngHeader | None,
) -> ImageFacts | Unreadable:
    fmt = im.format or "UNKNOWN"
    width, height = im.size
    bomb = bomb_reason(width, height, size, fmt)
    if bomb:
        return Unreadable(path, bomb, size)
    mode = im.mode
    bits = _mode_bits(mode)
    orientation = _orientation(im)
    frames = 1
    progressive = False
    colorspace = {"CMYK": "CMYK", "LAB": "LAB"}.get(mode, "GRAY" if mode in _GRAY_MODES else "RGB")
    icc = im.info.get("icc_profile") or None
    icc_name: str | None = None
    icc_is_srgb: bool | None = None
    nclx: tuple[int, int] | None = None
    exif_error: str | None = None

    if fmt in ("JPEG", "MPO") and jpeg is not None:
        truncated = jpeg_truncation(f, size, jpeg)
        if truncated:
            return Unreadable(path, truncated, size)
        bits = jpeg.precision
        progressive = jpeg.progressive
        exif = im.info.get("exif")
        exif_error = exif_problem(exif) if isinstance(exif, bytes) else None
        if jpeg.components == 1:
            colorspace = "GRAY"
        elif jpeg.components == 4:
            colorspace = "YCCK" if jpeg.adobe_transform == 2 else "CMYK"
        if fmt == "MPO":
            # A gain map or preview in an MPF JPEG is not a second frame; only a
            # stereo/multi-angle MPO is a multi-frame image (and not a JPEG).
            entries = getattr(im, "mpinfo", {}).get(0xB002) or []
            types = [e.get("Attribute", {}).get("MPType") for e in entries[1:]]
            if any(t in _MP_MULTIVIEW for t in types):
                frames = len(entries)
            else:
                fmt = "JPEG"
    elif fmt == "PNG" and png is not None:
        if not png.has_iend:
            return Unreadable(path, "truncated PNG: no IEND chunk", size)
        bits = 8 if png.color_type == 3 else png.bit_depth
        frames = getattr(im, "n_frames", png.frames)  # acTL, plus a default image outside it
        if png.exif and "exif" not in im.info:
            # eXIf after IDAT: Pillow would only read it while decoding.
            orientation = _exif_orientation(png.exif)
        if png.cicp:
            nclx = png.cicp[0], png.cicp[1]
    elif fmt == "GIF":
        # A complete GIF ends with a block terminator and the ";" trailer
        # (sometimes followed by zero padding).
        f.seek(max(0, size - 4096))
        if not f.read().rstrip(b"\0").endswith(b"\0;"):
            return Unreadable(path, "truncated GIF: no trailer (image data ends early)", size)
        # Walking every frame reads the whole file; 2 means "more than one".
        frames = 2 if im.is_animated else 1
    elif fmt == "WEBP":
        frames = getattr(im, "n_frames", 1)
    elif fmt in ("HEIF", "AVIF"):
        from igpreflight.preflight import isobmff  # HEIF/AVIF only

        props = isobmff.item_properties(f)
        if props.past_eof:
            return Unreadable(
                path, f"truncated {fmt}: the '{props.past_eof}' box runs past the end", size
            )
        bits = props.bits or int(im.info.get("bit_depth") or 8)
        frames = getattr(im, "n_frames", 1)
        heif_nclx = im.info.get("nclx_profile")
        if heif_nclx:
            nclx = heif_nclx.get("color_primaries", 2), heif_nclx.get("transfer_characteristics", 2)
        elif props.nclx:
            nclx = props.nclx[0], props.nclx[1]
        if fmt == "HEIF":
            # libheif has applied irot/imir: the size is the displayed size and
            # nothing is left to rotate (pillow-heif resets the EXIF tag to 1).
            orientation = 1
    elif fmt == "TIFF":
        truncated = tiff_truncation(im, size)
        if truncated:
            return Unreadable(path, truncated, size)
        bps = im.tag_v2.get(258)
        if bps:
            bits = max(bps) if isinstance(bps, tuple) else int(bps)
        frames = getattr(im, "n_frames", 1)
        # Pillow reports a TIFF's size already oriented and applies the tag
        # while loading, so nothing is left to rotate.
        orientation = 1
    elif fmt == "BMP":
        f.seek(2)
        (declared,) = struct.unpack("<I", f.read(4))
        if declared > size and declared - size > 2:
            return Unreadable(path, "truncated BMP: image data ends early", size)
    else:
        frames = getattr(im, "n_frames", 1)

    if icc:
        icc_name, icc_is_srgb = icc_facts(icc)
    elif nclx:
        described = nclx_facts(*nclx)
        if described:
            icc_name, icc_is_srgb = described
    has_alpha = mode in _ALPHA_MODES or "transparency" in im.info
    return ImageFacts(
        path=path,
        bytes=size,
        format=fmt,
        width=width,
        height=height,
        mode=mode,
        bits=bits,
        orientation=orientation,
        frames=max(1, int(frames)),
        has_alpha=has_alpha,
        icc_name=icc_name,
        icc_is_srgb=icc_is_srgb,
        colorspace=colorspace,
        progressive=progressive,
        extension=ext,
        exif_error=exif_error,
    )

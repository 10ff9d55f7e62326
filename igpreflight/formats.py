"""The formats registry: magic bytes, extensions, MIME type and kind of every format.

One table, in the spirit of Pillow's `register_extensions`/`register_mime`: the
probe's sniffer, the folder walk, the image-name rule, upload's Content-Type,
the URL check's body sniffing and the publisher all ask it, so a HEIF brand or
an extension cannot be known to one of them and not to another. The content
decides the kind (`model.Kind`); an extension is only a name (what a folder walk
picks up, what IMG010 expects, what a key gets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from igpreflight.model import Facts, ImageFacts, Kind, VideoFacts
from igpreflight.records import record

# The four types SPEC section 1 accepts for a media URL.
ACCEPTED_TYPES = ("image/jpeg", "image/png", "video/mp4", "video/quicktime")
OCTET_STREAM = "application/octet-stream"

Magic = Callable[[bytes], bool]


@record
class Format:
    """One format. `names` are what Pillow (ImageFacts.format) or MediaInfo
    (VideoFacts.container) call it; `extensions` its file extensions, the first
    one what a writer uses; `probe` which reader the probe sends it to (jpeg,
    png, gif, webp, bmp, tiff, heif, jxl, iso, or media: MediaInfo, then Pillow);
    `walked` whether a folder walk picks its files up."""

    name: str
    kind: Kind
    mime: str
    extensions: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    magic: Magic | None = None
    probe: str = "media"
    walked: bool = True


_FORMATS: dict[str, Format] = {}  # by name, in registration order (sniffing order)


def register(fmt: Format) -> Format:
    """Add a format (or replace the one of the same name)."""
    _FORMATS[fmt.name] = fmt
    return fmt


def register_extensions(name: str, *extensions: str) -> None:
    """Give a registered format more file extensions (lower case, without the dot)."""
    fmt = _FORMATS[name]
    more = tuple(e.lower().lstrip(".") for e in extensions if e not in fmt.extensions)
    _FORMATS[name] = replace(fmt, extensions=fmt.extensions + more)


def register_mime(name: str, mime: str) -> None:
    """Set the MIME type a registered format is served with."""
    _FORMATS[name] = replace(_FORMATS[name], mime=mime)


def formats() -> list[Format]:
    return list(_FORMATS.values())


# ---------------------------------------------------------------- magic bytes

# ISO-BMFF major brands of still images (or image sequences) rather than movies.
HEIF_BRANDS = frozenset({"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "mif2", "msf1"})
AVIF_BRANDS = frozenset({"avif", "avis", "avio"})
IMAGE_BRANDS = HEIF_BRANDS | AVIF_BRANDS
# QuickTime files from before ftyp start directly with one of these boxes.
QT_TOP_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _brand(head: bytes) -> str | None:
    """The ISO-BMFF major brand (ftyp), or None when the file does not start with ftyp."""
    return head[8:12].decode("latin-1").strip() if head[4:8] == b"ftyp" else None


def _starts(*prefixes: bytes) -> Magic:
    return lambda head: head.startswith(prefixes)


def _bmp(head: bytes) -> bool:
    return head[:2] == b"BM" and len(head) >= 26 and head[14] in (12, 40, 52, 56, 64, 108, 124)


def _ebml(doctype: bytes) -> Magic:
    return lambda head: head.startswith(b"\x1a\x45\xdf\xa3") and doctype in head[:64]


IMG, VID = Kind.IMAGE, Kind.VIDEO
for _fmt in (
    # Images (Pillow's format names)
    Format(
        "JPEG",
        IMG,
        "image/jpeg",
        ("jpg", "jpeg", "jpe", "jfif", "jif"),
        ("JPEG",),
        _starts(b"\xff\xd8\xff"),
        "jpeg",
    ),
    # An MPO (a JPEG with extra images) is conventionally named .jpg; sniffed as JPEG.
    Format("MPO", IMG, "image/jpeg", ("mpo", "jpg", "jpeg", "jpe"), ("MPO",)),
    Format("PNG", IMG, "image/png", ("png",), ("PNG",), _starts(b"\x89PNG\r\n\x1a\n"), "png"),
    Format("GIF", IMG, "image/gif", ("gif",), ("GIF",), _starts(b"GIF87a", b"GIF89a"), "gif"),
    Format(
        "WEBP",
        IMG,
        "image/webp",
        ("webp",),
        ("WEBP",),
        lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
        "webp",
    ),
    Format("BMP", IMG, "image/bmp", ("bmp", "dib"), ("BMP", "DIB"), _bmp, "bmp"),
    Format(
        "TIFF",
        IMG,
        "image/tiff",
        ("tif", "tiff"),
        ("TIFF",),
        _starts(b"II*\x00", b"MM\x00*"),
        "tiff",
    ),
    Format(
        "HEIF",
        IMG,
        "image/heif",
        ("heic", "heif", "hif"),
        ("HEIF",),
        lambda h: _brand(h) in HEIF_BRANDS,
        "heif",
    ),
    Format(
        "AVIF",
        IMG,
        "image/avif",
        ("avif", "avifs"),
        ("AVIF",),
        lambda h: _brand(h) in AVIF_BRANDS,
        "heif",
    ),
    Format(
        "JXL",
        IMG,
        "image/jxl",
        ("jxl",),
        ("JXL",),
        _starts(b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
        "jxl",
    ),
    # ISO-BMFF movies, after HEIF/AVIF (same ftyp box, image brands) and before the
    # magic of other images (an ICO's 00 00 01 00 is also a 256-byte box's size).
    # QuickTime before MP4: both start with ftyp. Names are MediaInfo's containers.
    Format(
        "QuickTime",
        VID,
        "video/quicktime",
        ("mov", "qt"),
        ("QuickTime",),
        lambda h: _brand(h) == "qt" or h[4:8] in QT_TOP_BOXES,
        "iso",
    ),
    Format(
        "MP4",
        VID,
        "video/mp4",
        ("mp4", "m4v", "3gp"),
        ("MPEG-4",),
        lambda h: _brand(h) is not None,
        "iso",
    ),
    # Other images Pillow reads: MediaInfo is asked first, then Pillow (probe "media").
    Format(
        "JPEG2000",
        IMG,
        "image/jp2",
        ("jp2", "j2k", "jpf", "jpx", "j2c"),
        ("JPEG2000",),
        _starts(b"\x00\x00\x00\x0cjP  ", b"\xffO\xffQ"),
        walked=False,
    ),
    Format(
        "PSD", IMG, "image/vnd.adobe.photoshop", ("psd",), ("PSD",), _starts(b"8BPS"), walked=False
    ),
    Format(
        "ICO", IMG, "image/x-icon", ("ico",), ("ICO",), _starts(b"\x00\x00\x01\x00"), walked=False
    ),
    Format("DDS", IMG, "image/vnd-ms.dds", ("dds",), ("DDS",), _starts(b"DDS "), walked=False),
    Format("QOI", IMG, "image/qoi", ("qoi",), ("QOI",), _starts(b"qoif"), walked=False),
    Format(
        "PPM", IMG, "image/x-portable-anymap", ("ppm", "pgm", "pbm", "pnm"), ("PPM",), walked=False
    ),
    Format("TGA", IMG, "image/x-tga", ("tga",), ("TGA",), walked=False),
    # Other videos (MediaInfo reads them; none is accepted by Instagram)
    Format("WebM", VID, "video/webm", ("webm",), ("WebM",), _ebml(b"webm")),
    Format(
        "Matroska", VID, "video/x-matroska", ("mkv",), ("Matroska",), _starts(b"\x1a\x45\xdf\xa3")
    ),
    Format(
        "AVI",
        VID,
        "video/x-msvideo",
        ("avi",),
        ("AVI",),
        lambda h: h[:4] == b"RIFF" and h[8:12] == b"AVI ",
    ),
    Format("FLV", VID, "video/x-flv", ("flv",), ("Flash Video",), _starts(b"FLV\x01")),
    Format("MPEG-TS", VID, "video/mp2t", ("ts", "mts", "m2ts"), ("MPEG-TS", "BDAV")),
    Format("MPEG-PS", VID, "video/mpeg", ("mpg", "mpeg"), ("MPEG-PS",)),
    Format("WMV", VID, "video/x-ms-wmv", ("wmv",), ("Windows Media",)),
    Format("Ogg", VID, "video/ogg", ("ogv",), ("Ogg",)),
):
    register(_fmt)


# ---------------------------------------------------------------- look-ups


def identify(head: bytes) -> Format | None:
    """The format the first bytes (64 are enough) show, or None."""
    for fmt in _FORMATS.values():
        if fmt.magic is not None and fmt.magic(head):
            return fmt
    return None


def by_name(name: str) -> Format | None:
    """The format Pillow or MediaInfo calls `name` ("JPEG", "MPEG-4", "QuickTime"...)."""
    for fmt in _FORMATS.values():
        if name in fmt.names or name == fmt.name:
            return fmt
    return None


def by_extension(ext: str) -> Format | None:
    """The first format registered with this extension (jpg -> JPEG)."""
    ext = ext.lower().lstrip(".")
    return next((f for f in _FORMATS.values() if ext in f.extensions), None)


def kind_for_extension(ext: str) -> Kind:
    """What a name suggests (never what a file is: use the probe's facts for that)."""
    fmt = by_extension(ext)
    return fmt.kind if fmt else Kind.UNKNOWN


def extensions_for(name: str) -> tuple[str, ...]:
    """The extensions that name a format (its lower-case name when unknown)."""
    fmt = by_name(name.upper()) or by_name(name)
    return fmt.extensions if fmt else (name.lower(),)


def media_extensions() -> frozenset[str]:
    """The extensions a folder walk picks up."""
    return frozenset(e for f in _FORMATS.values() if f.walked for e in f.extensions)


def probe_route(head: bytes) -> str:
    """Which reader the probe uses: jpeg, png, gif, webp, bmp, tiff, heif, jxl, iso,
    media (something MediaInfo might read), or '' for an empty head."""
    fmt = identify(head)
    if fmt is not None:
        return fmt.probe
    return "media" if head else ""


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes of a body show, or None when no format matches."""
    fmt = identify(head)
    return fmt.mime if fmt else None


def kind_of(facts: Facts) -> Kind:
    """The kind of probed media (UNKNOWN for a file that could not be read)."""
    if isinstance(facts, ImageFacts):
        return Kind.IMAGE
    if isinstance(facts, VideoFacts):
        return Kind.VIDEO
    return Kind.UNKNOWN


def content_type_for(facts: Facts) -> str:
    """The MIME type of probed media (application/octet-stream when unknown)."""
    if isinstance(facts, ImageFacts):
        fmt = by_name(facts.format)
        if fmt is None:
            from PIL import Image

            return Image.MIME.get(facts.format, OCTET_STREAM)
        return fmt.mime
    if isinstance(facts, VideoFacts):
        fmt = by_name(facts.container)
        return fmt.mime if fmt and fmt.kind is Kind.VIDEO else OCTET_STREAM
    return OCTET_STREAM


def extension_for(content_type: str, fallback: str = "bin") -> str:
    """The file extension a key gets for a content type (jpg, png, mp4, mov...)."""
    fmt = next((f for f in _FORMATS.values() if f.mime == content_type and f.extensions), None)
    return fmt.extensions[0] if fmt else fallback


def bare_type(header: str | None) -> str:
    """A Content-Type header without parameters, lower-case ("" when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()

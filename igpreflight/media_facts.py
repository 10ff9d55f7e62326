"""What a probe reads from a file's headers: an image's facts, a video's, or why
the file could not be read. Frozen records, so no rule can change them; importable
from `model`, as the rest of igpreflight does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from igpreflight.records import record
from igpreflight.roles import Kind


@record
class ImageFacts:
    """What the header of an image says. Probing never decodes pixels.

    width/height are as STORED; display_width/display_height apply the EXIF
    orientation (5-8 swap the axes), which is what Instagram measures.
    """

    path: str
    bytes: int
    format: str  # Pillow format name: JPEG, PNG, WEBP, HEIF, AVIF, GIF, TIFF, BMP, MPO, ...
    width: int
    height: int
    mode: str  # Pillow mode: RGB, RGBA, L, LA, P, CMYK, I;16, 1, ...
    bits: int  # bits per channel (8 or 16 usually)
    orientation: int = 1  # EXIF orientation 1..8 (1 when absent)
    frames: int = 1
    has_alpha: bool = False  # an alpha channel or a transparency key (tRNS)
    icc_name: str | None = None  # ICC profile description, None when no profile
    icc_is_srgb: bool | None = None  # None when there is no profile
    colorspace: str = "RGB"  # RGB, GRAY, CMYK, YCCK: what the pixels mean
    progressive: bool = False
    extension: str = ""  # lower-case, without the dot
    kind: Kind = Kind.IMAGE
    exif_error: str | None = None  # why a JPEG's EXIF block is corrupt (None: fine or absent)
    # The ICC profile's colour space (GRAY, CMYK...) when it does not fit the pixels'
    # (a grey profile on a colour image): viewers ignore such a profile.
    icc_misfit: str | None = None
    # A JPEG's coding process, named from its frame marker (`JPEG_CODINGS`): browsers
    # and many decoders read only baseline, extended and progressive Huffman coding.
    # None for every other format.
    jpeg_coding: str | None = None
    # CICP/nclx (primaries, transfer) of an image without an ICC profile whose colour
    # is not sRGB's (a phone's Display P3 AVIF or HEIF): what fix converts from.
    cicp: tuple[int, int] | None = None

    @property
    def display_width(self) -> int:
        return self.height if self.orientation in (5, 6, 7, 8) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.orientation in (5, 6, 7, 8) else self.height

    @property
    def aspect(self) -> float:
        return self.display_width / self.display_height if self.display_height else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "width": self.display_width,
            "height": self.display_height,
            "bytes": self.bytes,
            "mode": self.mode,
            "bits": self.bits,
            "orientation": self.orientation,
            "frames": self.frames,
            "alpha": self.has_alpha,
            "icc": self.icc_name,
            # a JPEG's coding process (IMG014), for a reader to see what was read
            **({"jpeg_coding": self.jpeg_coding} if self.jpeg_coding else {}),
        }


# A JPEG frame marker's process (ITU T.81 table B.1), by its SOF number (the marker
# minus 0xFFC0); a DHP segment before the frame makes any of them hierarchical.
JPEG_CODINGS = {
    0: "baseline",
    1: "extended",
    2: "progressive",
    3: "lossless",
    5: "hierarchical",
    6: "hierarchical progressive",
    7: "hierarchical lossless",
    9: "arithmetic",
    10: "arithmetic progressive",
    11: "arithmetic lossless",
    13: "arithmetic hierarchical",
    14: "arithmetic hierarchical progressive",
    15: "arithmetic hierarchical lossless",
}
# The processes browsers and common decoders read: Huffman coding, DCT, one frame.
HUFFMAN_CODINGS = frozenset({"baseline", "extended", "progressive"})


def jpeg_coding(sof: int, hierarchical: bool = False) -> str:
    """The process a frame marker's SOF number names; `hierarchical` (a DHP segment
    came first) turns SOF1-3 and SOF9-11 into their hierarchical forms."""
    if hierarchical and sof in (1, 2, 3, 9, 10, 11):
        sof += 4
    return JPEG_CODINGS.get(sof, f"SOF{sof}")


def undecodable(coding: str | None) -> str | None:
    """Why `fix` cannot re-encode a JPEG of this process, or None. Its decoder
    (libjpeg-turbo, through Pillow) refuses hierarchical JPEG and hands a lossless
    one's YCbCr samples back as RGB: a re-encode would publish false colours."""
    if not coding:
        return None
    if "hierarchical" in coding:
        return "the fixer's decoder (libjpeg-turbo) does not decode hierarchical JPEG"
    if "lossless" in coding:  # ffmpeg decodes it right: convert with ffmpeg
        return (
            "the fixer's decoder (libjpeg-turbo) reads lossless JPEG's YCbCr as RGB (false colours)"
        )
    return None


# MediaInfo's names of the HDR transfers (ITU-T H.273 16 and 18).
HDR_TRANSFER_NAMES = frozenset({"PQ", "SMPTE ST 2084", "HLG", "ARIB STD-B67"})


@record
class VideoFacts:
    """What MediaInfo says of a video file, read from its headers.

    Units: seconds, bits per second, hertz, degrees. None means "not known",
    never zero. width/height are the coded size; display_width/display_height
    apply the display-matrix rotation (90/270 swap) and the sample aspect ratio.
    """

    path: str
    bytes: int
    container: str  # MediaInfo General/Format: MPEG-4, QuickTime, Matroska, WebM, AVI, ...
    is_streamable: bool | None  # moov before mdat (faststart); None when not ISO-BMFF
    duration: float | None  # seconds
    has_video: bool
    has_audio: bool
    video_codec: str | None = None  # MediaInfo Format: AVC, HEVC, VP9, AV1, MPEG-4 Visual, ...
    video_profile: str | None = None  # e.g. "High@L4"
    width: int | None = None
    height: int | None = None
    rotation: int = 0  # display-matrix rotation, normalised to 0/90/180/270
    sar: float = 1.0  # pixel (sample) aspect ratio
    fps: float | None = None
    frame_rate_mode: str | None = None  # CFR or VFR
    scan_type: str | None = None  # Progressive, Interlaced, MBAFF
    chroma: str | None = None  # "4:2:0", "4:2:2", "4:4:4"
    bit_depth: int | None = None
    video_bitrate: int | None = None  # bits per second
    has_edit_list: bool = False  # an edit list that changes timing (not a plain 1:1 one)
    audio_codec: str | None = None  # MediaInfo Format: AAC, Opus, AC-3, MPEG Audio, PCM, ...
    audio_profile: str | None = None  # e.g. "LC"
    audio_sample_rate: int | None = None  # Hz
    audio_channels: int | None = None
    audio_bitrate: int | None = None  # bits per second
    extension: str = ""
    kind: Kind = Kind.VIDEO
    # MediaInfo transfer_characteristics: BT.709, PQ, HLG, ...; PQ and HLG are HDR,
    # which the video fixer tone-maps when it encodes to 8-bit H.264.
    transfer: str | None = None
    # How many video and audio streams the file holds (MediaInfo's General VideoCount
    # and AudioCount; timecode and metadata tracks are neither). The other facts
    # describe the first of each: what Instagram plays and what `fix` keeps. None:
    # not counted (facts made by hand, or before the counts existed).
    video_tracks: int | None = None
    audio_tracks: int | None = None
    # The display matrix mirrors the picture (ffmpeg -display_hflip/-display_vflip,
    # Media3's flip effect). MediaInfo reads only an angle from the matrix: a
    # horizontal mirror says 180, a vertical one 0, so `rotation` alone misses it.
    mirrored: bool = False
    # The video track's MP4/MOV sample entry (avc1, hvc1, hev1...; None outside
    # ISO-BMFF), and whether a parameter set is missing from its decoder configuration
    # and so comes only in-band (an hev1 that a remux cannot retag hvc1).
    video_entry: str | None = None
    inband_parameter_sets: bool = False

    @property
    def hdr(self) -> bool:
        """The transfer is PQ or HLG: HDR-coded pixels at any bit depth (an 8-bit PQ
        stream is HDR too, only with coarser steps)."""
        return (self.transfer or "").upper() in HDR_TRANSFER_NAMES

    @property
    def display_width(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        w = round(self.width * simplest_ratio(self.sar or 1.0))
        return self.height if self.rotation in (90, 270) else w

    @property
    def display_height(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        w = round(self.width * simplest_ratio(self.sar or 1.0))
        return w if self.rotation in (90, 270) else self.height

    @property
    def aspect(self) -> float | None:
        dw, dh = self.display_width, self.display_height
        return dw / dh if dw and dh else None

    def summary(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "video_codec": self.video_codec,
            "width": self.display_width,
            "height": self.display_height,
            "rotation": self.rotation,
            "fps": self.fps,
            "duration": self.duration,
            "bytes": self.bytes,
            "video_bitrate": self.video_bitrate,
            "audio_codec": self.audio_codec,
            "audio_sample_rate": self.audio_sample_rate,
            "audio_channels": self.audio_channels,
            "video_tracks": self.video_tracks,
            "audio_tracks": self.audio_tracks,
        }


@record
class Unreadable:
    """A file that could not be probed; it becomes one FILE001 finding, FILE002 when
    the storage refused to read it (`refused`: the file may be fine), or FILE003 when
    the storage failed to serve it (`unavailable`: a 5xx or throttling after retries)."""

    path: str
    reason: str
    bytes: int = 0
    kind: Kind = Kind.UNKNOWN
    refused: bool = False
    unavailable: bool = False

    def summary(self) -> dict[str, Any]:
        return {"bytes": self.bytes}


Facts = ImageFacts | VideoFacts | Unreadable


SQUARE_NOISE = 0.0025  # a display ratio of 0.25 rounded to 3 digits moves the SAR 0.002


def simplest_ratio(value: float, digits: int = 3) -> Fraction:
    """The simplest fraction that MediaInfo's rounded value stands for
    (it prints 3 decimals: 1.422 is 64:45, 1.185 is 32:27, 1.333 is 4:3: a 1920x1080
    picture of SAR 4:3 shows 2560 columns, not 1920 * 1.333 = 2559). Within
    SQUARE_NOISE of 1 it is 1: no pixel shape is that close to square, and MediaInfo
    derives an AVI's pixel aspect from a display ratio rounded to 3 digits (9:16 reads
    0.562, so 360x640 square pixels read 0.999, and 666:667 made them 359 wide)."""
    if abs(value - 1) < SQUARE_NOISE:
        return Fraction(1)
    target = round(value, digits)
    for den in range(1, 1001):
        num = round(value * den)
        if num and round(num / den, digits) == target:
            return Fraction(num, den)
    return Fraction(value).limit_denominator(1000)

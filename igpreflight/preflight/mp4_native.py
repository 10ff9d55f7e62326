"""MediaInfo's fields of an MP4/MOV, read natively from its boxes, or None.

Checking a folder of phone clips spent most of its time in libmediainfo (0.9 ms
an MP4, and a helper process to start). The box walker already reads moov's
tables, so for the streams that make up nearly every upload (H.264 video, AAC-LC
audio, one track of each at most, whole-file MP4 or MOV) this module reads the
rest itself: the sample entries, the H.264 sequence parameter set, and the first
sample's SEI messages. It returns the very strings `mediainfo_lib.Reader` would
(`Fields`), so `probe_video` turns both into facts the same way, and a test holds
the two paths equal on every MP4/MOV of the corpus and on made clips.

Anything else, or anything odd (fragments, edit-free timecode tracks, HEVC,
interlaced coding, HRD parameters, a colour description MediaInfo would weigh
differently...), returns None and MediaInfo reads the file as before.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

from igpreflight.preflight import h264
from igpreflight.preflight.isobmff import MovieLayout, TrackLayout, decoder_config, plain_boxes
from igpreflight.preflight.mediainfo_fields import Fields
from igpreflight.preflight.mp4_timing import Stts, TrackTiming, f32, fmt, sample_sizes, track_timing

ReadAt = Callable[[int, int], bytes]  # (offset, count) -> the bytes there (fewer at EOF)

# ftyp major brand -> MediaInfo's General Format_Profile (CodecID_General_Mpeg4.csv);
# a brand not listed is left to MediaInfo.
BRANDS = {
    b"isom": "Base Media", b"iso2": "Base Media", b"iso4": "Base Media", b"iso5": "Base Media",
    b"mp41": "Base Media / Version 1", b"mp42": "Base Media / Version 2", b"avc1": "JVT",
    b"qt  ": "QuickTime", b"M4V ": "", b"M4A ": "Apple audio with iTunes info",
    b"M4VP": "Apple iPhone", b"M4VH": "Apple TV", b"MSNV": "Sony PSP", b"mmp4": "Mobile version",
    b"3gp4": "3GPP Media Release 4", b"3gp5": "3GPP Media Release 5",
}  # fmt: skip
# Boxes a video sample entry may hold here; another one leaves the file to MediaInfo.
VIDEO_ENTRY_BOXES = {b"avcC", b"pasp", b"colr", b"btrt", b"clap", b"mdcv", b"clli"}
AUDIO_ENTRY_BOXES = {b"esds", b"btrt"}
# AAC sampling_frequency_index -> Hz; above 24 kHz only (below, MediaInfo looks for
# implicit SBR in the frames).
AAC_RATES = {0: 96000, 1: 88200, 2: 64000, 3: 48000, 4: 44100, 5: 32000}
# transfer_characteristics -> MediaInfo's name (Mpegv_transfer_characteristics).
TRANSFER = {
    1: "BT.709", 4: "BT.470 System M", 5: "BT.470 System B/G", 6: "BT.601", 7: "SMPTE 240M",
    8: "Linear", 9: "Logarithmic (100:1)", 10: "Logarithmic (316.22777:1)", 11: "xvYCC",
    12: "BT.1361", 13: "sRGB/sYCC", 14: "BT.2020 (10-bit)", 15: "BT.2020 (12-bit)", 16: "PQ",
    17: "SMPTE 428M", 18: "HLG",
}  # fmt: skip
_FLT_EPSILON = 1.1920928955078125e-07
_ALTERNATIVE_TRANSFER_SEI = 147
_FIRST_SAMPLE_READ = 64 * 1024  # the NAL units before the first slice are all we need


class Undecided(ValueError):
    """This file is left to MediaInfo (said why, for tests and debugging)."""


def native_fields(layout: MovieLayout, size: int, read_at: ReadAt) -> Fields | None:
    """MediaInfo's fields (as `mediainfo_lib.Reader.read` gives them at parse speed 0),
    or None when this reader does not settle the file."""
    try:
        return read_fields(layout, size, read_at)
    except (ValueError, IndexError, KeyError, struct.error):
        return None


def read_fields(layout: MovieLayout, size: int, read_at: ReadAt) -> Fields:
    """As `native_fields`, raising `Undecided` (or another ValueError) for a file
    left to MediaInfo."""
    brand, compatible = layout.ftyp[:4], layout.ftyp[8:]
    profile = BRANDS.get(brand)
    if profile is None:
        raise Undecided(f"ftyp brand {brand!r}")
    quicktime = brand == b"qt  " or any(
        compatible[i : i + 4] == b"qt  " for i in range(0, len(compatible) - 3, 4)
    )
    if layout.fragmented or b"mvex" in layout.moov_children:
        raise Undecided("a fragmented movie")
    order = layout.moov_children
    if b"mvhd" not in order or b"trak" in order[: order.index(b"mvhd")]:
        raise Undecided("no movie header before the tracks")
    movie_ts = _u32(layout.mvhd, 12 if layout.mvhd[0] == 0 else 20)
    handlers = [t.handler for t in layout.tracks]
    if not handlers or sorted(handlers) not in (["vide"], ["soun"], ["soun", "vide"]):
        raise Undecided(f"tracks {handlers}")
    video = audio = None
    for track in layout.tracks:
        if track.problem:
            raise Undecided(track.problem)
        if track.handler == "vide":
            video = _video(track, movie_ts, read_at)
        else:
            audio = _audio(track, movie_ts, quicktime)
    general: dict[str, str | None] = {
        "format": "MPEG-4",
        "format_profile": profile,
        "file_size": str(size),
    }
    # MediaInfo's stream counts: one of each kind at most here (the handlers above).
    general["count_of_video_streams"] = "1" if video else None
    general["count_of_audio_streams"] = "1" if audio else None
    durations = [int(s["duration"]) for s in (video, audio) if s and "duration" in s]
    if durations:
        general["duration"] = str(max(durations))
    return {"general": _present(general), "video": video, "audio": audio}


def _present(fields: dict[str, str | None]) -> dict[str, str]:  # noqa: D103
    """Only the fields MediaInfo fills (it answers "" for the others)."""
    return {k: v for k, v in fields.items() if v}


def _u32(data: bytes, pos: int) -> int:
    return int(struct.unpack(">I", data[pos : pos + 4])[0])


def _header(track: TrackLayout) -> tuple[int, tuple[float, ...], float, float]:
    """tkhd's duration, matrix (a, b, c, d) and width and height, as MediaInfo reads them."""
    tkhd = track.boxes[b"tkhd"]
    version = tkhd[0]
    if version == 0:
        duration, matrix_at = _u32(tkhd, 20), 40
    else:
        duration, matrix_at = int(struct.unpack(">Q", tkhd[28:36])[0]), 52
    if duration >= 0xFFFFFFFF:
        raise Undecided("an unknown track duration")
    a, b, _, c, d = struct.unpack(">5i", tkhd[matrix_at : matrix_at + 20])
    width, height = struct.unpack(">ii", tkhd[matrix_at + 36 : matrix_at + 44])
    return duration, tuple(_fixed(x) for x in (a, b, c, d)), _fixed(width), _fixed(height)


def _fixed(value: int) -> float:
    """A signed 16.16 number as MediaInfo's Get_BFP4(16) makes it (a float32)."""
    return f32((value >> 16) + f32((value & 0xFFFF) / 65536))


def _timing(track: TrackLayout, movie_ts: int, video: bool) -> tuple[TrackTiming, list[int]]:
    mdhd = track.boxes[b"mdhd"]
    if mdhd[0] == 0:
        media_ts, media_duration = struct.unpack(">II", mdhd[12:20])
    else:
        media_ts, media_duration = struct.unpack(">IQ", mdhd[20:32])
    stts = Stts.read(track.boxes[b"stts"], media_ts)
    sizes = sample_sizes(track.boxes[b"stsz"])
    if len(sizes) != stts.frames:
        raise Undecided("stts and stsz count different samples")
    timing = track_timing(video, _header(track)[0], movie_ts, media_ts, media_duration, stts)
    return timing, sizes


def _sample_entry(track: TrackLayout) -> tuple[bytes, bytes]:
    """(type, body) of the track's only sample description."""
    stsd = track.boxes[b"stsd"]
    if _u32(stsd, 4) != 1:
        raise Undecided("several sample descriptions")
    size, kind = struct.unpack(">I4s", stsd[8:16])
    if size < 16 or 8 + size > len(stsd):
        raise Undecided("a malformed sample description")
    return kind, stsd[16 : 8 + size]


# ---------------------------------------------------------------- video


def _video(track: TrackLayout, movie_ts: int, read_at: ReadAt) -> dict[str, str]:
    kind, entry = _sample_entry(track)
    if kind not in (b"avc1", b"avc3"):
        raise Undecided(f"video {kind!r}")
    width, height, depth, color_table = struct.unpack(">HH46xHH", entry[24:78])
    if 1 < depth <= 8 and color_table == 0:
        raise Undecided("a palette video")
    boxes: dict[bytes, bytes] = {}
    for box, body in plain_boxes(entry[78:]):
        if box not in VIDEO_ENTRY_BOXES:
            raise Undecided(f"a {box!r} box in the sample entry")
        boxes.setdefault(box, body)
    sps, length_size, sps_nal = _avc_config(boxes.get(b"avcC", b""))
    if (width, height) != (sps.width, sps.height):
        raise Undecided("the sample entry and the SPS give different frame sizes")
    if not sps.frame_mbs_only or sps.pic_struct_present or sps.hrd:
        raise Undecided("interlace-capable coding, pic_struct or HRD parameters")
    timing, sizes = _timing(track, movie_ts, video=True)
    stss = track.boxes.get(b"stss")
    all_sync = stss is None or _u32(stss, 4) == len(sizes)
    if all_sync and len(set(sizes)) == 1:
        raise Undecided("intra-only frames of one size (MediaInfo may give a CBR rate)")
    _check_first_sample(track, sizes[0], length_size, sps_nal, read_at)
    _, matrix, track_width, track_height = _header(track)
    a, b, _, d = matrix
    fields = {
        "format": "AVC",
        "format_profile": sps.profile,
        "width": str(width),
        "height": str(height),
        "rotation": fmt(_rotation(a, b), 3),
        "pixel_aspect_ratio": _pixel_aspect(boxes, sps, width, height, track_width * a, track_height * d),
        "frame_rate": timing.frame_rate,
        "frame_count": timing.frame_count,
        "duration": timing.duration,
        "frame_rate_mode": timing.frame_rate_mode,
        "minimum_frame_rate": timing.minimum_frame_rate,
        "maximum_frame_rate": timing.maximum_frame_rate,
        "scan_type": "Progressive",
        "chroma_subsampling": sps.chroma,
        "bit_depth": str(sps.bit_depth) if sps.bit_depth else None,
        "transfer_characteristics": _transfer(boxes.get(b"colr"), sps),
    }  # fmt: skip
    return _present(fields)


def _avc_config(avcc: bytes) -> tuple[h264.Sps, int, bytes]:
    """(the one SPS, NAL length size, the SPS NAL unit) of an avcC box."""
    if len(avcc) < 7 or avcc[0] != 1:
        raise Undecided("no avcC version 1")
    if avcc[5] & 0x1F != 1:
        raise Undecided("an avcC without exactly one SPS")
    length = struct.unpack(">H", avcc[6:8])[0]
    nal = avcc[8 : 8 + length]
    return h264.parse_sps(nal), (avcc[4] & 3) + 1, nal


def _check_first_sample(
    track: TrackLayout, first_size: int, length_size: int, sps_nal: bytes, read_at: ReadAt
) -> None:
    """MediaInfo also parses the first frames: an SEI that changes the transfer it
    reports, or an in-band SPS unlike avcC's, leaves the file to it."""
    wide = b"co64" in track.boxes
    table = track.boxes[b"co64" if wide else b"stco"]
    offset = struct.unpack(">Q", table[8:16])[0] if wide else _u32(table, 8)
    sample = read_at(offset, min(first_size, _FIRST_SAMPLE_READ))
    for nal in h264.nal_units(sample, length_size):
        kind = nal[0] & 0x1F if nal else 0
        if kind == 7 and nal != sps_nal:
            raise Undecided("an in-band SPS unlike avcC's")
        if kind == 6 and _ALTERNATIVE_TRANSFER_SEI in h264.sei_payload_types(nal):
            raise Undecided("an alternative transfer characteristics SEI")
        if kind in (1, 5):
            return  # the slices: every SEI of the picture came before them


def mirrored(layout: MovieLayout | None) -> bool:
    """Whether the first video track's display matrix mirrors the picture (its
    determinant is negative): facts MediaInfo's angle does not give."""
    track = next((t for t in layout.tracks if t.handler == "vide"), None) if layout else None
    tkhd = track.boxes.get(b"tkhd") if track is not None else None
    if not tkhd:
        return False
    at = 40 if tkhd[0] == 0 else 52
    if len(tkhd) < at + 20:
        return False
    a, b, _, c, d = struct.unpack(">5i", tkhd[at : at + 20])
    return a * d - b * c < 0


def _rotation(a: float, b: float) -> float:
    """tkhd's rotation in degrees as MediaInfo computes it (with its 3.14159)."""
    degrees = f32(f32(math.atan2(b, a)) * 180.0 / 3.14159)
    return f32(degrees + 360) if degrees < 0 else degrees


def _pixel_aspect(
    boxes: dict[bytes, bytes], sps: h264.Sps, width: int, height: int, wide: float, high: float
) -> str | None:
    """The container's pixel aspect ratio (tkhd's display size, then pasp), else the SPS's."""
    par = None
    scaled_width, scaled_height = f32(wide), f32(high)
    if scaled_height and height:
        dar = f32(scaled_width / scaled_height)
        if dar and abs(f32(dar - f32(width / height))) >= _FLT_EPSILON:
            par = fmt(f32(f32(dar / width) * height), 3)
    pasp = boxes.get(b"pasp")
    if pasp is not None:
        h_spacing, v_spacing = struct.unpack(">II", pasp[:8])
        if v_spacing:
            par = fmt(f32(f32(h_spacing) / f32(v_spacing)), 3)
    if par is None and sps.sar:
        par = fmt(f32(f32(sps.sar[0]) / f32(sps.sar[1])), 3)
    return par


def _transfer(colr: bytes | None, sps: h264.Sps) -> str | None:
    """The container's colour description wins over the SPS's (MediaInfo's merge)."""
    stream = TRANSFER.get(sps.transfer or 0)
    if colr is None:
        return stream
    if colr[:4] not in (b"nclx", b"nclc"):
        raise Undecided(f"a colr box of type {colr[:4]!r}")
    (transfer,) = struct.unpack(">H", colr[6:8])
    container = TRANSFER.get(transfer) if transfer < 256 else None
    if container is None and stream:
        raise Undecided("a container colour description MediaInfo may keep empty")
    return container


# ---------------------------------------------------------------- audio


def _audio(track: TrackLayout, movie_ts: int, quicktime: bool) -> dict[str, str]:
    """AAC-LC in an ISO sample entry: MediaInfo then takes the rate and channels from
    the AudioSpecificConfig (QuickTime's sound descriptions weigh differently)."""
    kind, entry = _sample_entry(track)
    if kind != b"mp4a" or quicktime:
        raise Undecided(f"audio {kind!r}" + (" in QuickTime" if quicktime else ""))
    if track.boxes[b"stsd"][0] != 0 or entry[8:10] != b"\x00\x00":
        raise Undecided("a version 1 sample description")
    boxes = dict(plain_boxes(entry[28:]))
    if set(boxes) - AUDIO_ENTRY_BOXES:
        raise Undecided(f"boxes {sorted(boxes)} in the sample entry")
    config = decoder_config(boxes.get(b"esds", b"")[4:])
    if config is None or config[0] != 0x40 or len(config[1]) < 2:
        raise Undecided("not MPEG-4 audio")
    bits = int.from_bytes(config[1][:2], "big")
    object_type, frequency, layout = bits >> 11, (bits >> 7) & 0xF, (bits >> 3) & 0xF
    if object_type != 2 or frequency not in AAC_RATES or not 1 <= layout <= 6:
        raise Undecided("not AAC-LC above 24 kHz in 1 to 6 channels")
    timing, _ = _timing(track, movie_ts, video=False)
    fields = {
        "format": "AAC",
        "format_additionalfeatures": "LC",
        "sampling_rate": str(AAC_RATES[frequency]),
        "channel_s": str(layout),
        "duration": timing.duration,
    }
    return _present(fields)

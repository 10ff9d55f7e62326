"""A tiny ISO-BMFF (MP4/MOV/HEIF/AVIF) box walker that reads box headers only.

MediaInfo does not say reliably whether an edit list changes the timeline, and
an image probe needs a few HEIF/AVIF property boxes (pixi, colr) that Pillow does
not expose. Everything here seeks past payloads; only small boxes (moov's
bookkeeping, elst, mdhd, hdlr, stco, ipco properties) are read.
"""

from __future__ import annotations

import array
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

# Boxes whose payload is a list of boxes (meta is a full box: 4 bytes first).
CONTAINERS = {b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl", b"dinf", b"iprp", b"ipco"}
FULL_CONTAINERS = {b"meta"}
MAX_BOXES = 100_000  # a walk never takes more steps than this (hostile files)
MAX_SMALL_BOX = 64 * 1024 * 1024  # the largest table we agree to read (stco of a long film)


_HEAD = struct.Struct(">I4s")


class BoxError(ValueError):
    """The box structure is broken (a size smaller than its header, a loop)."""


class Box(NamedTuple):
    """One box header (a tuple: a walk makes thousands, and a frozen dataclass costs
    a microsecond each to build)."""

    type: bytes
    offset: int  # of the header
    size: int  # header + payload, as declared (0 on disk = "to end of file")
    header: int  # 8 or 16

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def payload(self) -> int:
        return self.offset + self.header


def iter_boxes(f: BinaryIO, start: int, end: int) -> Iterator[Box]:
    """Yield the boxes between start and end (end = the parent's end or EOF)."""
    pos = start
    steps = 0
    unpack = _HEAD.unpack
    while pos + 8 <= end:
        steps += 1
        if steps > MAX_BOXES:
            raise BoxError("too many boxes")
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        size, btype = unpack(head)
        header = 8
        if size == 1:
            big = f.read(8)
            if len(big) < 8:
                return
            size = struct.unpack(">Q", big)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise BoxError(f"box {btype!r} at {pos} declares {size} bytes")
        yield Box(btype, pos, size, header)
        pos += size


def read_payload(f: BinaryIO, box: Box, limit: int = MAX_SMALL_BOX) -> bytes:
    f.seek(box.payload)
    return f.read(min(box.size - box.header, limit))


def file_size(f: BinaryIO) -> int:
    f.seek(0, 2)
    return f.tell()


def top_level(f: BinaryIO) -> list[Box]:
    return list(iter_boxes(f, 0, file_size(f)))


def children(f: BinaryIO, box: Box, eof: int) -> list[Box]:
    start = box.payload + (4 if box.type in FULL_CONTAINERS else 0)
    return list(iter_boxes(f, start, min(box.end, eof)))


def find_path(f: BinaryIO, boxes: list[Box], path: list[bytes], eof: int) -> list[Box]:
    """All boxes reached by following `path` (a list of types) from `boxes`."""
    level = [b for b in boxes if b.type == path[0]]
    for t in path[1:]:
        level = [c for b in level for c in children(f, b, eof) if c.type == t]
    return level


def brands(f: BinaryIO, boxes: list[Box]) -> set[str]:
    """The major and compatible brands of the ftyp box."""
    for b in boxes[:3]:
        if b.type == b"ftyp":
            data = read_payload(f, b, 1024)
            names = [data[0:4]] + [data[i : i + 4] for i in range(8, len(data) - 3, 4)]
            return {n.decode("latin-1").strip() for n in names}
    return set()


# ---------------------------------------------------------------- movies


@dataclass(frozen=True)
class Edit:
    """One edit list entry: which span of the media the movie shows, at what rate."""

    segment_duration: float  # seconds (movie timescale)
    media_time: float | None  # seconds (media timescale); None for an empty edit
    rate: float


@dataclass
class TrackLayout:
    """One track as its boxes lay it out, read without decoding a sample."""

    handler: str = ""  # vide, soun, ...
    media_duration: float | None = None  # seconds
    edits: list[Edit] = field(default_factory=list)
    has_elst: bool = False
    data_end: int | None = None  # where the last chunk of samples ends (bytes)
    channels: int | None = None  # audio sample entry channel count (soun tracks)
    timescale: int | None = None  # mdhd units per second (None: no mdhd)
    declared_duration: float | None = None  # mdhd duration in seconds, even "unknown"
    sample_count: int | None = None  # stsz's count
    sample_bytes: int | None = None  # what stsz's sizes add up to
    sample_units: int | None = None  # stts: what the samples really last (mdhd units)
    problem: str | None = None  # a table that cannot be true (see `implausible`)
    # Raw payloads kept for the native fact reader (`mp4_native`): tkhd, mdhd and
    # the stbl tables (stsd, stts, stsz, stss...), by box type.
    boxes: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def sample_duration(self) -> float | None:
        """What the samples really last (seconds), from stts: the real duration."""
        if self.sample_units is None or not self.timescale:
            return None
        return self.sample_units / self.timescale


@dataclass
class MovieLayout:
    """What the box headers of a movie say: streamability, edit lists, truncation."""

    moov_offset: int | None = None
    first_mdat_offset: int | None = None
    fragmented: bool = False
    tracks: list[TrackLayout] = field(default_factory=list)
    past_eof: str | None = None  # the type of a top-level box that runs past EOF
    ftyp: bytes = b""  # the ftyp box's payload, when it is the first box
    mvhd: bytes = b""  # the movie header's payload (for the native fact reader)
    moov_children: tuple[bytes, ...] = ()  # the types of moov's boxes, in order

    @property
    def streamable(self) -> bool | None:
        if self.moov_offset is None:
            return None
        if self.first_mdat_offset is None:
            return True
        return self.moov_offset < self.first_mdat_offset


def _mvhd_timescale(data: bytes) -> int:
    version = data[0]
    return struct.unpack(">I", data[12:16] if version == 0 else data[20:24])[0]


def _mdhd(data: bytes) -> tuple[int, int]:
    version = data[0]
    if version == 1:
        timescale, duration = struct.unpack(">IQ", data[20:32])
    else:
        timescale, duration = struct.unpack(">II", data[12:20])
    return timescale, duration


def _elst(data: bytes, movie_ts: int, media_ts: int) -> list[Edit]:
    version = data[0]
    (count,) = struct.unpack(">I", data[4:8])
    edits: list[Edit] = []
    pos = 8
    step = 20 if version == 1 else 12
    for _ in range(min(count, 10_000)):
        chunk = data[pos : pos + step]
        if len(chunk) < step:
            break
        if version == 1:
            seg, mtime, rate_i, rate_f = struct.unpack(">QqhH", chunk)
        else:
            seg, mtime, rate_i, rate_f = struct.unpack(">IihH", chunk)
        edits.append(
            Edit(
                segment_duration=seg / movie_ts if movie_ts else 0.0,
                media_time=None if mtime == -1 else (mtime / media_ts if media_ts else 0.0),
                rate=rate_i + rate_f / 65536,
            )
        )
        pos += step
    return edits


def _chunk_offsets(data: bytes, wide: bool) -> tuple[int, ...]:
    (count,) = struct.unpack(">I", data[4:8])
    size = 8 if wide else 4
    count = max(0, min(count, (len(data) - 8) // size))
    return struct.unpack(f">{count}{'Q' if wide else 'I'}", data[8 : 8 + count * size])


def _samples_in_chunk(stsc: bytes, chunk_number: int) -> int | None:
    """Samples in chunk `chunk_number` (1-based) per the sample-to-chunk table."""
    (count,) = struct.unpack(">I", stsc[4:8])
    count = max(0, min(count, (len(stsc) - 8) // 12))
    samples = None
    for i in range(count):
        first, per_chunk, _desc = struct.unpack(">III", stsc[8 + 12 * i : 20 + 12 * i])
        if first > chunk_number:
            break
        samples = per_chunk
    return samples


def _last_sample_sizes(stsz: bytes, n: int) -> int | None:
    """Total size of the last n samples per the sample-size table."""
    if len(stsz) < 12:
        return None
    uniform, count = struct.unpack(">II", stsz[4:12])
    n = min(n, count)
    if uniform:
        return uniform * n
    table = stsz[12 : 12 + 4 * count]
    if len(table) < 4 * count:
        return None
    return sum(struct.unpack(f">{n}I", table[4 * (count - n) :]))


def _data_end(stbl: dict[bytes, bytes]) -> int | None:
    """Where the track's last chunk of samples ends (stco/co64 + stsc + stsz)."""
    wide = b"co64" in stbl
    raw = stbl.get(b"co64" if wide else b"stco")
    if not raw or len(raw) < 8:
        return None
    offsets = _chunk_offsets(raw, wide)
    if not offsets:
        return None
    last = max(range(len(offsets)), key=offsets.__getitem__)
    if last != len(offsets) - 1 or b"stsc" not in stbl or b"stsz" not in stbl:
        return offsets[last]  # unusual layout: only the start of the chunk is known
    per_chunk = _samples_in_chunk(stbl[b"stsc"], last + 1)
    sizes = _last_sample_sizes(stbl[b"stsz"], per_chunk or 0) if per_chunk else None
    return offsets[last] + (sizes or 0)


# Sample tables: (header bytes before the entries, bytes per entry). stsz's
# entries exist only when its uniform size is 0.
TABLE_ENTRIES = {
    b"stts": (8, 8),
    b"ctts": (8, 8),
    b"stsc": (8, 12),
    b"stco": (8, 4),
    b"co64": (8, 8),
    b"stss": (8, 4),
    b"stsz": (12, 4),
}


def _table_problem(kind: bytes, data: bytes) -> str | None:
    """Why a sample table cannot be read as declared: its entry count needs more
    bytes than its box holds (a crafted count of 2^32-1 makes readers loop)."""
    header, entry = TABLE_ENTRIES[kind]
    if len(data) < header:
        return f"{kind.decode()} box is too short"
    count = struct.unpack(">I", data[header - 4 : header])[0]
    if kind == b"stsz" and struct.unpack(">I", data[4:8])[0]:
        return None  # uniform size: no entries
    if count * entry > len(data) - header:
        room = (len(data) - header) // entry
        return f"{kind.decode()} declares {count:,} entries but its box holds {room:,}"
    return None


def _samples(stsz: bytes) -> tuple[int, int] | None:
    """(sample count, total bytes) per the sample-size table."""
    if len(stsz) < 12:
        return None
    uniform, count = struct.unpack(">II", stsz[4:12])
    if uniform:
        return count, uniform * count
    table = array.array("I", stsz[12 : 12 + 4 * count])
    if sys.byteorder == "little":
        table.byteswap()
    return count, sum(table)


def _stts(stts: bytes) -> tuple[int, int] | None:
    """(sample count, total duration in media units) per the time-to-sample table."""
    if len(stts) < 8:
        return None
    (count,) = struct.unpack(">I", stts[4:8])
    table = array.array("I", stts[8 : 8 + 8 * count])
    if sys.byteorder == "little":
        table.byteswap()
    counts, deltas = table[0::2], table[1::2]
    return sum(counts), sum(c * d for c, d in zip(counts, deltas, strict=True))


def _read_tables(track: TrackLayout, tables: dict[bytes, bytes]) -> None:
    """Fill the track's sample facts from its stbl tables, or its `problem`."""
    for kind, data in tables.items():
        if kind in TABLE_ENTRIES:
            track.problem = track.problem or _table_problem(kind, data)
    if track.problem:
        return
    sizes = _samples(tables.get(b"stsz", b""))
    if sizes is not None:
        track.sample_count, track.sample_bytes = sizes
    timing = _stts(tables.get(b"stts", b""))
    if timing is not None:
        track.sample_units = timing[1]


def implausible(layout: MovieLayout, size: int, slack: float, share: float) -> str | None:
    """Why a movie's tables cannot describe this file (None: they can).

    A track with a timescale of 0, a table that declares more entries than its
    box holds, samples that add up to more bytes than the file, or a declared
    (mdhd) duration that differs from what its samples last by more than
    `slack` seconds or `share` of it: readers trusting such a table loop for
    minutes or encode hours of frames from a clip of seconds.
    """
    for t in layout.tracks:
        name = t.handler or "a"
        if t.problem:
            return f"the {name} track's {t.problem}"
        if t.timescale == 0:
            return f"the {name} track has a timescale of 0"
        if t.sample_bytes is not None and t.sample_bytes > size:
            return (
                f"the {name} track's {t.sample_count:,} samples add up to {t.sample_bytes:,} "
                f"bytes, more than the file's {size:,}"
            )
        real, declared = t.sample_duration, t.declared_duration
        off = abs(declared - real) if real and declared is not None else 0.0
        if real and off > max(slack, share * real):
            return f"the {name} track declares {declared:,.3f} s; its samples last {real:,.3f} s"
    return None


def _sample_entry_channels(stsd: bytes) -> int | None:
    """The channel count of the first sample entry of a sound track.

    The codec's own configuration box says it where the AudioSampleEntry's
    channelcount field does not: AC-3 and E-AC-3 write 2 there whatever the
    layout (ETSI TS 102 366 F.3), so a 5.1 track read from ranged GETs would pass
    as stereo. Opus, AAC and QuickTime `chan` boxes are read the same way; the
    channelcount field is the fallback.
    """
    if len(stsd) < 34:
        return None
    (channels,) = struct.unpack(">H", stsd[32:34])
    (version,) = struct.unpack(">H", stsd[24:26])
    first = 8 + 36 + {1: 16, 2: 36}.get(version, 0)  # QuickTime sound description v1/v2
    (size,) = struct.unpack(">I", stsd[8:12])
    entry_end = min(len(stsd), 8 + size) if size >= 36 else len(stsd)
    for kind, body in plain_boxes(stsd[first:entry_end]):
        got = _config_channels(kind, body)
        if got:
            return got
    return channels or None


def plain_boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of the plain boxes laid end to end in `data`."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8 or pos + size > len(data):
            return
        yield kind, data[pos + 8 : pos + size]
        pos += size


# AC-3 audio coding mode (acmod) -> full-bandwidth channels (ETSI TS 102 366 table 4.3).
_AC3_ACMOD_CHANNELS = (2, 1, 2, 3, 3, 4, 4, 5)


def _config_channels(kind: bytes, body: bytes) -> int | None:
    """Channels from a codec configuration box, or None when it does not say."""
    if kind == b"dac3" and len(body) >= 3:
        bits = int.from_bytes(body[:3], "big")  # fscod 2, bsid 5, bsmod 3, acmod 3, lfeon 1
        return _AC3_ACMOD_CHANNELS[(bits >> 11) & 7] + ((bits >> 10) & 1)
    if kind == b"dec3" and len(body) >= 5:
        bits = int.from_bytes(body[2:5], "big")  # the first independent substream
        return _AC3_ACMOD_CHANNELS[(bits >> 9) & 7] + ((bits >> 8) & 1)
    if kind == b"dOps" and len(body) >= 2:
        return body[1] or None  # OutputChannelCount
    if kind == b"esds":
        return _aac_channels(body[4:])
    return None


def _aac_channels(descriptors: bytes) -> int | None:
    """channelConfiguration of the AudioSpecificConfig inside an esds (ISO 14496-1/-3)."""
    config = decoder_config(descriptors)
    info = config[1] if config else b""
    if len(info) < 2:
        return None
    bits = int.from_bytes(info[:2], "big")  # objectType 5, frequency index 4, channels 4
    if bits >> 11 == 31 or (bits >> 7) & 0xF == 0xF:
        return None  # escaped object type or explicit frequency: left to the fallback
    config_channels = (bits >> 3) & 0xF
    return 8 if config_channels == 7 else (config_channels if 1 <= config_channels <= 6 else None)


def decoder_config(descriptors: bytes) -> tuple[int, bytes] | None:
    """(objectTypeIndication, DecoderSpecificInfo) of an esds's ES_Descriptor (after
    the box's version and flags); None when it is not there."""
    es = _descriptor(descriptors, 0x03)
    if es is None or len(es) < 3:
        return None
    flags, pos = es[2], 3  # ES_ID (2), then flags and what they announce
    if flags & 0x80:
        pos += 2  # dependsOn_ES_ID
    if flags & 0x40:
        pos += 1 + (es[pos] if pos < len(es) else 0)  # URL
    if flags & 0x20:
        pos += 2  # OCR_ES_Id
    decoder = _descriptor(es[pos:], 0x04)
    if not decoder or len(decoder) < 13:
        return None
    return decoder[0], _descriptor(decoder[13:], 0x05) or b""


def _descriptor(data: bytes, tag: int) -> bytes | None:
    """The payload of a descriptor with `tag` at the start of `data` (expandable size)."""
    if not data or data[0] != tag:
        return None
    pos, length = 1, 0
    for _ in range(4):  # 7 bits of size per byte while the top bit is set
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return data[pos : pos + length]


def movie_layout(f: BinaryIO) -> MovieLayout:
    """Read moov/trak/edts/elst, mdhd, hdlr and stco headers of an MP4/MOV."""
    eof = file_size(f)
    boxes = top_level(f)
    layout = MovieLayout()
    for b in boxes:
        if b.type == b"moov" and layout.moov_offset is None:
            layout.moov_offset = b.offset
        elif b.type == b"mdat" and layout.first_mdat_offset is None:
            layout.first_mdat_offset = b.offset
        elif b.type == b"moof":
            layout.fragmented = True
        if b.end > eof and layout.past_eof is None:
            layout.past_eof = b.type.decode("latin-1")
    if boxes and boxes[0].type == b"ftyp":
        layout.ftyp = read_payload(f, boxes[0], 1024)
    moov = next((b for b in boxes if b.type == b"moov"), None)
    if moov is None or moov.end > eof:
        return layout
    movie_ts = 0
    in_moov = children(f, moov, eof)
    layout.moov_children = tuple(c.type for c in in_moov)
    for c in in_moov:
        if c.type == b"mvhd" and not layout.mvhd:
            layout.mvhd = read_payload(f, c, 128)
            movie_ts = _mvhd_timescale(layout.mvhd)
    for trak in find_path(f, [moov], [b"moov", b"trak"], eof):
        track = TrackLayout()
        media_ts = 0
        elst_boxes: list[Box] = []
        for c in children(f, trak, eof):
            if c.type == b"tkhd":
                track.boxes[b"tkhd"] = read_payload(f, c, 128)
            elif c.type == b"edts":
                elst_boxes = [e for e in children(f, c, eof) if e.type == b"elst"]
            elif c.type == b"mdia":
                for m in children(f, c, eof):
                    if m.type == b"mdhd":
                        track.boxes[b"mdhd"] = read_payload(f, m, 64)
                        media_ts, dur = _mdhd(track.boxes[b"mdhd"])
                        track.timescale = media_ts
                        if media_ts:
                            track.declared_duration = dur / media_ts
                        if media_ts and dur not in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
                            track.media_duration = dur / media_ts
                    elif m.type == b"hdlr":
                        track.handler = read_payload(f, m, 64)[8:12].decode("latin-1")
                    elif m.type == b"minf":
                        for stbl in find_path(f, [m], [b"minf", b"stbl"], eof):
                            tables = {
                                s.type: read_payload(f, s)
                                for s in children(f, stbl, eof)
                                if s.type in TABLE_ENTRIES or s.type == b"stsd"
                            }
                            _read_tables(track, tables)
                            track.boxes.update(tables)
                            if track.problem:
                                continue
                            track.data_end = _data_end(tables)
                            track.channels = _sample_entry_channels(tables.get(b"stsd", b""))
        for e in elst_boxes:
            track.has_elst = True
            track.edits.extend(_elst(read_payload(f, e), movie_ts, media_ts))
        layout.tracks.append(track)
    return layout


def edits_change_timeline(track: TrackLayout, tolerance: float) -> bool:
    """True when a track's edit list really cuts, shifts or re-times its media.

    Harmless (False): no edit list; an optional leading empty edit of at most
    `tolerance` seconds (a small audio/video start offset), then ONE edit at
    rate 1 that skips at most `tolerance` seconds of media at the start (AAC
    priming, B-frame reordering delay: what ffmpeg writes on nearly every MP4)
    and plays the media to within `tolerance` of its end.
    Timeline-changing (True): a longer empty edit (a gap), several media
    edits, a rate other than 1, or a single edit that skips or cuts more than
    `tolerance` seconds.
    """
    edits = list(track.edits)
    if not edits:
        return False
    if edits[0].media_time is None and edits[0].segment_duration <= tolerance:
        edits = edits[1:]
    if len(edits) != 1:
        return len(edits) > 1
    (edit,) = edits
    if edit.media_time is None or abs(edit.rate - 1.0) > 1e-6:
        return True
    if edit.media_time > tolerance:
        return True
    if track.media_duration and edit.segment_duration > 0:
        played_to = edit.media_time + edit.segment_duration
        if played_to < track.media_duration - tolerance:
            return True
    return False


# ---------------------------------------------------------------- HEIF / AVIF


@dataclass
class ItemProperties:
    """Properties of a HEIF/AVIF file's image items (the first of each kind)."""

    bits: int | None = None  # pixi: bits per channel
    nclx: tuple[int, int, int] | None = None  # colr nclx: primaries, transfer, matrix
    icc: bool = False  # colr prof/rICC
    rotation: int | None = None  # irot: counter-clockwise quarter turns
    mirror: int | None = None  # imir axis
    past_eof: str | None = None


def item_properties(f: BinaryIO) -> ItemProperties:
    eof = file_size(f)
    boxes = top_level(f)
    props = ItemProperties()
    for b in boxes:
        if b.end > eof and props.past_eof is None:
            props.past_eof = b.type.decode("latin-1")
    for p in find_path(f, boxes, [b"meta", b"iprp", b"ipco"], eof):
        for c in children(f, p, eof):
            if c.type == b"pixi" and props.bits is None:
                data = read_payload(f, c, 64)
                if len(data) >= 6 and data[4] > 0:
                    props.bits = max(data[5 : 5 + data[4]])
            elif c.type == b"colr":
                data = read_payload(f, c, 16)
                if data[:4] == b"nclx" and len(data) >= 10 and props.nclx is None:
                    props.nclx = struct.unpack(">HHH", data[4:10])
                elif data[:4] in (b"prof", b"rICC"):
                    props.icc = True
            elif c.type == b"irot" and props.rotation is None:
                props.rotation = read_payload(f, c, 4)[0] & 3
            elif c.type == b"imir" and props.mirror is None:
                props.mirror = read_payload(f, c, 4)[0] & 1
    return props

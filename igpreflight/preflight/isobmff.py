"""A tiny ISO-BMFF (MP4/MOV/HEIF/AVIF) box walker that reads box headers only.

MediaInfo does not say reliably whether an edit list changes the timeline, and
an image probe needs a few HEIF/AVIF property boxes (pixi, colr) that Pillow does
not expose. Everything here seeks past payloads; only small boxes (moov's
bookkeeping, elst, mdhd, hdlr, stco, ipco properties) are read.

The payload readers live beside it: `mp4_layout` (what the headers say),
`mp4_tables` (mvhd, mdhd, elst, stbl) and `mp4_audio_config` (channel counts).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from igpreflight.preflight.mp4_audio_config import (
    _sample_entry_channels,
    decoder_config,
    plain_boxes,
)
from igpreflight.preflight.mp4_layout import (
    Edit,
    MovieLayout,
    TrackLayout,
    edits_change_timeline,
    implausible,
)
from igpreflight.preflight.mp4_tables import (
    TABLE_ENTRIES,
    _chunk_offsets,
    _data_end,
    _elst,
    _elst_problem,
    _mdhd,
    _mvhd_timescale,
    _read_tables,
)
from igpreflight.records import record

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
    """The boxes inside `box`, each cut at its end (and at EOF): a box holds its
    children. 2,000 tracks whose stsz each declared 4 GB were each read to the end
    of the file and kept, 2.1 GB for a 1.2 MB movie (found by fuzzing)."""
    start = box.payload + (4 if box.type in FULL_CONTAINERS else 0)
    end = min(box.end, eof)
    return [
        c if c.end <= end else c._replace(size=end - c.offset) for c in iter_boxes(f, start, end)
    ]


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
            if c.type in (b"trak", b"mdat", b"moov"):
                # A trak whose size runs into the next box: ffmpeg stops at "trak/mdat
                # not at top-level" and the file has no header to read.
                track.problem = (
                    track.problem or f"trak box runs into the {c.type.decode()} box after it"
                )
            elif c.type == b"tkhd":
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
                                if s.type in TABLE_ENTRIES or s.type in (b"stsd", b"stz2")
                            }
                            _read_tables(track, tables)
                            track.boxes.update(tables)
                            if track.problem:
                                continue
                            track.data_end = _data_end(tables)
                            track.channels = _sample_entry_channels(tables.get(b"stsd", b""))
        for e in elst_boxes:
            track.has_elst = True
            edits = read_payload(f, e)
            track.problem = track.problem or _elst_problem(edits)
            if not track.problem:
                track.edits.extend(_elst(edits, movie_ts, media_ts))
        layout.tracks.append(track)
    return layout


# ---------------------------------------------------------------- HEIF / AVIF


@record(frozen=False)
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


__all__ = [
    "CONTAINERS",
    "FULL_CONTAINERS",
    "MAX_BOXES",
    "MAX_SMALL_BOX",
    "Box",
    "BoxError",
    "ItemProperties",
    "brands",
    "children",
    "file_size",
    "find_path",
    "item_properties",
    "iter_boxes",
    "movie_layout",
    "read_payload",
    "top_level",
    # Moved to mp4_layout, mp4_tables and mp4_audio_config; still importable from
    # here for probe_video, video_pieces, video_proof and mp4_native.
    "Edit",
    "MovieLayout",
    "TABLE_ENTRIES",
    "TrackLayout",
    "_chunk_offsets",
    "decoder_config",
    "edits_change_timeline",
    "implausible",
    "plain_boxes",
]

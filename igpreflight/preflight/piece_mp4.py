"""A piece of an H.264 track as an MP4 of its own, without copying a byte of it.

The piece's header (ftyp, moov, and an mdat header) is written to a small file;
ffmpeg reads it joined to the source (its `concat:` protocol), so the mdat holds
the whole source file and the piece's sample table points at the piece's
samples in it, where they are. Its samples reach the decoder byte for byte as
they do from the whole file, in the same order, with the same sample
description (avcC: the same parameter sets) and the same decode and display
time steps: only the video track, no edit list, no rotation (nothing decoded
differently, nothing to rotate). No Python thread sits in the data path.
"""

from __future__ import annotations

import struct

from igpreflight.preflight.video_pieces import Piece, Track

IDENTITY = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Run-length pairs (count, value), as stts and ctts store them."""
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v:
            out[-1] = (out[-1][0] + 1, v)
        else:
            out.append((1, v))
    return out


def _table(kind: bytes, version: int, rows: list[tuple[int, ...]], signed: bool = False) -> bytes:
    fmt = ">" + "".join(("i" if signed and j else "I") for j in range(len(rows[0])))
    flat = b"".join(struct.pack(fmt, *row) for row in rows)
    return box(kind, struct.pack(">BxxxI", version, len(rows)), flat)


def header(track: Track, piece: Piece, source_size: int) -> bytes:
    """ftyp, moov and the header of an mdat that holds the source's `source_size`
    bytes, in which the sample table finds `piece`'s samples."""
    moov = _moov(track, piece, 0)
    ftyp = box(b"ftyp", b"isom", _u32(512), b"isomiso2avc1mp41")
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + source_size)  # a 64-bit size
    base = len(ftyp) + len(moov) + len(mdat)  # where the source's first byte lands
    return ftyp + _moov(track, piece, base) + mdat


def _moov(track: Track, piece: Piece, base: int) -> bytes:
    samples = track.samples[piece.first : piece.end]
    dts = [s.dts for s in samples]
    deltas = [b - a for a, b in zip(dts, dts[1:], strict=False)]
    deltas.append(deltas[-1] if deltas else 1)
    duration = sum(deltas)
    stbl = [box(b"stsd", track.stsd), _table(b"stts", 0, _runs(deltas))]
    if track.ctts_version is not None:
        shifts = [s.cts - s.dts for s in samples]
        signed = track.ctts_version == 1
        stbl.append(_table(b"ctts", track.ctts_version, _runs(shifts), signed))
    # A warm piece inside one GOP has no sync sample: its first is named one (an
    # stss with no entry would make ffmpeg parse the stream; the decoder itself
    # does not read the flag)
    keys = [(i + 1,) for i, s in enumerate(samples) if s.key] or [(1,)]
    offsets = struct.pack(f">{len(samples)}Q", *(base + s.offset for s in samples))
    stbl += [
        _table(b"stss", 0, keys),
        _table(b"stsc", 0, [(1, 1, 1)]),  # a chunk a sample: they lie where they are
        box(b"stsz", struct.pack(">III", 0, 0, len(samples)), *(_u32(s.size) for s in samples)),
        box(b"co64", struct.pack(">II", 0, len(samples)), offsets),
    ]
    ts = track.timescale
    mdia = box(
        b"mdia",
        box(b"mdhd", struct.pack(">IIIII", 0, 0, 0, ts, duration), b"\x55\xc4\0\0"),
        box(b"hdlr", bytes(8), b"vide", bytes(12), b"\0"),
        box(
            b"minf",
            box(b"vmhd", struct.pack(">I", 1), bytes(8)),
            box(b"dinf", box(b"dref", struct.pack(">II", 0, 1), box(b"url ", _u32(1)))),
            box(b"stbl", *stbl),
        ),
    )
    tkhd = box(
        b"tkhd",
        struct.pack(">IIIIII", 3, 0, 0, 1, 0, duration),
        bytes(8 + 8),
        IDENTITY,
        struct.pack(">II", track.width << 16, track.height << 16),
    )
    mvhd = box(
        b"mvhd",
        struct.pack(">IIIII", 0, 0, 0, ts, duration),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        IDENTITY,
        bytes(24),
        _u32(2),
    )
    return box(b"moov", mvhd, box(b"trak", tkhd, mdia))


def _u32(value: int) -> bytes:
    return struct.pack(">I", value)

"""A piece of an H.264 track as a small MP4 of its own, streamed to ffmpeg's stdin.

The piece's samples reach the decoder byte for byte as they do from the whole
file, in the same order, with the same sample description (avcC: the same
parameter sets) and the same decode and display time steps: only the video
track, no edit list, no rotation (nothing to decode differently, nothing to
rotate). The movie header comes first, so ffmpeg reads it from a pipe.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from igpreflight.preflight.video_pieces import Piece, Track

IDENTITY = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
READ_BLOCK = 1 << 22  # bytes read from the source at a time


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


def header(track: Track, piece: Piece) -> bytes:
    """ftyp, moov and the mdat header of `piece` (its samples follow, in order)."""
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
    keys = [(i + 1,) for i, s in enumerate(samples) if s.key]
    stbl += [
        _table(b"stss", 0, keys),
        _table(b"stsc", 0, [(1, len(samples), 1)]),
        box(b"stsz", struct.pack(">III", 0, 0, len(samples)), *(_u32(s.size) for s in samples)),
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
            box(b"stbl", *stbl, box(b"stco", struct.pack(">II", 0, 1), b"\0\0\0\0")),
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
    ftyp = box(b"ftyp", b"isom", _u32(512), b"isomiso2avc1mp41")
    moov = box(b"moov", mvhd, box(b"trak", tkhd, mdia))
    data = sum(s.size for s in samples)
    if 8 + data > 0xFFFFFFFF:
        mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + data)  # a 64-bit size
    else:
        mdat = struct.pack(">I4s", 8 + data, b"mdat")
    start = len(ftyp) + len(moov) + len(mdat)
    # the one chunk offset is the last 4 bytes of stco, the last box of moov
    moov = moov[:-4] + _u32(start)
    return ftyp + moov + mdat


def _u32(value: int) -> bytes:
    return struct.pack(">I", value)


def stream(fd: int, track: Track, piece: Piece) -> Iterator[bytes]:
    """The piece as an MP4: its header, then its samples' bytes read from `fd`."""
    yield header(track, piece)
    samples = track.samples[piece.first : piece.end]
    i = 0
    while i < len(samples):
        start = samples[i].offset
        end = start + samples[i].size
        i += 1
        while i < len(samples) and samples[i].offset == end and end - start < READ_BLOCK:
            end += samples[i].size
            i += 1
        at = start
        while at < end:
            data = os.pread(fd, min(READ_BLOCK, end - at), at)
            if not data:
                raise OSError("the file got shorter while it was read")
            yield data
            at += len(data)

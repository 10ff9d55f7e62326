"""Readers of the small movie box payloads: mvhd, mdhd, elst and the stbl sample tables.

Each one decodes bytes the walker has already read (no file access), and never
trusts a declared entry count beyond what its box holds: a crafted count of 2^32-1
is a `problem` on the track, not a loop.
"""

from __future__ import annotations

import array
import struct
import sys

from igpreflight.preflight.mp4_layout import Edit, TrackLayout


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


def _elst_problem(data: bytes) -> str | None:
    """Why an edit list cannot be read as declared: more entries than its box holds.
    MediaInfo believed a count of 2^31-1 in a 28-byte elst and took 400 MB for an
    11 KB file (found by fuzzing); no writer makes such a box."""
    if len(data) < 8:
        return "elst box is too short"
    step = 20 if data[0] == 1 else 12
    (count,) = struct.unpack(">I", data[4:8])
    if count * step > len(data) - 8:
        return f"elst declares {count:,} edits but its box holds {(len(data) - 8) // step:,}"
    return None


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


def _count(tables: dict[bytes, bytes], kind: bytes) -> int:
    """A sample table's entry count (stsz: its sample count); 0 when it is missing."""
    header = TABLE_ENTRIES[kind][0]
    data = tables.get(kind, b"")
    return struct.unpack(">I", data[header - 4 : header])[0] if len(data) >= header else 0


def _missing_table(tables: dict[bytes, bytes]) -> str | None:
    """Which mandatory table a track with samples lacks, as ffmpeg's MOV reader
    decides ("missing mandatory atoms, broken header": the stream has no codec
    parameters and a copy of it has no video). Fragmented tracks have none of them."""
    sizes = b"stz2" in tables or _count(tables, b"stsz")
    chunks = _count(tables, b"stco") or _count(tables, b"co64")
    if not chunks:
        return "samples have no chunk offset table (stco/co64)" if sizes else None
    for kind in (b"stts", b"stsc"):
        if not _count(tables, kind):
            return f"samples have no {kind.decode()} table"
    return None if sizes else "samples have no sample size table (stsz/stz2)"


def _read_tables(track: TrackLayout, tables: dict[bytes, bytes]) -> None:
    """Fill the track's sample facts from its stbl tables, or its `problem`."""
    for kind, data in tables.items():
        if kind in TABLE_ENTRIES:
            track.problem = track.problem or _table_problem(kind, data)
    track.problem = track.problem or _missing_table(tables)
    if track.problem:
        return
    sizes = _samples(tables.get(b"stsz", b""))
    if sizes is not None:
        track.sample_count, track.sample_bytes = sizes
    timing = _stts(tables.get(b"stts", b""))
    if timing is not None:
        track.sample_units = timing[1]

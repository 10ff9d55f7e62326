"""Structure-aware mutants of real media: one field of one structure made hostile.

Each operator knows the structure it breaks (ISO-BMFF boxes and sample tables,
avcC's SPS, a JPEG's EXIF IFDs, PNG chunks, RIFF/WebP, Matroska and TS headers),
so a mutant passes the first checks and reaches the code that trusts the field.
`mutants(data, kind, rng)` yields (name, bytes); `run_cli.py` feeds them to the CLI.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Iterator

from igpreflight.preflight import isobmff

DESCEND = isobmff.CONTAINERS | {b"moov", b"meta"}
HOSTILE_U32 = (0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x23000001)
TABLES = (b"stts", b"ctts", b"stsc", b"stsz", b"stco", b"co64", b"stss", b"elst", b"sdtp")


def boxes(data: bytes) -> list[isobmff.Box]:
    f, found = io.BytesIO(data), []

    def walk(start: int, end: int) -> None:
        try:
            for box in isobmff.iter_boxes(f, start, end):
                found.append(box)
                if box.type in DESCEND:
                    walk(box.payload + (4 if box.type == b"meta" else 0), min(box.end, end))
                if box.type == b"stsd":
                    walk(box.payload + 8 + 86, min(box.end, end))  # the first sample entry's boxes
        except isobmff.BoxError:
            pass

    walk(0, len(data))
    return found


def _put(data: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    if at >= 0 and at + struct.calcsize(fmt) <= len(out):
        struct.pack_into(fmt, out, at, value)
    return bytes(out)


def mp4_mutants(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    tree = boxes(data)
    for box in tree:
        kind = box.type.decode("latin-1")
        for value in (0, 1, 7, 9, box.size + 1, box.size - 1, 0xFFFFFFFF):
            yield f"{kind}@{box.offset}-size-{value}", _put(data, box.offset, ">I", value)
        # a 64-bit size: huge, or just the box (header 16 bytes: the payload shifts)
        big = bytearray(data)
        struct.pack_into(">I", big, box.offset, 1)
        yield (
            f"{kind}@{box.offset}-size64-huge",
            bytes(big[: box.offset + 8])
            + struct.pack(">Q", 1 << 62)
            + bytes(big[box.offset + 8 :]),
        )
        if box.type in TABLES:
            for value in HOSTILE_U32:
                yield f"{kind}-count-{value:#x}", _put(data, box.payload + 4, ">I", value)
            for _k in range(3):
                at = box.payload + 8 + 4 * rng.randrange(0, max(1, (box.size - 16) // 4))
                value = rng.choice(HOSTILE_U32)
                yield f"{kind}-entry@{at}-{value:#x}", _put(data, at, ">I", value)
            if box.type == b"stsz":
                yield "stsz-uniform-huge", _put(data, box.payload + 4, ">I", 0x7FFFFFFF)
        if box.type in (b"mdhd", b"mvhd"):
            for value in (0, 1, 0xFFFFFFFF):
                yield f"{kind}-timescale-{value:#x}", _put(data, box.payload + 12, ">I", value)
                yield f"{kind}-duration-{value:#x}", _put(data, box.payload + 16, ">I", value)
            yield f"{kind}-version1", _put(data, box.payload, ">B", 1)
        if box.type == b"tkhd":
            for off in (20, 40, 44, 52, 56, 76, 80):
                for value in (0, 0x80000000, 0xFFFFFFFF):
                    yield f"tkhd+{off}-{value:#x}", _put(data, box.payload + off, ">I", value)
            yield "tkhd-version1", _put(data, box.payload, ">B", 1)
        if box.type == b"stsd":
            entry = box.payload + 8
            for off, fmt in ((32, ">H"), (34, ">H"), (24, ">H"), (82, ">H"), (0, ">I")):
                for value in (0, 0xFFFF if fmt == ">H" else 0xFFFFFFFF, 1):
                    yield f"stsd+{off}-{value:#x}", _put(data, entry + off, fmt, value)
        if box.type == b"avcC":
            yield from _avcc_mutants(data, box, rng)
        if box.type == b"esds":
            for _k in range(8):
                at = box.payload + rng.randrange(4, max(5, box.size - 8))
                yield f"esds-byte@{at}", _put(data, at, ">B", rng.choice((0, 0x7F, 0x80, 0xFF)))
        if box.type in (b"hdlr", b"colr", b"pasp", b"pixi", b"irot", b"imir", b"ispe"):
            for at in range(box.payload, min(box.end, box.payload + 16), 4):
                yield f"{kind}-{at}-ff", _put(data, at, ">I", 0xFFFFFFFF)
            yield f"{kind}-empty", _put(data, box.offset, ">I", 8)
    # nesting and repetition
    moov = next((b for b in tree if b.type == b"moov"), None)
    if moov is not None:
        body = data[moov.payload : moov.end]
        nested = body
        for _ in range(2000):
            nested = struct.pack(">I4s", len(nested) + 8, b"trak") + nested
        yield (
            "moov-nested-trak",
            data[: moov.offset]
            + struct.pack(">I4s", len(nested) + 8, b"moov")
            + nested
            + data[moov.end :],
        )
        traks = [b for b in tree if b.type == b"trak"]
        if traks:
            t = data[traks[0].offset : traks[0].end]
            many = body + t * 3000
            yield (
                "moov-3000-traks",
                data[: moov.offset]
                + struct.pack(">I4s", len(many) + 8, b"moov")
                + many
                + data[moov.end :],
            )
    for cut in sorted({rng.randrange(8, len(data)) for _ in range(6)}):
        yield f"cut-{cut}", data[:cut]


def _avcc_mutants(data: bytes, box: isobmff.Box, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    p = box.payload
    yield "avcC-lengthsize-0", _put(data, p + 4, ">B", 0xFC)
    yield "avcC-nsps-0", _put(data, p + 5, ">B", 0xE0)
    yield "avcC-nsps-31", _put(data, p + 5, ">B", 0xFF)
    yield "avcC-spslen-huge", _put(data, p + 6, ">H", 0xFFFF)
    sps_len = struct.unpack(">H", data[p + 6 : p + 8])[0]
    sps_at = p + 8
    for name, sps in hostile_sps().items():
        body = sps[:sps_len].ljust(sps_len, b"\x00") if len(sps) <= sps_len else None
        if body is not None:
            yield f"avcC-sps-{name}", data[:sps_at] + body + data[sps_at + sps_len :]
    for _k in range(12):
        at = sps_at + 1 + rng.randrange(0, max(1, sps_len - 1))
        yield f"avcC-sps-byte@{at}", _put(data, at, ">B", rng.randrange(256))


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, v: int) -> None:
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, v: int) -> None:
        v += 1
        n = v.bit_length()
        self.u(n - 1, 0)
        self.u(n, v)

    def done(self) -> bytes:
        bits = self.bits + [1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def sps(
    width_mbs: int = 6,
    height_units: int = 4,
    crop=(0, 0, 0, 0),
    profile: int = 100,
    chroma: int = 1,
    sar: tuple[int, int] | None = None,
    log2_frame: int = 0,
    frame_mbs_only: int = 1,
) -> bytes:
    """An SPS NAL unit (header byte first) with the given fields, as many as wanted
    out of range."""
    w = _BitWriter()
    w.u(8, profile), w.u(8, 0), w.u(8, 30), w.ue(0)
    if profile in (100, 110, 122, 244):
        w.ue(chroma)
        if chroma == 3:
            w.u(1, 0)
        w.ue(0), w.ue(0), w.u(1, 0), w.u(1, 0)
    w.ue(log2_frame), w.ue(2), w.ue(0)  # log2_max_frame_num-4, poc type 2, ref frames
    w.u(1, 0), w.ue(width_mbs - 1), w.ue(height_units - 1), w.u(1, frame_mbs_only)
    if not frame_mbs_only:
        w.u(1, 0)
    w.u(1, 1)
    w.u(1, 1 if any(crop) else 0)
    if any(crop):
        for c in crop:
            w.ue(c)
    w.u(1, 1 if sar else 0)
    if sar:
        w.u(1, 1), w.u(8, 255), w.u(16, sar[0]), w.u(16, sar[1])
        w.u(1, 0), w.u(1, 0), w.u(1, 0), w.u(1, 0), w.u(1, 0), w.u(1, 0), w.u(1, 0)
    return b"\x67" + w.done()


def hostile_sps() -> dict[str, bytes]:
    return {
        "crop-to-zero": sps(crop=(24, 24, 0, 0)),
        "crop-negative": sps(crop=(1000, 0, 1000, 0)),
        "sar-x-0": sps(sar=(0, 7)),
        "sar-0-x": sps(sar=(7, 0)),
        "huge": sps(width_mbs=1 << 20, height_units=1 << 20),
        "chroma-7": sps(chroma=7),
        "log2-frame-huge": sps(log2_frame=1000),
        "fields": sps(frame_mbs_only=0),
    }


# ---------------------------------------------------------------- images


def exif_mutants(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    at = data.find(b"Exif\x00\x00")
    if at < 0:
        return
    tiff = at + 6
    order = "<" if data[tiff : tiff + 2] == b"II" else ">"
    (first,) = struct.unpack(order + "I", data[tiff + 4 : tiff + 8])
    yield "exif-ifd0-self-loop", _put(data, tiff + 4, order + "I", 8)
    yield "exif-ifd0-past-end", _put(data, tiff + 4, order + "I", 0xFFFFFFF0)
    d = tiff + first
    yield "exif-count-max", _put(data, d, order + "H", 0xFFFF)
    count = struct.unpack(order + "H", data[d : d + 2])[0] if d + 2 <= len(data) else 0
    yield "exif-next-loop", _put(data, d + 2 + 12 * count, order + "I", first)
    for k in range(min(count, 40)):
        e = d + 2 + 12 * k
        yield f"exif-entry{k}-count-max", _put(data, e + 4, order + "I", 0xFFFFFFFF)
        yield f"exif-entry{k}-offset-past", _put(data, e + 8, order + "I", 0xFFFFFF00)
        yield f"exif-entry{k}-type-{k % 14}", _put(data, e + 2, order + "H", k % 14)
        yield (
            f"exif-entry{k}-to-exififd-loop",
            _put(_put(data, e, order + "H", 0x8769), e + 8, order + "I", first),
        )
    seg = at - 4
    yield "app1-length-0", _put(data, seg, ">H", 0)
    yield "app1-length-max", _put(data, seg, ">H", 0xFFFF)


def png_mutants(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    pos = 8
    while pos + 12 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        kind = ctype.decode("latin-1")
        for value in (0, 0x7FFFFFFF, 0xFFFFFFFF, length + 1):
            yield f"png-{kind}@{pos}-len-{value:#x}", _put(data, pos, ">I", value)
        if ctype in (b"IHDR", b"acTL", b"fcTL", b"cICP", b"eXIf"):
            for off in range(0, min(length, 24), 4):
                for value in (0, 0x7FFFFFFF, 0xFFFFFFFF):
                    yield f"png-{kind}+{off}-{value:#x}", _put(data, pos + 8 + off, ">I", value)
        pos += 12 + length
    yield (
        "png-many-chunks",
        data[:33] + b"\x00\x00\x00\x00tEXt\x00\x00\x00\x00" * 200_000 + data[33:],
    )


def riff_mutants(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for value in (0, 4, 0xFFFFFFFF, len(data)):
        yield f"riff-size-{value:#x}", _put(data, 4, "<I", value)
    pos = 12
    while pos + 8 <= len(data):
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        kind = data[pos : pos + 4].decode("latin-1")
        for value in (0, 0xFFFFFFFF, length + 1):
            yield f"riff-{kind}@{pos}-len-{value:#x}", _put(data, pos + 4, "<I", value)
        for _k in range(4):
            at = pos + 8 + rng.randrange(0, max(1, min(length, 64)))
            yield (
                f"riff-{kind}-byte@{at}",
                _put(data, at, ">B", rng.choice((0, 0xFF, rng.randrange(256)))),
            )
        pos += 8 + length + (length & 1)
        if pos > 1 << 20:
            break


def byte_mutants(
    data: bytes, rng: random.Random, n: int, head: int = 4096
) -> Iterator[tuple[str, bytes]]:
    """Header bytes (Matroska EBML sizes, TS packets, JPEG markers...) set to 0/FF/random."""
    for k in range(n):
        out = bytearray(data)
        for _ in range(rng.choice((1, 2, 4, 8))):
            at = rng.randrange(0, min(len(out), head))
            out[at] = rng.choice((0, 0xFF, 0x01, 0x80, 0x7F, rng.randrange(256)))
        yield f"bytes-{k}", bytes(out)


def mutants(data: bytes, kind: str, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    if kind == "mp4":
        yield from mp4_mutants(data, rng)
    elif kind == "jpeg":
        yield from exif_mutants(data, rng)
        yield from byte_mutants(data, rng, 20)
    elif kind == "png":
        yield from png_mutants(data, rng)
    elif kind == "riff":
        yield from riff_mutants(data, rng)
    else:
        yield from byte_mutants(data, rng, 40)

"""The one H.264 video track of an MP4, read from its sample tables, for cutting
into pieces (`video_pieces`), or Whole: why the stream must be decoded in one go.

It reads stsd, stsz, stco/co64, stsc, stts, ctts, stss and the edit list, never a
sample's bytes: where each sample lies, when it is decoded and shown, which ones
are keyframes. Its own module because walking the container is one job (and
`piece_mp4` writes a piece's movie header from the same Track), apart from
reading the H.264 inside the samples (`avc_nal`) and choosing cuts. The decode
work before each sample (`_work_before`), which cuts are balanced on, is a
measure of the track too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from igpreflight.preflight import isobmff
from igpreflight.preflight.mp4_timing import sample_sizes
from igpreflight.records import record

COVER_ART = b"covr"  # iTunes metadata's picture: an attached picture stream to ffmpeg
MAX_MOOV_READ = 64 << 20  # bytes of moov searched for it (larger: decoded whole)
EDGE = 1e-3  # seconds: an edit this close to a picture's start leaves its fate unclear


class Whole(ValueError):
    """This stream is decoded whole (the reason says why, for tests and debugging)."""


@dataclass(frozen=True)
class Sample:
    """One video sample: where it lies, when it is decoded and shown."""

    offset: int
    size: int
    dts: int  # decode time, mdhd units
    cts: int  # composition (display) time, mdhd units
    key: bool


@record
class Track:
    """The video track's samples and what a piece's own movie header needs."""

    samples: tuple[Sample, ...]
    timescale: int
    stsd: bytes  # the sample description, copied into every piece
    ctts_version: int | None  # None: no ctts (display order is decode order)
    width: int
    height: int


def read_track(f: BinaryIO) -> Track:
    """The single H.264 video track's samples, or Whole."""
    size = isobmff.file_size(f)
    layout = isobmff.movie_layout(f)
    if layout.moov_offset is None or layout.fragmented or layout.past_eof:
        raise Whole("not a whole, plain MP4/MOV")
    if any(t.problem for t in layout.tracks):
        raise Whole("a sample table cannot be true")
    f.seek(layout.moov_offset)
    head = f.read(16)
    moov_size = int.from_bytes(head[:4], "big")
    if moov_size == 1:
        moov_size = int.from_bytes(head[8:16], "big")
    f.seek(layout.moov_offset)
    if COVER_ART in f.read(min(moov_size, MAX_MOOV_READ)) or moov_size > MAX_MOOV_READ:
        raise Whole("cover art (ffmpeg decodes it as one more video stream), or a huge moov")
    videos = [t for t in layout.tracks if t.handler == "vide"]
    if len(videos) != 1:
        raise Whole(f"{len(videos)} video tracks")
    (video,) = videos
    boxes = video.boxes
    stsd = boxes.get(b"stsd", b"")
    if len(stsd) < 16 or struct.unpack(">I", stsd[4:8])[0] != 1 or stsd[12:16] != b"avc1":
        raise Whole("not one avc1 sample description")
    if b"avcC" not in stsd:
        raise Whole("no avcC")
    if not video.timescale:
        raise Whole("no timescale")
    samples = _samples(boxes, video.timescale)
    if any(s.offset + s.size > size for s in samples):
        raise Whole("a sample lies past the end of the file")
    _check_edits(video, samples)
    width, height = struct.unpack(">HH", stsd[16 + 24 : 16 + 28])
    version = boxes[b"ctts"][0] if b"ctts" in boxes else None
    return Track(tuple(samples), video.timescale, stsd, version, width, height)


def _table(data: bytes, header: int, fields: int) -> list[tuple[int, ...]]:
    (count,) = struct.unpack(">I", data[header - 4 : header])
    flat = struct.unpack(f">{count * fields}I", data[header : header + 4 * fields * count])
    return [flat[i : i + fields] for i in range(0, len(flat), fields)]


def _samples(boxes: dict[bytes, bytes], timescale: int) -> list[Sample]:
    if b"stsz" not in boxes or b"stsc" not in boxes or b"stts" not in boxes:
        raise Whole("missing sample tables")
    sizes = sample_sizes(boxes[b"stsz"])
    wide = b"co64" in boxes
    chunks = isobmff._chunk_offsets(boxes[b"co64" if wide else b"stco"], wide)
    runs = _table(boxes[b"stsc"], 8, 3)
    if any(desc != 1 for _, _, desc in runs):
        raise Whole("several sample descriptions")
    if any(b[0] <= a[0] for a, b in zip(runs, runs[1:], strict=False)):
        # Runs that go back (1, 2^31, 1, 2^31...) each covered every chunk again:
        # 20,000 runs over 100,000 chunks kept `check --deep` busy for minutes.
        raise Whole("stsc's first chunks do not increase")
    offsets: list[int] = []
    for n, (first, per_chunk, _) in enumerate(runs):
        last = runs[n + 1][0] - 1 if n + 1 < len(runs) else len(chunks)
        for chunk in range(first - 1, min(last, len(chunks))):
            if len(offsets) == len(sizes):
                break
            at = chunks[chunk]
            for _ in range(min(per_chunk, len(sizes) - len(offsets))):
                offsets.append(at)
                at += sizes[len(offsets) - 1]
    deltas = _per_sample(_table(boxes[b"stts"], 8, 2), len(sizes), "stts")
    shifts = [0] * len(sizes)
    if b"ctts" in boxes:
        signed = boxes[b"ctts"][0] == 1
        shifts = [
            o - (1 << 32) if signed and o >= 1 << 31 else o
            for o in _per_sample(_table(boxes[b"ctts"], 8, 2), len(sizes), "ctts")
        ]
    if not (len(offsets) == len(deltas) == len(shifts) == len(sizes)):
        raise Whole("the sample tables disagree on the number of samples")
    keys = set(range(len(sizes)))
    if b"stss" in boxes:
        keys = {i - 1 for (i,) in _table(boxes[b"stss"], 8, 1)}
    out, dts = [], 0
    for i, size in enumerate(sizes):
        out.append(Sample(offsets[i], size, dts, dts + shifts[i], i in keys))
        dts += deltas[i]
    return out


def _per_sample(runs: list[tuple[int, ...]], samples: int, name: str) -> list[int]:
    """A run-length table ((count, value) entries: stts, ctts) as one value a sample.

    Whole unless its counts add up to stsz's samples: a 24-byte table may count
    2^32-1 samples, and expanding that before comparing took gigabytes (found by
    fuzzing)."""
    counted = sum(count for count, _ in runs)
    if counted != samples:
        raise Whole(f"{name} counts {counted:,} samples, stsz {samples:,}")
    return [value for count, value in runs for _ in range(count)]


def _check_edits(track: isobmff.TrackLayout, samples: list[Sample]) -> None:
    """Whole unless the edit list keeps every sample (ffmpeg leaves out the ones an
    edit drops: a whole decode never sees them, a piece would)."""
    edits = list(track.edits)
    if edits and edits[0].media_time is None:
        edits = edits[1:]  # a leading empty edit only delays the track
    if not edits:
        if track.has_elst and track.edits:
            raise Whole("an edit list with no media")
        return
    if len(edits) != 1 or edits[0].media_time is None or abs(edits[0].rate - 1) > 1e-9:
        raise Whole("an edit list that cuts or re-times the media")
    assert track.timescale
    first = min(s.cts for s in samples) / track.timescale
    last = max(s.cts for s in samples) / track.timescale
    start = edits[0].media_time
    end = start + edits[0].segment_duration
    if start > first + EDGE / 10 or end < last + EDGE:
        raise Whole("an edit list that leaves samples out")


def _work_before(track: Track) -> list[float]:
    """The decode work (half bytes, half pictures) before each sample, 0..1."""
    samples = track.samples
    total = len(samples)
    before, running = [0], 0
    for s in samples:
        running += s.size
        before.append(running)
    return [(before[k] / (running or 1) + k / total) / 2 for k in range(total + 1)]

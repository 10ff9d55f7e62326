"""Where an MP4's H.264 stream can be cut into pieces that decode on their own.

The proof that a copied video decodes is a full one-thread decode (one thread
keeps the verdict on damaged data deterministic), and on a 10 s 1080p clip it is
the whole critical path of a remux. An H.264 IDR picture empties the decoder:
no picture after it refers to one before it, and every picture before it is
shown before it. So the stream cut at IDR pictures gives pieces that decode,
each from its own start, exactly as they decode inside the whole stream, and
they can decode side by side (`video_proof`).

A GOP much longer than a piece (the generator's clips: IDR pictures at 0 and 250
of 300) would leave one piece with most of the work, so such a GOP may also be
cut before a P picture: a "warm" piece, which a decoder starts without the
pictures the first ones refer to. Why its pass can count:
- what fails a decode (-xerror, -err_detect explode) is the entropy decode of
  slice headers and macroblocks (CAVLC or CABAC, whose contexts start afresh at
  every slice), which reads the slice's own bits and its neighbours in the same
  picture, never a reference picture's pixels: a warm decoder reads the very
  same bits with the very same parameter sets and meets the same errors;
- the references it lacks are the frame_num gap ffmpeg fills (silently, at
  debug level) with gray pictures under the missing frame_nums, as many as the
  SPS allows references, so past WARM_AFTER_IDR pictures into a GOP the
  reference lists hold the same frame_nums as the whole decode's, and a slice
  that names a missing reference fails both; the gap is filled down to
  frame_num 1 and never wraps, so a cut whose frame_num is not above the number
  of references is not taken (`_warm_start`; such a start failed spuriously);
- the pictures before the next IDR are decoded but not output (ffmpeg outputs
  no picture before a recovery point), so the "corrupt decoded frame" check the
  whole decode makes on output pictures cannot run there; that check fires only
  on error concealment, which ffmpeg says at info level ("concealing ..."), and
  a warm piece logs at that level and fails on it (`ffmpeg_decode.WARM_LOG`: a
  picture with a slice missing fails both ways, tests/test_video_warm.py); a
  warm piece that ends before the next IDR outputs nothing, and ffmpeg's two
  warnings that say so are not damage;
- pictures reordered (B-frames) bring memory management operations a warm
  start cannot follow ("mmco: unref short failure" on a sound b-pyramid stream),
  so only streams of frames (no fields) that reorder nothing are cut warm.
A warm piece that fails proves nothing (its warm start may be why), so then the
whole decode gives the verdict and the complaint (`video_proof`): a spurious
failure only costs time.

This module only reads the sample tables (stss, stsz, stco/stsc, stts, ctts,
elst) and the first NAL units of each keyframe; it decodes nothing. It answers
with the pieces, or with why the stream must be decoded whole:
- not a plain MP4/MOV (fragments, a box past the end, a table that cannot be
  true), not exactly one video track, cover art (ffmpeg decodes it as one more
  video stream), not `avc1` with its parameter sets in
  avcC, several sample descriptions, a sample past the end of the file;
- fewer than two keyframes, a keyframe that is not an IDR picture (an open-GOP
  recovery point: the pictures after it may refer to the ones before), a
  parameter set in the stream that avcC does not hold (a piece after it would
  not see it);
- a picture of one piece shown after the first picture of the next (B-frame
  reordering across the cut; a warm cut needs a stream that reorders nothing);
- an edit list that drops samples (several edits, a rate other than 1, an edit
  that starts after the first picture or ends before the last): ffmpeg does not
  decode samples an edit leaves out, and a piece would.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_left
from dataclasses import dataclass
from typing import BinaryIO

from igpreflight.preflight import h264, isobmff
from igpreflight.preflight.mp4_timing import sample_sizes

# NAL unit types of an H.264 picture's slices: 5 is an IDR picture, 1-4 others.
IDR, FIRST_VCL, LAST_VCL = 5, 1, 5
PARAMETER_SETS = (7, 8)  # SPS, PPS
NAL_HEADS_READ = 64  # NAL units looked at before a keyframe's first slice, at most
COVER_ART = b"covr"  # iTunes metadata's picture: an attached picture stream to ffmpeg
MAX_MOOV_READ = 64 << 20  # bytes of moov searched for it (larger: decoded whole)
EDGE = 1e-3  # seconds: an edit this close to a picture's start leaves its fate unclear
# Warm cuts (inside a GOP): only in a GOP with more than LONG_GOP pieces' share of
# the work, at a P (0) or non-IDR I (2) picture this far past the IDR (16, H.264's
# most reference frames, +1: the whole decode's references are all real there),
# and taken over an IDR cut only when it is WARM_BETTER nearer an equal share.
LONG_GOP = 1.5
WARM_AFTER_IDR = 17
WARM_SLICES = (0, 2)
WARM_BETTER = 0.05
WARM_SCAN = 32  # pictures looked at on each side of an equal share for a warm cut


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


@dataclass(frozen=True)
class Track:
    """The video track's samples and what a piece's own movie header needs."""

    samples: tuple[Sample, ...]
    timescale: int
    stsd: bytes  # the sample description, copied into every piece
    ctts_version: int | None  # None: no ctts (display order is decode order)
    width: int
    height: int


@dataclass(frozen=True)
class Piece:
    """A run of samples decoded on its own, from an IDR picture or (warm) a P picture."""

    first: int  # index of its first sample (an IDR picture, or a P picture if warm)
    end: int  # one past its last sample
    warm: bool = False  # starts inside a GOP: only its pass counts (module docstring)

    def start_seconds(self, track: Track) -> float:
        return track.samples[self.first].cts / track.timescale


def split(path: str | os.PathLike[str], pieces: int) -> tuple[Track, list[Piece]]:
    """The video track of `path` and at most `pieces` runs of whole GOPs, of about
    equal decode work; raises Whole when the stream must be decoded in one go."""
    with open(path, "rb") as f:
        track = read_track(f)
        keys = [i for i, s in enumerate(track.samples) if s.key]
        if len(keys) < 2 or keys[0] != 0:
            raise Whole("fewer than two keyframes, or none first")
        for i in keys:
            if not _starts_with_idr(f, track, track.samples[i]):
                raise Whole(f"sample {i + 1} is a keyframe but not an IDR picture")
        _check_parameter_sets(f, track)
        _check_display_order(track, keys)
        warm = _warm_cuts(f, track, keys, max(1, pieces))
    return track, _balanced(track, keys, max(1, pieces), warm)


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
    offsets: list[int] = []
    for n, (first, per_chunk, _) in enumerate(runs):
        last = runs[n + 1][0] - 1 if n + 1 < len(runs) else len(chunks)
        for chunk in range(first - 1, min(last, len(chunks))):
            at = chunks[chunk]
            for _ in range(per_chunk):
                if len(offsets) == len(sizes):
                    break
                offsets.append(at)
                at += sizes[len(offsets) - 1]
    deltas = [d for count, d in _table(boxes[b"stts"], 8, 2) for _ in range(count)]
    shifts = [0] * len(sizes)
    if b"ctts" in boxes:
        signed = boxes[b"ctts"][0] == 1
        shifts = [
            (o - (1 << 32) if signed and o >= 1 << 31 else o)
            for count, o in _table(boxes[b"ctts"], 8, 2)
            for _ in range(count)
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


def _starts_with_idr(f: BinaryIO, track: Track, sample: Sample) -> bool:
    """Whether the sample's first slice NAL unit is an IDR picture's."""
    length_size = _length_size(track.stsd)
    pos, end = sample.offset, sample.offset + sample.size
    for _ in range(NAL_HEADS_READ):
        if pos + length_size + 1 > end:
            return False
        f.seek(pos)
        head = f.read(length_size + 1)
        if len(head) < length_size + 1:
            return False
        nal_type = head[-1] & 0x1F
        if FIRST_VCL <= nal_type <= LAST_VCL:
            return nal_type == IDR
        pos += length_size + int.from_bytes(head[:length_size], "big")
    return False


def _check_parameter_sets(f: BinaryIO, track: Track) -> None:
    """Whole if a sample carries a parameter set avcC does not hold: a piece after
    it would decode with avcC's instead (repeating avcC's own sets is harmless)."""
    known = _avcc_sets(track.stsd)
    length_size = _length_size(track.stsd)
    for sample in track.samples:
        pos, end = sample.offset, sample.offset + sample.size
        while pos + length_size < end:
            f.seek(pos)
            head = f.read(length_size + 1)
            size = int.from_bytes(head[:length_size], "big")
            if head[-1] & 0x1F in PARAMETER_SETS:
                f.seek(pos + length_size)
                if f.read(size) not in known:
                    raise Whole("a parameter set in the stream that avcC does not hold")
            pos += length_size + size


def _avcc_sets(stsd: bytes) -> set[bytes]:
    """The SPS and PPS NAL units of the avcC in the sample description."""
    at = stsd.index(b"avcC") + 4 + 5
    found: set[bytes] = set()
    for mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
        count = stsd[at] & mask
        at += 1
        for _ in range(count):
            size = int.from_bytes(stsd[at : at + 2], "big")
            found.add(stsd[at + 2 : at + 2 + size])
            at += 2 + size
    return found


def _length_size(stsd: bytes) -> int:
    at = stsd.index(b"avcC") + 4
    return (stsd[at + 4] & 3) + 1


def _check_display_order(track: Track, keys: list[int]) -> None:
    """Whole if a picture before a cut is shown after the first one past it."""
    samples = track.samples
    bounds = [*keys, len(samples)]
    for a, b, c in zip(bounds, bounds[1:], bounds[2:], strict=False):
        if max(s.cts for s in samples[a:b]) >= min(s.cts for s in samples[b:c]):
            raise Whole(f"pictures are reordered across the keyframe at sample {b + 1}")


def _work_before(track: Track) -> list[float]:
    """The decode work (half bytes, half pictures) before each sample, 0..1."""
    samples = track.samples
    total = len(samples)
    before, running = [0], 0
    for s in samples:
        running += s.size
        before.append(running)
    return [(before[k] / (running or 1) + k / total) / 2 for k in range(total + 1)]


def _warm_cuts(f: BinaryIO, track: Track, keys: list[int], pieces: int) -> list[int]:
    """Samples inside a GOP much longer than a piece where a warm piece may start
    (`_warm_start`), near each equal share, in a stream of frames (no fields)
    where no picture is reordered (the module docstring says why)."""
    samples = track.samples
    if pieces < 2 or len({s.cts - s.dts for s in samples}) != 1:
        return []  # B-frames reorder pictures: their MMCOs fail a warm start
    sps = _the_sps(track.stsd)
    if sps is None or not sps.frame_mbs_only or not sps.ref_frames:
        return []
    done = _work_before(track)
    bounds = [*keys, len(samples)]
    found: list[int] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if done[b] - done[a] <= LONG_GOP / pieces:
            continue
        first = a + WARM_AFTER_IDR
        for n in range(1, pieces):  # only near an equal share: a few slice headers read
            aim = bisect_left(done, n / pieces, first, b)
            before = range(min(aim, b) - 1, max(first, aim - WARM_SCAN) - 1, -1)
            after = range(max(aim, first), min(b, aim + WARM_SCAN))
            for side in (before, after):
                k = next((k for k in side if _warm_start(f, track, samples[k], sps)), None)
                if k is not None:
                    found.append(k)
    return sorted(set(found))


def _the_sps(stsd: bytes) -> h264.Sps | None:
    """avcC's one SPS, read (None: several, or one this reader does not take)."""
    sets = [s for s in _avcc_sets(stsd) if s and s[0] & 0x1F == 7]
    if len(sets) != 1:
        return None
    try:
        return h264.parse_sps(sets[0])
    except (h264.SpsError, IndexError):
        return None


def _warm_start(f: BinaryIO, track: Track, sample: Sample, sps: h264.Sps) -> bool:
    """Whether a warm piece may start at `sample`: its first slice is a reference
    P (or non-IDR I) picture's, with a frame_num past the SPS's number of
    reference frames. A fresh decoder fills the gap below it with one gray
    picture for each missing frame_num down to 1, never wrapping below 0: lower,
    its references would be fewer than the whole decode's ("Missing reference
    picture" on every clip with three references, at frame_num 0 to 2)."""
    length_size = _length_size(track.stsd)
    pos, end = sample.offset, sample.offset + sample.size
    for _ in range(NAL_HEADS_READ):
        if pos + length_size + 1 > end:
            return False
        f.seek(pos)
        head = f.read(length_size + 16)
        size = int.from_bytes(head[:length_size], "big")
        nal = head[length_size : length_size + size]
        if not nal:
            return False
        if FIRST_VCL <= nal[0] & 0x1F <= LAST_VCL:
            if nal[0] & 0x1F != 1 or not nal[0] & 0x60:  # IDR, partition, or no reference
                return False
            start = h264.slice_start(nal, sps)
            if start is None or start[0] != 0:  # not the picture's first slice
                return False
            return start[1] % 5 in WARM_SLICES and start[2] > sps.ref_frames
        pos += length_size + size
    return False


def _balanced(
    track: Track, keys: list[int], pieces: int, warm: list[int] | None = None
) -> list[Piece]:
    """Runs of whole GOPs (or, in a long GOP, from a `warm` cut), cut where the
    decode work (half bytes, half pictures) is nearest to an equal share; an IDR
    cut is preferred to a warm one unless the warm one is WARM_BETTER closer."""
    total = len(track.samples)
    done = _work_before(track)
    key_set = set(keys)
    candidates = sorted({*keys[1:], *(warm or [])})
    if not candidates:
        return [Piece(0, total)]
    cuts = [0]
    for n in range(1, pieces):
        share = n / pieces
        best = min(
            candidates,
            key=lambda k: abs(done[k] - share) + (0 if k in key_set else WARM_BETTER),
        )
        if best > cuts[-1]:
            cuts.append(best)
    cuts.append(total)
    return [Piece(a, b, a not in key_set) for a, b in zip(cuts, cuts[1:], strict=False)]

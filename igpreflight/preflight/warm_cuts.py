"""Warm cuts: where `video_pieces` may cut a long GOP before a P picture, and why
a warm piece's pass can count.

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
"""

from __future__ import annotations

from bisect import bisect_left
from typing import BinaryIO

from igpreflight.preflight import h264
from igpreflight.preflight.avc_nal import (
    _avcc_sets,
    first_slice,
)
from igpreflight.preflight.video_track import Sample, Track, _work_before

# Warm cuts (inside a GOP): only in a GOP with more than LONG_GOP pieces' share of
# the work, at a P (0) or non-IDR I (2) picture this far past the IDR (16, H.264's
# most reference frames, +1: the whole decode's references are all real there),
# and taken over an IDR cut only when it is WARM_BETTER nearer an equal share.
LONG_GOP = 1.5
WARM_AFTER_IDR = 17
WARM_SLICES = (0, 2)
WARM_BETTER = 0.05
WARM_SCAN = 32  # pictures looked at on each side of an equal share for a warm cut


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
    nal = first_slice(f, track, sample, 16)
    if nal is None or nal[0] & 0x1F != 1 or not nal[0] & 0x60:  # IDR, partition, no reference
        return False
    start = h264.slice_start(nal, sps)
    if start is None or start[0] != 0:  # not the picture's first slice
        return False
    return start[1] % 5 in WARM_SLICES and start[2] > sps.ref_frames

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
cut before a P picture: a "warm" piece (`warm_cuts` says where, and why its pass
can count).

These modules only read the sample tables (`video_track`: stss, stsz, stco/stsc, stts,
ctts, elst) and the first NAL units of each keyframe (`avc_nal`); they decode
nothing. `split` answers with the pieces, or with why the stream must be
decoded whole:
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

from igpreflight.preflight.avc_nal import _check_parameter_sets, _starts_with_idr
from igpreflight.preflight.video_track import Track, Whole, _work_before, read_track
from igpreflight.preflight.warm_cuts import WARM_BETTER, _warm_cuts
from igpreflight.records import record

# Track, Whole and read_track live in video_track; video_proof and piece_mp4 import
# them from here.
__all__ = ["Piece", "Track", "Whole", "read_track", "split"]


@record
class Piece:
    """A run of samples decoded on its own, from an IDR picture or (warm) a P picture."""

    first: int  # index of its first sample (an IDR picture, or a P picture if warm)
    end: int  # one past its last sample
    warm: bool = False  # starts inside a GOP: only its pass counts (warm_cuts's docstring)

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


def _check_display_order(track: Track, keys: list[int]) -> None:
    """Whole if a picture before a cut is shown after the first one past it."""
    samples = track.samples
    bounds = [*keys, len(samples)]
    for a, b, c in zip(bounds, bounds[1:], bounds[2:], strict=False):
        if max(s.cts for s in samples[a:b]) >= min(s.cts for s in samples[b:c]):
            raise Whole(f"pictures are reordered across the keyframe at sample {b + 1}")


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

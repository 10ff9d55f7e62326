"""What the NAL units of an avc1 track say about cutting it: whether a keyframe
is an IDR picture (which empties the decoder), and whether the stream carries a
parameter set that avcC does not hold (a piece after it would not see it).

It reads a few bytes at the head of each NAL unit and avcC's SPS and PPS; it
decodes nothing. Its own module: the H.264 bitstream, apart from the MP4 sample
tables (`video_track`) it is given the samples by.
"""

from __future__ import annotations

from typing import BinaryIO

from igpreflight.preflight.video_track import Sample, Track, Whole

# NAL unit types of an H.264 picture's slices: 5 is an IDR picture, 1-4 others.
IDR, FIRST_VCL, LAST_VCL = 5, 1, 5
PARAMETER_SETS = (7, 8)  # SPS, PPS
NAL_HEADS_READ = 64  # NAL units looked at before a keyframe's first slice, at most


def first_slice(f: BinaryIO, track: Track, sample: Sample, peek: int) -> bytes | None:
    """The first `peek` bytes (at most) of the sample's first slice NAL unit; None
    when no slice starts within NAL_HEADS_READ units or before the sample ends."""
    length_size = _length_size(track.stsd)
    pos, end = sample.offset, sample.offset + sample.size
    for _ in range(NAL_HEADS_READ):
        if pos + length_size + 1 > end:
            return None
        f.seek(pos)
        head = f.read(length_size + peek)
        size = int.from_bytes(head[:length_size], "big")
        nal = head[length_size : length_size + size]
        if not nal:
            return None
        if FIRST_VCL <= nal[0] & 0x1F <= LAST_VCL:
            return nal
        pos += length_size + size
    return None


def _starts_with_idr(f: BinaryIO, track: Track, sample: Sample) -> bool:
    """Whether the sample's first slice NAL unit is an IDR picture's."""
    nal = first_slice(f, track, sample, 1)
    return nal is not None and nal[0] & 0x1F == IDR


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

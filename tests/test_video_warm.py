"""A long GOP cut before a P picture (a warm piece, video_pieces) gives the whole
decode's verdict: damage just before and after the warm cut, inside the warm
piece before the next IDR, a slice missing (which only the whole decode's
"corrupt decoded frame" check on output pictures catches, and which a warm
piece never outputs), the last frame cut short, the file cut short; on a P-only
CAVLC clip and a P-only CABAC one with three references. Every verdict is the
whole decode's and the deblocked decode's, every complaint the whole decode's.
A clip with B-frames (b-pyramid) is never cut warm: a warm start fails on its
memory management operations even when nothing is damaged."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.preflight import (
    ffmpeg_decode,
    h264,
    piece_mp4,
    video_pieces,
    video_track,
    warm_cuts,
)
from igpreflight.preflight.ffmpeg_decode import ffmpeg_error
from igpreflight.preflight.video_pieces import Piece
from igpreflight.preflight.video_proof import Proof
from tests.test_video_proof import _samples, proved_as_whole, write_mutants

# 120 frames, IDR pictures at 0 and 100: the first GOP is 83 % of the work
COMMON = dict(width=320, height=240, fps=30, duration=4.0, bitrate="1M")
GOP = ["-g", "100"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("warm")
    return {
        # ultrafast: CAVLC, P pictures only, one reference; two slices a picture
        "cavlc": make_video(
            folder / "cavlc.mp4", **COMMON, extra_args=[*GOP, "-x264-params", "slices=2"]
        ),
        # CABAC, deblocked, P pictures only, three references
        "cabac": make_video(
            folder / "cabac.mp4",
            **COMMON,
            extra_args=["-preset", "veryfast", "-bf", "0", *GOP, "-x264-params", "slices=2:ref=3"],
        ),
        # B-frames with b-pyramid: pictures reordered
        "pyramid": make_video(
            folder / "pyramid.mp4",
            **COMMON,
            extra_args=["-preset", "veryfast", *GOP, "-x264-params", "b-pyramid=normal"],
        ),
    }


def _slices(data: bytes, offset: int, size: int) -> list[int]:
    """Where each slice NAL unit of one sample starts (its header byte)."""
    pos, found = offset, []
    while pos < offset + size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        if 1 <= data[pos + 4] & 0x1F <= 5:
            found.append(pos + 4)
        pos += 4 + length
    return found


def _mutants(clip: Path, cut: int, folder: Path) -> dict[str, Path]:
    data = clip.read_bytes()
    spans = _samples(clip)
    last = len(spans) - 1
    rng = random.Random(clip.name)
    out: dict[str, bytes] = {}
    # bits flipped in the slice data around the warm cut, inside the warm piece
    # before the next IDR (100), at that IDR, and in the last frame
    for k in sorted({cut - 2, cut - 1, cut, cut + 1, cut + 2, cut + 17, 99, 100, 101, last}):
        offset, size = spans[k]
        for n in range(3):
            damaged = bytearray(data)
            for _ in range(2):
                damaged[offset + rng.randrange(size // 5, size)] ^= 1 << rng.randrange(8)
            out[f"flip-{k}-{n}"] = bytes(damaged)
    # a slice turned into filler data: the picture misses half its macroblocks, which
    # ffmpeg conceals without an error; only the corrupt-frame check sees it
    for k in (cut, cut + 5, 99):
        damaged = bytearray(data)
        at = _slices(data, *spans[k])[1]
        damaged[at] = 12  # filler data, nal_ref_idc 0
        out[f"slice-gone-{k}"] = bytes(damaged)
    # a frame cut short inside the warm piece, and the last one (halved in stsz)
    stsz = data.index(b"stsz") + 4 + 8
    for k in (cut + 3, last):
        at = stsz + 4 * k
        (size,) = struct.unpack(">I", data[at : at + 4])
        halved = bytearray(data)
        halved[at : at + 4] = struct.pack(">I", size // 2)
        out[f"frame-cut-{k}"] = bytes(halved)
    # the file cut short in the middle of a warm piece's frame (moov in front)
    offset, size = spans[cut + 10]
    out["file-cut"] = data[: offset + size // 2]
    return write_mutants(folder, clip, out)


@pytest.mark.parametrize("kind", ["cavlc", "cabac"])
def test_a_warm_piece_says_what_the_whole_decode_says(clips, kind, tmp_path):
    clip = clips[kind]
    track, pieces = video_pieces.split(clip, 2)
    assert [p.warm for p in pieces] == [False, True]
    cut = pieces[1].first
    assert 40 <= cut <= 80 and not track.samples[cut].key
    proof = Proof(clip, 4.0, pieces=2)
    assert proof.verdict() is None and proof.piecewise and not proof.whole_run
    failed = []
    for name, mutant in _mutants(clip, cut, tmp_path).items():
        proof, said = proved_as_whole(name, mutant, 4.0, pieces=2)
        if said is not None:
            failed.append(name)
        if name.startswith("slice-gone") and int(name.rsplit("-", 1)[1]) > cut:
            assert proof.whole_run, name  # the warm piece failed: the whole decode said
    assert {"file-cut", f"frame-cut-{cut + 3}", f"frame-cut-{len(track.samples) - 1}"} <= {*failed}
    gone = [n for n in failed if n.startswith("slice-gone")]
    assert len(gone) == 3, failed
    flipped_in_warm = {n for n in failed if n.startswith("flip-") and cut <= int(n.split("-")[1])}
    assert len(flipped_in_warm) >= 6, failed


def _decode(header: bytes, source: Path, folder: Path, warm: bool) -> ffmpeg_decode.Outcome:
    head = folder / "piece.mp4"
    head.write_bytes(header)
    cmd = [*ffmpeg_decode.video_head(warm=warm), "-f", "mov", "-i", f"concat:{head}|{source}"]
    cmd += ["-map", "0:v", *ffmpeg_decode.PROGRESS]
    return ffmpeg_decode.collect(ffmpeg_decode.spawn(cmd), 30.0, True, warm)


def test_a_warm_piece_fails_on_concealment_the_error_log_does_not_show(clips, tmp_path):
    # Why a warm piece logs at info: the damaged picture lies before the next IDR,
    # so the warm piece never outputs it and ffmpeg's error log says nothing
    clip = clips["cavlc"]
    data = bytearray(clip.read_bytes())
    data[_slices(bytes(data), *_samples(clip)[70])[1]] = 12
    damaged = tmp_path / "gone.mp4"
    damaged.write_bytes(bytes(data))
    assert ffmpeg_error(damaged, 4.0, video=True).startswith("corrupt decoded frame")
    with open(damaged, "rb") as f:
        track = video_track.read_track(f)
    header = piece_mp4.header(track, Piece(60, 120, True), damaged.stat().st_size)
    quiet = _decode(header, damaged, tmp_path, warm=False)
    assert not quiet.failed  # the error log alone would have passed it
    loud = _decode(header, damaged, tmp_path, warm=True)
    assert loud.failed and any(ffmpeg_decode.CONCEALED in line for line in loud.lines)
    clean = _decode(header, clip, tmp_path, warm=True)  # the sound clip passes warm
    assert not clean.failed, clean.lines


def test_b_frames_are_never_cut_warm(clips, tmp_path):
    clip = clips["pyramid"]
    track, pieces = video_pieces.split(clip, 2)
    assert not any(p.warm for p in pieces)
    assert [p.first for p in pieces] == [0, 100]  # at the IDR only, however unequal
    # a warm start on this sound stream fails: its MMCOs name pictures it never saw
    folder = tmp_path
    spurious = 0
    for start in range(40, 70, 3):
        header = piece_mp4.header(track, Piece(start, 100, True), clip.stat().st_size)
        spurious += _decode(header, clip, folder, warm=True).failed
    assert spurious > 0
    # and damage in it is found as the whole decode finds it
    failed = 0
    for k in (50, 60, 70, 99):
        data = bytearray(clip.read_bytes())
        offset, size = _samples(clip)[k]
        for n in range(6):
            data[offset + size // 3 + n * (size // 10)] ^= 0x5A
        bad = folder / f"bad-{k}.mp4"
        bad.write_bytes(bytes(data))
        said = Proof(bad, 4.0, pieces=2).verdict()
        whole = ffmpeg_error(bad, 4.0, video=True)
        assert (said is None) == (whole is None), (k, said, whole)
        if said is not None:
            assert said.split(" at ")[0] == whole.split(" at ")[0]
            failed += 1
    assert failed >= 2


def test_gops_no_longer_than_a_piece_are_cut_at_idr_pictures_only(tmp_path):
    clip = make_video(tmp_path / "short-gop.mp4", **COMMON, extra_args=["-g", "30"])
    track, pieces = video_pieces.split(clip, 2)
    assert len(track.samples) == 120 and pieces == [Piece(0, 60), Piece(60, 120)]


def test_a_warm_piece_with_no_idr_picture_in_it(clips, tmp_path):
    # three pieces: the middle one starts and ends inside the first GOP
    clip = clips["cavlc"]
    _, pieces = video_pieces.split(clip, 3)
    assert [p.warm for p in pieces] == [False, True, True] and pieces[1].end <= 100
    proof = Proof(clip, 4.0, pieces=3)
    assert proof.verdict() is None and proof.piecewise and not proof.whole_run
    middle = (pieces[1].first + pieces[1].end) // 2
    data = clip.read_bytes()
    spans = _samples(clip)
    gone = bytearray(data)
    gone[_slices(data, *spans[middle])[1]] = 12
    flipped = bytearray(data)
    offset, size = spans[middle]
    for n in range(4):
        flipped[offset + size // 4 + n * (size // 6)] ^= 0x24
    for name, content in (("gone", gone), ("flipped", flipped)):
        path = tmp_path / f"{name}.mp4"
        path.write_bytes(bytes(content))
        proof = Proof(path, 4.0, pieces=3)
        said = proof.verdict()
        whole = ffmpeg_error(path, 4.0, video=True)
        assert proof.piecewise and said is not None and whole is not None, (name, said, whole)
        assert said.split(" at ")[0] == whole.split(" at ")[0], (name, said, whole)


@pytest.mark.parametrize("kind", ["cavlc", "cabac"])
def test_a_sound_clip_in_two_three_or_four_pieces_needs_no_whole_decode(clips, kind):
    # a warm start spuriously failing would only cost time, but all of it: the
    # pieces, then the whole decode. With three references, starts at frame_num 0
    # to 2 failed ("Missing reference picture"): no cut is taken there
    clip = clips[kind]
    with open(clip, "rb") as f:
        track = video_track.read_track(f)
        sps = warm_cuts._the_sps(track.stsd)
        assert sps is not None and sps.ref_frames == (3 if kind == "cabac" else 1)
        for n in (2, 3, 4):
            _, pieces = video_pieces.split(clip, n)
            assert sum(p.warm for p in pieces) == n - 1
            for piece in pieces[1:]:
                offset, size = _samples(clip)[piece.first]
                f.seek(offset + 4)
                start = h264.slice_start(f.read(min(size - 4, 32)), sps)
                assert start is not None and start[2] > sps.ref_frames
            proof = Proof(clip, 4.0, pieces=n)
            assert proof.verdict() is None and not proof.whole_run, n

"""What the proof does not decode in pieces, it decodes whole, with the whole
decode's verdict: one keyframe, open-GOP recovery points (keyframes that are not
IDR pictures), pictures reordered across a cut, an edit list that leaves samples
out, other containers, a file cut short. And a proof started early (as `fix`
starts it) is adopted only for the same, unchanged file, and can be stopped."""

from __future__ import annotations

import random
import struct
import subprocess
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.preflight import avc_nal, video_pieces, video_proof, video_track
from igpreflight.preflight.ffmpeg_decode import ffmpeg_error
from igpreflight.preflight.video_pieces import Piece
from igpreflight.preflight.video_proof import Proof
from igpreflight.preflight.video_track import Sample, Track, Whole
from tests.test_video_proof import _samples

COMMON = dict(width=320, height=240, fps=30, duration=2.0, bitrate="2M")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pieces")


@pytest.fixture(scope="module")
def gop(folder: Path) -> Path:
    """CABAC with B-frames, a keyframe every 15 frames, and ffmpeg's edit list
    (the first picture is shown two frames in: nothing is left out)."""
    return make_video(folder / "gop.mp4", **COMMON, extra_args=["-preset", "veryfast", "-g", "15"])


def _flip(path: Path, sample: int, out: Path) -> Path:
    """`path` with bits flipped in the slice data of one video sample."""
    offset, size = _samples(path)[sample]
    data = bytearray(path.read_bytes())
    rng = random.Random(sample)
    for _ in range(12):
        data[offset + rng.randrange(size // 5, size)] ^= 1 << rng.randrange(8)
    out.write_bytes(bytes(data))
    return out


def _same_verdict(path: Path, piecewise: bool) -> str | None:
    proof = Proof(path, 2.0, pieces=3)
    verdict = proof.verdict()
    whole = ffmpeg_error(path, 2.0, video=True)
    assert proof.piecewise is piecewise
    assert (verdict is None) == (whole is None), (verdict, whole)
    if verdict is not None:
        assert verdict.split(" at ")[0] == whole.split(" at ")[0]
    return verdict


def test_a_harmless_edit_list_is_decoded_in_pieces(gop, tmp_path):
    track, pieces = video_pieces.split(gop, 3)
    assert track.ctts_version is not None  # B-frames: display order differs
    assert [p.first for p in pieces] == [0, 15, 45]
    assert _same_verdict(gop, piecewise=True) is None
    assert _same_verdict(_flip(gop, 15, tmp_path / "bad.mp4"), piecewise=True) is not None


def test_one_keyframe_is_decoded_whole(folder, tmp_path):
    clip = make_video(folder / "one-key.mp4", **COMMON)
    with pytest.raises(Whole, match="fewer than two keyframes"):
        video_pieces.split(clip, 3)
    assert _same_verdict(clip, piecewise=False) is None
    assert _same_verdict(_flip(clip, 40, tmp_path / "bad.mp4"), piecewise=False) is not None


def test_open_gop_recovery_points_are_decoded_whole(folder, tmp_path):
    # x264's open GOPs: keyframes (stss) that are I pictures, not IDR ones; the
    # B-frames after them refer to the pictures before
    clip = make_video(
        folder / "open-gop.mp4",
        **COMMON,
        extra_args=["-preset", "veryfast", "-x264-params", "open-gop=1:keyint=15"],
    )
    with pytest.raises(Whole, match="not an IDR picture"):
        video_pieces.split(clip, 3)
    assert _same_verdict(clip, piecewise=False) is None
    assert _same_verdict(_flip(clip, 0, tmp_path / "bad.mp4"), piecewise=False) is not None


def test_an_edit_list_that_leaves_samples_out_is_decoded_whole(gop, tmp_path):
    # The edit starts at the second keyframe: ffmpeg never decodes the first 15
    # samples, so damage there passes the whole decode; pieces would have failed it.
    data = bytearray(gop.read_bytes())
    at = data.index(b"elst") + 4 + 4 + 4 + 4  # version/flags, count, segment duration
    (media_time,) = struct.unpack(">i", data[at : at + 4])
    data[at : at + 4] = struct.pack(">i", media_time + 15 * 512)  # 15 frames of 1/30 s
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(bytes(data))
    with pytest.raises(Whole, match="edit list"):
        video_pieces.split(cut, 3)
    damaged = _flip(cut, 0, tmp_path / "cut-bad.mp4")
    assert _same_verdict(damaged, piecewise=False) is None
    # the same damage without the edit: found
    assert _same_verdict(_flip(gop, 0, tmp_path / "bad.mp4"), piecewise=True) is not None


def test_pictures_reordered_across_a_cut_are_decoded_whole():
    def track(cts: list[int]) -> Track:
        samples = tuple(
            Sample(offset=0, size=1, dts=i, cts=c, key=i in (0, 3)) for i, c in enumerate(cts)
        )
        return Track(samples, 30, b"", 0, 16, 16)

    video_pieces._check_display_order(track([1, 3, 2, 4, 6, 5]), [0, 3])  # in order
    with pytest.raises(Whole, match="reordered across the keyframe at sample 4"):
        video_pieces._check_display_order(track([1, 5, 2, 4, 7, 6]), [0, 3])
    assert video_pieces._balanced(track([1, 3, 2, 4, 6, 5]), [0, 3], 2) == [
        Piece(0, 3),
        Piece(3, 6),
    ]


def test_other_containers_and_cut_files_are_decoded_whole(folder, tmp_path):
    mkv = make_video(folder / "gop.mkv", **COMMON, extra_args=["-g", "15"])
    with pytest.raises(Whole):
        video_pieces.split(mkv, 3)
    assert _same_verdict(mkv, piecewise=False) is None
    gop = make_video(folder / "plain-gop.mp4", **COMMON, extra_args=["-g", "15"])
    cut = tmp_path / "short.mp4"
    cut.write_bytes(gop.read_bytes()[: gop.stat().st_size * 2 // 3])
    with pytest.raises(Whole, match="not a whole"):  # mdat runs past the end
        video_pieces.split(cut, 3)
    assert _same_verdict(cut, piecewise=False) is not None


def test_one_piece_wanted_is_the_whole_decode(gop, monkeypatch):
    monkeypatch.setenv(video_proof.PIECES_ENV, "1")
    proof = Proof(gop, 2.0)
    assert proof.verdict() is None and not proof.piecewise


def test_a_proof_started_early_is_adopted_for_the_same_file_only(gop, tmp_path):
    early = video_proof.start(gop, 2.0)
    assert video_proof.prove(gop, 2.0) is None
    assert early.verdict() is None  # the one adopted: already over
    assert video_proof._EARLY == {}

    copy = tmp_path / "copy.mp4"
    copy.write_bytes(gop.read_bytes())
    stale = video_proof.start(copy, 2.0)
    assert stale.verdict() is None  # over, and still waiting to be adopted
    _flip(gop, 15, copy)  # then the file changes
    assert video_proof.prove(copy, 2.0) is not None  # proved again, not adopted


def test_an_early_proof_nobody_wants_is_stopped(folder):
    long_clip = make_video(
        folder / "long.mp4", width=640, height=360, fps=30, duration=20.0, bitrate="4M"
    )
    early = video_proof.start(long_clip, 20.0)
    video_proof.forget(long_clip)
    assert early.verdict() is not None  # killed: the verdict is never used
    assert video_proof._EARLY == {}


def test_parameter_sets_in_the_stream_repeating_avcc_are_harmless(folder, tmp_path):
    # x264's repeat-headers: the SPS and PPS again before every keyframe, as
    # Android encoders write them
    clip = make_video(
        folder / "repeat.mp4", **COMMON, extra_args=["-g", "15", "-x264-params", "repeat-headers=1"]
    )
    data = clip.read_bytes()
    offset, _ = _samples(clip)[15]
    assert data[offset + 4] & 0x1F == 7  # the keyframe sample starts with an SPS
    assert len(video_pieces.split(clip, 3)[1]) == 3
    assert _same_verdict(_flip(clip, 15, tmp_path / "bad.mp4"), piecewise=True) is not None


def test_a_parameter_set_avcc_does_not_hold_is_decoded_whole(gop):
    import io

    with open(gop, "rb") as f:
        track = video_track.read_track(f)
    (pps,) = [s for s in avc_nal._avcc_sets(track.stsd) if s[0] & 0x1F == 8]
    other = pps[:-1] + bytes([pps[-1] ^ 0x10])

    def stream(*nals: bytes) -> tuple[Track, io.BytesIO]:
        body = b"".join(len(n).to_bytes(4, "big") + n for n in nals)
        sample = Sample(offset=0, size=len(body), dts=0, cts=0, key=True)
        return Track((sample,), 30, track.stsd, None, 16, 16), io.BytesIO(body)

    avc_nal._check_parameter_sets(*reversed(stream(pps, b"\x65\x88")))
    with pytest.raises(Whole, match="parameter set"):
        avc_nal._check_parameter_sets(*reversed(stream(other, b"\x65\x88")))


def test_pieces_ffmpeg_cannot_open_leave_the_verdict_to_the_whole_decode(
    gop, tmp_path, monkeypatch
):
    # an ffmpeg built without the concat: protocol the pieces are read through
    real = ffmpeg_exe()
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case "$a" in concat:*) '
        'echo "Error opening input: Protocol not found" >&2; exit 1;; esac; done\n'
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("IGPREFLIGHT_FFMPEG", str(wrapper))
    ffmpeg_exe.cache_clear()
    try:
        proof = Proof(gop, 2.0, pieces=3)
        assert proof.verdict() is None and proof.piecewise
        damaged = _flip(gop, 15, tmp_path / "bad.mp4")
        said = Proof(damaged, 2.0, pieces=3).verdict()
        whole = ffmpeg_error(damaged, 2.0, video=True)
        assert said is not None and whole is not None
        assert said.split(" at ")[0] == whole.split(" at ")[0]  # where: as far as it got
    finally:
        ffmpeg_exe.cache_clear()


def test_cover_art_is_decoded_whole(gop, folder, tmp_path):
    # ffmpeg turns iTunes cover art into one more video stream, which the whole
    # decode decodes too
    from fixtures.generate import make_image

    cover = make_image(tmp_path / "cover.jpg", size=(64, 64))
    out = tmp_path / "with-cover.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(gop), "-i", str(cover), "-map", "0", "-map", "1",
         "-c", "copy", "-disposition:v:1", "attached_pic", str(out)],
        check=True,
    )  # fmt: skip
    with pytest.raises(Whole, match="cover art"):
        video_pieces.split(out, 3)
    assert _same_verdict(out, piecewise=False) is None

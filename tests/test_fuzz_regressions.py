"""Inputs the fuzzing trial found (bench/fuzz/), each the smallest that broke the
promise "any bytes give facts and findings, or one FILE001 line, and the batch
goes on": made here from a real clip with one field changed, or written out."""

from __future__ import annotations

import struct
import sys
import tracemalloc
from pathlib import Path

import pytest

from igpreflight import check
from igpreflight.model import Unreadable, VideoFacts
from igpreflight.preflight import h264
from igpreflight.preflight.isobmff import movie_layout
from igpreflight.preflight.manifest import ManifestError, load_manifest
from igpreflight.preflight.probe import probe
from igpreflight.preflight.video_track import Whole, read_track
from tests.crafted import find_box, patch_box


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short H.264 + AAC MP4 with B-frames (so a ctts table) and an edit list."""
    from fixtures.generate import make_video

    folder = tmp_path_factory.mktemp("fuzzed")
    made = make_video(
        folder / "base.mp4", width=96, height=64, duration=1.0, fps=10, extra_args=("-bf", "2")
    )
    data = made.read_bytes()
    assert b"ctts" in data and b"elst" in data and b"avcC" in data
    return made


@pytest.mark.parametrize("table", [b"stts", b"ctts"])
def test_a_run_counting_millions_of_samples_is_not_expanded(table, clip, tmp_path):
    """A 24-byte stts or ctts whose first run counts 2^32-1 samples took 4.6 GB and
    42 s in `check --deep` (the proof's cutter expanded it a sample at a time before
    comparing with stsz's count). 20 million samples show it without the gigabytes:
    the cutter now compares first, and its peak stays tiny."""
    bad = patch_box(clip, tmp_path / "many.mp4", table, 8, ">I", 20_000_000)
    tracemalloc.start()
    try:
        with bad.open("rb") as f, pytest.raises(Whole, match="counts 20,00"):
            read_track(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak:,} bytes"


def test_sample_to_chunk_runs_that_go_back_are_whole(clip, tmp_path):
    """stsc runs whose first chunks alternate 1, 2^31-1, 1... each covered every chunk
    again: 20,000 runs over 100,000 chunks in an 890 KB movie kept the proof's cutter
    (`check --deep`, `fix`) busy past two minutes while `check` passed it. Runs must
    go forward; here the clip's second run is set back to chunk 1."""
    bad = patch_box(clip, tmp_path / "runs.mp4", b"stsc", 8 + 12, ">I", 1)
    with bad.open("rb") as f, pytest.raises(Whole, match="first chunks do not increase"):
        read_track(f)


def test_an_edit_list_counting_more_edits_than_its_box_holds_is_file001(clip, tmp_path):
    """An elst of one edit declaring 2^31-1 made MediaInfo take 400 MB (and 1.5 to
    8 s) for an 11 KB movie; the box walker now calls it implausible first."""
    bad = patch_box(clip, tmp_path / "edits.mp4", b"elst", 4, ">I", 0x7FFFFFFF)
    facts = probe(bad)
    assert isinstance(facts, Unreadable)
    assert facts.reason == (
        "implausible MP4: the vide track's elst declares 2,147,483,647 edits but its box holds 1"
    )


def test_tables_declared_past_their_track_are_read_only_to_its_end(clip, tmp_path):
    """2,000 empty tracks, each with an stsz declaring 4 GB, then 1 MB of padding: the
    walker read every such table to the end of the file and kept it, 2.1 GB and 8 s
    for `check` of a 1.2 MB movie (a box past its parent ran to EOF). 300 tracks show
    it: a box is now cut at its parent's end."""
    data = clip.read_bytes()
    moov = find_box(data, b"moov")

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", len(body) + 8, kind) + body

    stsz = struct.pack(">I4s", 0xFFFFFFFF, b"stsz") + bytes(12)
    track = box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stsz))))
    body = data[moov.payload : moov.end] + track * 300
    bad = tmp_path / "tracks.mp4"
    bad.write_bytes(
        data[: moov.offset] + box(b"moov", body) + data[moov.end :] + box(b"free", bytes(1 << 20))
    )
    tracemalloc.start()
    try:
        with bad.open("rb") as f:
            layout = movie_layout(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(layout.tracks) == 302
    assert peak < 16 << 20, f"{peak:,} bytes"
    assert isinstance(probe(bad), (VideoFacts, Unreadable))


def _with_sps(src: Path, dst: Path, sps: bytes, entry_width: int) -> Path:
    """`src` with avcC's SPS replaced by `sps` (padded to its length) and the sample
    entry's width set to `entry_width`."""
    data = bytearray(src.read_bytes())
    avcc = data.find(b"avcC") + 4  # its payload (inside the sample entry)
    (length,) = struct.unpack(">H", data[avcc + 6 : avcc + 8])
    assert len(sps) <= length
    at = avcc + 8
    data[at : at + length] = sps.ljust(length, b"\0")
    stsd = find_box(bytes(data), b"stsd")
    struct.pack_into(">H", data, stsd.payload + 8 + 32, entry_width)
    dst.write_bytes(bytes(data))
    return dst


# profile 66, level 30, sps id 0, log2_max_frame_num 4, POC type 2, 0 refs, no gaps,
# 6x4 macroblocks, frames only, direct_8x8, cropped by 24 (48 luma columns) each side,
# no VUI: a 96x64 picture cropped to 0x64.
SPS_CROPPED_TO_NOTHING = bytes.fromhex("6742001edc6270c86740")


def test_an_sps_cropped_to_no_picture_is_left_to_mediainfo(clip, tmp_path):
    """An SPS whose cropping leaves a width of 0, in a sample entry 0 wide, was a
    ZeroDivisionError in the native MP4 reader: an internal error for the whole
    batch. The SPS reader now refuses it and MediaInfo reads the file."""
    with pytest.raises(h264.SpsError, match="cropped frame is 0x64"):
        h264.parse_sps(SPS_CROPPED_TO_NOTHING)
    bad = _with_sps(clip, tmp_path / "cropped.mp4", SPS_CROPPED_TO_NOTHING, 0)
    fine = tmp_path / "fine.mp4"
    fine.write_bytes(clip.read_bytes())
    report = check([bad, fine])
    assert len(report.files) == 2
    assert isinstance(probe(fine), VideoFacts)


def _sps(fields: str) -> bytes:
    """An SPS NAL unit from its fields written as a bit string (stop bit added)."""
    bits = fields.replace(" ", "") + "1"
    bits += "0" * (-len(bits) % 8)
    return b"\x67" + int(bits, 2).to_bytes(len(bits) // 8, "big")


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        # High profile, chroma_format_idc 7 (0..3 exist)
        ("01100100 00000000 00011110 1 0001000 1 1 0 0", "chroma_format_idc"),
        # High profile, 4:2:0, luma bit depth 8 + 30
        ("01100100 00000000 00011110 1 010 000011111 1 0 0", "bit depth"),
        # Baseline, log2_max_frame_num_minus4 = 30 (0..12 exist)
        ("01000010 00000000 00011110 1 000011111", "log2_max_frame_num"),
    ],
)
def test_sps_fields_out_of_range_are_refused(fields, why):
    with pytest.raises(h264.SpsError, match=why):
        h264.parse_sps(_sps(fields))


@pytest.mark.parametrize(
    ("name", "text"),
    [("posts.json", "[" * 100_000), ("posts.toml", "a = " + "[" * 100_000)],
    ids=["json", "toml"],
)
def test_a_manifest_nested_past_the_parsers_recursion_is_a_manifest_error(name, text, tmp_path):
    """100,000 opening brackets were a RecursionError: 'internal error' and exit 2
    with a bug report hint, instead of what is wrong with the manifest."""
    path = tmp_path / name
    path.write_text(text)
    assert sys.getrecursionlimit() < 100_000
    with pytest.raises(ManifestError, match="nested too deeply"):
        load_manifest(path)

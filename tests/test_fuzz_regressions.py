"""Inputs the fuzzing trial found (bench/fuzz/), each the smallest that broke the
promise "any bytes give facts and findings, or one FILE001 line, and the batch
goes on": made here from a real clip with one field changed, or written out."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from igpreflight.model import Unreadable
from igpreflight.preflight.probe import probe
from igpreflight.preflight.video_track import Whole, read_track
from tests.crafted import patch_box


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


def test_an_edit_list_counting_more_edits_than_its_box_holds_is_file001(clip, tmp_path):
    """An elst of one edit declaring 2^31-1 made MediaInfo take 400 MB (and 1.5 to
    8 s) for an 11 KB movie; the box walker now calls it implausible first."""
    bad = patch_box(clip, tmp_path / "edits.mp4", b"elst", 4, ">I", 0x7FFFFFFF)
    facts = probe(bad)
    assert isinstance(facts, Unreadable)
    assert facts.reason == (
        "implausible MP4: the vide track's elst declares 2,147,483,647 edits but its box holds 1"
    )

"""The videos' lane keeps one MediaInfo server a few files ahead (`lookahead`): the
answers are the plain parses', whatever the lane skips or asks out of order, and a
bound that a skipped file hits is never blamed on the file asked next."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.preflight.mediainfo_child import ParseBoundError, lookahead, parse_fields
from igpreflight.preflight.probe_video import DEFAULT_PARSE, FAST_PARSE
from tests.crafted import matroska_flood


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, float]]:
    folder = tmp_path_factory.mktemp("lookahead")
    noise = folder / "noise.mp4"
    noise.write_bytes(random.Random(3).randbytes(4096))
    return [
        (str(make_video(folder / "a.mp4", width=64, height=64, duration=1.0)), FAST_PARSE),
        (str(make_video(folder / "b.mkv", width=96, height=64, duration=1.0)), DEFAULT_PARSE),
        (str(noise), DEFAULT_PARSE),
        (str(make_video(folder / "c.mov", width=64, height=96, duration=1.0)), FAST_PARSE),
        (
            str(
                make_video(
                    folder / "d.webm",
                    width=80,
                    height=80,
                    duration=1.0,
                    vcodec="libvpx-vp9",
                    acodec="libopus",
                )
            ),
            DEFAULT_PARSE,
        ),
    ]


def test_answers_are_the_plain_parses_whatever_is_skipped(clips):
    plain = [parse_fields(path, speed) for path, speed in clips]
    with lookahead(clips, depth=2):
        got = {i: parse_fields(*clips[i]) for i in (0, 2, 4)}  # 1 and 3 are never asked
        got[3] = parse_fields(*clips[3])  # asked after a later one: parsed as usual
        got[1] = parse_fields(clips[1][0], FAST_PARSE)  # another speed than announced
    assert got[0] == plain[0] and got[2] == plain[2] and got[4] == plain[4]
    assert got[3] == plain[3]
    assert got[1] == parse_fields(clips[1][0], FAST_PARSE)


def test_a_bound_a_skipped_file_hits_is_not_blamed_on_the_next(clips, tmp_path, monkeypatch):
    """The bound is 3 s, not 1: the good file is parsed by a fresh server, whose start
    counts in its bound, and a loaded machine once took over 1 s for that. The flood
    (60,000 tags: 292 s unbounded on a loaded machine) passes 3 s as surely, which the
    second block shows."""
    monkeypatch.setenv("IGPREFLIGHT_PROBE_TIMEOUT", "3")
    base = make_video(tmp_path / "base.mkv", width=160, height=120, duration=3.5)
    flood = str(matroska_flood(base, tmp_path / "tags.mkv", "tags", 60_000))
    good, speed = clips[0]
    with lookahead([(flood, DEFAULT_PARSE), (good, speed)]):
        assert parse_fields(good, speed) == parse_fields(good, speed)  # the flood was skipped
    with lookahead([(flood, DEFAULT_PARSE), (good, speed)]):
        with pytest.raises(ParseBoundError, match="within 3 s"):
            parse_fields(flood, DEFAULT_PARSE)
        assert parse_fields(good, speed)["video"]["width"] == "64"


def test_outside_a_lookahead_nothing_changes(clips):
    path, speed = clips[0]
    assert parse_fields(path, speed)["general"]["format"] == "MPEG-4"
    assert Path(path).is_file()

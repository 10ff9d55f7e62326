"""The MediaInfo server reads the probe's fields one by one (`MediaInfo_Get`, no
display strings) instead of pymediainfo's whole XML report: the values must be
the ones pymediainfo's attributes give, on every video of the corpus, at both
parse speeds the probe uses, from a path and through the buffer API (S3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymediainfo import MediaInfo

from fixtures.generate import make_video
from igpreflight.preflight.mediainfo_lib import FIELDS, Reader
from igpreflight.preflight.probe_video import DEFAULT_PARSE, FAST_PARSE

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".ts", ".avi", ".flv", ".flac"}
TRACKS = {"general": "general_tracks", "video": "video_tracks", "audio": "audio_tracks"}


def differences(path: Path, reader: Reader, speed: float, streamed: bool = False) -> list[str]:
    """Where the reader and pymediainfo disagree. Streamed: both read an open file
    through the buffer API (libmediainfo sometimes finds less that way, e.g. an
    AC-3 track's channels: the same less for both)."""
    if streamed:
        with open(path, "rb") as stream:
            info = MediaInfo.parse(stream, parse_speed=speed)
        with open(path, "rb") as stream:
            got = reader.read(stream, speed)
    else:
        info = MediaInfo.parse(path, parse_speed=speed)
        got = reader.read(str(path), speed)
    out = []
    for kind, (_, fields) in FIELDS.items():
        tracks = getattr(info, TRACKS[kind])
        if not tracks:
            assert got[kind] is None, (path, kind)
            continue
        for attr in fields:
            want = getattr(tracks[0], attr)
            have = (got[kind] or {}).get(attr)
            if (str(want) if want is not None else None) != have:
                out.append(f"{path.name} {kind}.{attr}: {want!r} != {have!r}")
    return out


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("speed", [FAST_PARSE, DEFAULT_PARSE])
def test_fields_match_pymediainfo_on_the_corpus(corpus_dir: Path, speed: float, streamed: bool):
    videos = sorted(p for p in corpus_dir.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    assert len(videos) > 30
    reader = Reader()
    assert [d for v in videos for d in differences(v, reader, speed, streamed)] == []


def test_fields_match_pymediainfo_on_made_clips(tmp_path: Path):
    reader = Reader()
    clips = [
        make_video(tmp_path / "a.mp4", width=320, height=240, duration=1.0),
        make_video(tmp_path / "b.mkv", width=160, height=120, duration=1.0),
        make_video(tmp_path / "c.mov", width=160, height=120, duration=1.0, audio_tracks=2),
    ]
    assert [d for c in clips for d in differences(c, reader, FAST_PARSE)] == []
    with pytest.raises(RuntimeError, match="error occured while opening"):
        reader.read(str(tmp_path / "missing.mp4"), FAST_PARSE)

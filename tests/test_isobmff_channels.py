"""Audio channel counts read from MP4 headers alone (what an s3:// check sees).

The AudioSampleEntry's channelcount field is not the layout for every codec: AC-3
writes 2 for a 5.1 track, and AAC keeps its layout in the esds. The header reader
must agree with ffmpeg on real files, ours and third parties'.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.preflight.isobmff import movie_layout

LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "5.1(side)": 6, "5.1": 6, "quad": 4, "7.1": 8}


def header_channels(path: Path) -> list[int | None]:
    with path.open("rb") as f:
        return [t.channels for t in movie_layout(f).tracks if t.handler == "soun"]


def ffmpeg_channels(path: Path) -> list[int]:
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    return [LAYOUT_CHANNELS[m] for m in re.findall(r"Audio: [^\n]*?, \d+ Hz, ([^,\n]+)", err)]


@pytest.mark.parametrize(
    ("codec", "layout", "want"),
    [
        ("ac3", "5.1(side)", 6),
        ("ac3", "stereo", 2),
        ("aac", "5.1", 6),
        ("aac", "mono", 1),
        ("eac3", "5.1(side)", 6),
    ],
)
def test_codec_configuration_decides_the_channel_count(tmp_path, codec, layout, want):
    out = tmp_path / f"{codec}.mp4"
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
            "sine=frequency=440:duration=0.5:sample_rate=48000",
            "-af", f"aformat=channel_layouts={layout}", "-c:a", codec, str(out),
        ],
        check=True,
    )  # fmt: skip
    assert header_channels(out) == [want] == ffmpeg_channels(out)


def test_third_party_mp4_and_mov_agree_with_ffmpeg(corpus_dir):
    files = [
        p
        for p in sorted(corpus_dir.rglob("*"))
        if p.suffix.lower() in (".mp4", ".mov", ".m4a") and ffmpeg_channels(p)
    ]
    assert any(p.name == "sample_ac3.mp4" for p in files) and len(files) > 15
    got = {p.name: header_channels(p) for p in files}
    want = {p.name: ffmpeg_channels(p) for p in files}
    assert got == want

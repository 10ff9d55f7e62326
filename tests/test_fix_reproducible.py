"""Fixing is reproducible (the same input gives the same bytes, so a re-fix keeps
its content-hash upload key), and encoded video is limited-range yuv420p.

Real files only: images made with Pillow, clips with the bundled ffmpeg.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageCms
from pymediainfo import MediaInfo

from fixtures.generate import make_image, make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.transcode import image as image_fixer
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus

# When this process had built its sRGB profile at the latest (the fixer builds
# it on import): a process started 1.1 s later stamps another second into it.
_IMPORTED = time.time()

CONSTANT_DATE = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)


@pytest.fixture(autouse=True)
def fast_x264(monkeypatch):
    monkeypatch.setenv("IGPREFLIGHT_X264_PRESET", "ultrafast")


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".igpreflight" not in p.parts  # not the resume ledger
    }


def image_batch(root: Path) -> Path:
    make_image(root / "a.png", size=(800, 1000), mode="RGBA")
    make_image(root / "b.jpg", size=(1600, 1200), icc="display-p3", seed=1)
    make_image(root / "c.tif", size=(500, 700), fmt="TIFF", seed=2)
    return root


# ---------------------------------------------------------------- images


def test_embedded_srgb_profile_has_a_constant_date_and_a_valid_id(tmp_path):
    src = make_image(tmp_path / "in" / "p3.jpg", size=(900, 900), icc="display-p3")
    (result,) = fix_paths([src], tmp_path / "out", FixOptions())
    assert result.ok and result.status is FixStatus.CONVERTED, result.reason
    with Image.open(result.output) as im:
        icc = im.info["icc_profile"]
    assert icc == image_fixer.SRGB_ICC
    assert icc[24:36] == CONSTANT_DATE  # not the time the profile was built
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "
    if icc[8] >= 4:  # v4: the profile ID is the MD5 with flags, intent and ID zeroed
        masked = bytearray(icc)
        masked[44:48] = masked[64:68] = bytes(4)
        masked[84:100] = bytes(16)
        assert icc[84:100] == hashlib.md5(masked).digest()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_image_fix_is_byte_identical_across_processes_and_jobs(tmp_path):
    src = image_batch(tmp_path / "in")
    one = fix_paths([src], tmp_path / "o1", FixOptions(), jobs=1)
    two = fix_paths([src], tmp_path / "o2", FixOptions(), jobs=2)
    assert all(r.ok for r in one + two)
    assert {r.status for r in one} == {FixStatus.CONVERTED}
    # Another process, started in another second: it builds its own profile.
    time.sleep(max(0.0, _IMPORTED + 1.1 - time.time()))
    cmd = [sys.executable, "-m", "igpreflight", "fix", str(src), "--out", str(tmp_path / "o3")]
    done = subprocess.run([*cmd, "--jobs", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    first = digests(tmp_path / "o1")
    assert len(first) == 3
    assert first == digests(tmp_path / "o2") == digests(tmp_path / "o3")


def test_kept_metadata_does_not_break_reproducibility(tmp_path):
    src = make_image(tmp_path / "in" / "exif.jpg", size=(1600, 1200), orientation=6)
    opts = FixOptions(keep_metadata=True)
    (a,) = fix_paths([src], tmp_path / "o1", opts)
    (b,) = fix_paths([src], tmp_path / "o2", opts)
    assert a.ok and b.ok
    assert Path(a.output).read_bytes() == Path(b.output).read_bytes()


# ---------------------------------------------------------------- video: range


def _luma_extremes(path: Path) -> tuple[int, int]:
    """The smallest and largest stored Y values over the first frames."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-frames:v", "3"]
    args += ["-vf", "signalstats,metadata=print:file=-", "-f", "null", "-"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    lows = [int(v) for v in re.findall(r"signalstats\.YMIN=(\d+)", out)]
    highs = [int(v) for v in re.findall(r"signalstats\.YMAX=(\d+)", out)]
    assert lows and highs, out
    return min(lows), max(highs)


def _ffmpeg_video_line(path: Path) -> str:
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    return next(line for line in err.splitlines() if "Video:" in line)


# Half white, half black: full range stores 255 and 0, limited range 235 and 16.
BARS = "drawbox=x=0:y=0:w=32:h=64:color=white:t=fill,drawbox=x=32:y=0:w=32:h=64:color=black:t=fill"


@pytest.mark.parametrize(
    ("name", "kwargs", "source_levels"),
    [
        ("mjpeg.mov", dict(vcodec="mjpeg", pix_fmt="yuvj420p"), (0, 255)),
        ("phone.mp4", dict(pix_fmt="yuvj420p", fps=120), (0, 255)),
        ("limited.mp4", dict(pix_fmt="yuv420p", fps=120), (16, 235)),
    ],
)
def test_encoded_video_is_limited_range_yuv420p(tmp_path, name, kwargs, source_levels):
    src = make_video(
        tmp_path / "in" / name,
        width=64,
        height=64,
        duration=3.5,
        acodec=None,
        extra_args=["-vf", BARS],
        **kwargs,
    )
    lo, hi = _luma_extremes(src)
    assert abs(lo - source_levels[0]) <= 1 and abs(hi - source_levels[1]) <= 1
    (result,) = fix_paths([src], tmp_path / "out", FixOptions())
    assert result.ok and result.status is FixStatus.TRANSCODED, result.reason
    out = Path(result.output)
    line = _ffmpeg_video_line(out)
    assert "yuv420p" in line and "yuvj420p" not in line and "(pc" not in line, line
    (track,) = [t for t in MediaInfo.parse(str(out)).tracks if t.track_type == "Video"]
    assert track.color_range in (None, "Limited")  # unsigned H.264 is limited range
    # The levels were converted (full 0..255 -> 16..235), not just relabelled, and a
    # limited-range source was not squeezed a second time.
    lo, hi = _luma_extremes(out)
    assert abs(lo - 16) <= 2 and abs(hi - 235) <= 2, (lo, hi)


# ---------------------------------------------------------------- video: bytes


def _boxes(data: bytes, start: int, end: int):
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < head:
            return
        yield kind, at + head, at + size
        at += size


def mp4_times(data: bytes) -> list[tuple[str, int, int]]:
    """(box, creation, modification) of every mvhd, tkhd and mdhd."""
    found: list[tuple[str, int, int]] = []

    def walk(start: int, end: int) -> None:
        for kind, body, stop in _boxes(data, start, end):
            if kind in (b"moov", b"trak", b"mdia"):
                walk(body, stop)
            elif kind in (b"mvhd", b"tkhd", b"mdhd"):
                fmt = ">QQ" if data[body] == 1 else ">II"
                size = struct.calcsize(fmt)
                created, modified = struct.unpack(fmt, data[body + 4 : body + 4 + size])
                found.append((kind.decode(), created, modified))

    walk(0, len(data))
    return found


def test_video_fixes_are_byte_identical_and_carry_no_clock_or_version(tmp_path):
    stamped = ["-metadata", "creation_time=now", "-metadata:s:v", "creation_time=now"]
    sources = [
        # transcoded: 120 fps is out of range, PCM audio is re-encoded
        make_video(
            tmp_path / "in" / "t.mov",
            width=64,
            height=64,
            duration=3.5,
            fps=120,
            acodec="pcm_s16le",
            extra_args=stamped,
        ),
        # remuxed: Matroska -> MP4, both streams copied
        make_video(tmp_path / "in" / "r.mkv", width=64, height=64, duration=3.5),
    ]
    for opts in (FixOptions(), FixOptions(keep_metadata=True)):
        tag = "keep" if opts.keep_metadata else "plain"
        one = fix_paths(sources, tmp_path / f"{tag}1", opts)
        two = fix_paths(sources, tmp_path / f"{tag}2", opts)
        assert [r.status for r in one] == [FixStatus.TRANSCODED, FixStatus.REMUXED]
        assert all(r.ok for r in one + two), [r.reason for r in one + two]
        for a, b in zip(one, two, strict=True):
            data = Path(a.output).read_bytes()
            assert data == Path(b.output).read_bytes(), a.output
            times = mp4_times(data)
            assert {box for box, _, _ in times} == {"mvhd", "tkhd", "mdhd"}
            assert all(c == 0 and m == 0 for _, c, m in times), times
            assert b"Lavf" not in data  # no muxer version (-fflags +bitexact)

"""Benchmark: crafted files against issue 14's targets.

Every crafted file must settle within 15 s for `check` and 60 s for `fix`, with
under 2 GB for the whole process tree. Each file is built here from a small
real clip or image with one structure made hostile, then `igpreflight check`
and `igpreflight fix` run on it in a fresh process each; the peak memory is
the sum of the resident sizes of that process and all its descendants (ffmpeg,
the MediaInfo server), sampled every 20 ms with psutil, and never less than the
largest single process's peak from the kernel (RUSAGE_CHILDREN, shown beside it).

    python bench/bench_hostile.py [--only NAME]
"""

from __future__ import annotations

import argparse
import contextlib
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures.generate import make_image, make_video  # noqa: E402
from igpreflight.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from tests.crafted import (  # noqa: E402
    CRAFTED_MP4,
    avi_chunk_flood,
    corrupt_exif,
    matroska_flood,
    patch_box,
)

CHECK_SECONDS, FIX_SECONDS, TREE_BYTES = 15.0, 60.0, 2 << 30


def mp4_metadata_flood(src: Path, dst: Path, count: int) -> Path:
    """`count` user metadata items in the MP4's udta (ffmpeg writes them as asked)."""
    meta = dst.with_suffix(".txt")
    meta.write_text(";FFMETADATA1\n" + "".join(f"key{i}=value{i}\n" for i in range(count)))
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-i", str(meta)]
    cmd += ["-map_metadata", "1", "-map", "0", "-c", "copy"]
    subprocess.run([*cmd, "-movflags", "use_metadata_tags", str(dst)], check=True)
    return dst


def matroska_clusters(src: Path, dst: Path, count: int) -> Path:
    """`count` empty Clusters before the first real one: each a header MediaInfo walks."""
    data = src.read_bytes()
    segment, cluster = data.index(b"\x18\x53\x80\x67"), data.index(b"\x1f\x43\xb6\x75")
    out = bytearray(data[:cluster] + b"\x1f\x43\xb6\x75\x80" * count + data[cluster:])
    out[segment + 4 : segment + 12] = b"\x01" + b"\xff" * 7  # unknown size
    dst.write_bytes(bytes(out))
    return dst


def avi_patch(src: Path, dst: Path, chunk: bytes, offset: int, value: int) -> Path:
    """An AVI with a 32-bit field `offset` bytes into the first `chunk` set to `value`."""
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, data.index(chunk) + offset, value)
    dst.write_bytes(bytes(data))
    return dst


def png_bomb(dst: Path, side: int) -> Path:
    """A valid all-black grey PNG of side x side, deflated to a few hundred KB."""
    out = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(out.compress(row) for _ in range(side)) + out.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    dst.write_bytes(head + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return dst


def declared_bomb(dst: Path) -> Path:
    """A 1 KB PNG whose header declares 65535 x 65535 pixels."""
    png_bomb(dst, 8)
    data = bytearray(dst.read_bytes())
    struct.pack_into(">II", data, 16, 65535, 65535)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    dst.write_bytes(bytes(data))
    return dst


def build(root: Path) -> dict[str, Path]:
    """Every crafted file, by name."""
    seeds = root / "seeds"
    seeds.mkdir()
    mp4 = make_video(seeds / "base.mp4", width=160, height=120, duration=3.5)
    mkv = make_video(seeds / "base.mkv", width=160, height=120, duration=3.5)
    avi = make_video(seeds / "base.avi", width=160, height=120, duration=3.5)
    jpg = make_image(seeds / "base.jpg", size=(1080, 1080))
    out = root / "crafted"
    out.mkdir()
    steps: dict[str, Callable[[Path], Path]] = {
        **{
            f"{name}.mp4": (lambda d, spec=spec: patch_box(mp4, d, *spec))
            for name, spec in CRAFTED_MP4.items()
        },
        "mp4-metadata-100k.mp4": lambda d: mp4_metadata_flood(mp4, d, 100_000),
        "mkv-tags-200k.mkv": lambda d: matroska_flood(mkv, d, "tags", 200_000),
        "mkv-chapters-200k.mkv": lambda d: matroska_flood(mkv, d, "chapters", 200_000),
        "mkv-clusters-2m.mkv": lambda d: matroska_clusters(mkv, d, 2_000_000),
        "avi-junk-2m.avi": lambda d: avi_chunk_flood(avi, d, 2_000_000),
        "avi-idx1-huge.avi": lambda d: avi_patch(avi, d, b"idx1", 4, 0xFFFFFFF0),
        "avi-frames-max.avi": lambda d: avi_patch(avi, d, b"avih", 8 + 16, 0xFFFFFFFF),
        "avi-rate-0.avi": lambda d: avi_patch(avi, d, b"strh", 8 + 24, 0),
        "png-bomb-20k.png": lambda d: png_bomb(d, 20_000),
        "png-declares-65535.png": declared_bomb,
        "jpeg-corrupt-exif.jpg": lambda d: corrupt_exif(jpg, d),
    }
    return {name: make(out / name) for name, make in steps.items()}


# Runs a command and reports the largest peak RSS of any process in its tree that
# ended (the kernel's RUSAGE_CHILDREN counts every waited-for descendant).
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(code.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
)


def run_tree(args: list[str], limit: float) -> tuple[float, int, int, int]:
    """(seconds, exit code, peak bytes of the whole tree, largest single process's peak)."""
    import psutil

    start = time.perf_counter()
    wrapper = [sys.executable, "-c", WRAPPER, *args]
    proc = subprocess.Popen(wrapper, stdout=subprocess.PIPE, text=True, cwd=REPO)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            total = 0
            try:
                for p in psutil.Process(proc.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            except psutil.Error:
                pass
            peak = max(peak, total)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=limit * 4)
    except subprocess.TimeoutExpired:
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    code, single = (int(x) for x in out.split())
    return seconds, code, max(peak, single), single


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "igpreflight"]
    misses = 0
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp))
        head = f"{'file':24} {'bytes':>11} {'check s':>8} {'exit':>4} {'fix s':>7} {'exit':>4}"
        print(f"{head} {'tree MB':>8} {'child MB':>8}  verdict")
        for name, path in files.items():
            if args.only not in name:
                continue
            c_s, c_code, c_peak, _ = run_tree([*cli, "check", "-q", str(path)], CHECK_SECONDS)
            out = Path(tmp) / "out" / name
            f_s, f_code, f_peak, child = run_tree(
                [*cli, "fix", "-q", str(path), "--out", str(out)], FIX_SECONDS
            )
            tree = max(c_peak, f_peak)
            ok = c_s <= CHECK_SECONDS and f_s <= FIX_SECONDS and tree <= TREE_BYTES
            misses += not ok
            print(
                f"{name:24} {path.stat().st_size:>11,} {c_s:8.1f} {c_code:>4} {f_s:7.1f} "
                f"{f_code:>4} {tree / 2**20:8.0f} {child / 2**20:8.0f}  {'ok' if ok else 'MISS'}"
            )
    print(
        f"targets: check <= {CHECK_SECONDS:g} s, fix <= {FIX_SECONDS:g} s, "
        f"process tree <= {TREE_BYTES / 2**30:g} GB; {misses} miss(es)"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())

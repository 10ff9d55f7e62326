"""Benchmark: `igpreflight check` over 1,000 mixed files vs one probe process per file.

The baseline is what peers do: spawn a fresh `ffmpeg -i FILE` (an ffprobe
equivalent; there is no ffprobe in the wheel) for every file. Both run in the
same process on the same files, so the ratio is what counts, not the seconds.
Target: igpreflight at least 5x faster.

    python bench/bench_check.py [--files 1000] [--jobs N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import make_image, make_video  # noqa: E402
from igpreflight.ffmpeg_bin import ffmpeg_exe  # noqa: E402


def build_batch(root: Path, count: int) -> list[Path]:
    """A mixed batch: JPEGs and PNGs of several sizes, WebPs and short MP4 clips."""
    seeds = root / "seeds"
    seeds.mkdir()
    originals = [
        make_image(seeds / "a.jpg", size=(1080, 1350)),
        make_image(seeds / "b.jpg", size=(4000, 3000)),
        make_image(seeds / "c.png", size=(800, 800), mode="RGBA"),
        make_image(seeds / "d.webp", size=(1080, 1080)),
        make_video(seeds / "e.mp4", width=360, height=640, fps=30, duration=3.5),
        make_video(seeds / "f.mp4", width=640, height=360, fps=60, duration=1.0),
    ]
    batch = root / "batch"
    batch.mkdir()
    files = []
    for i in range(count):
        src = Path(originals[i % len(originals)])
        dst = batch / f"{i:04d}{src.suffix}"
        shutil.copyfile(src, dst)
        files.append(dst)
    return files


def per_file_processes(files: list[Path]) -> float:
    start = time.perf_counter()
    for f in files:
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-i", str(f)],
            capture_output=True,
            timeout=60,
            check=False,  # ffmpeg -i without an output exits 1 by design
        )
    return time.perf_counter() - start


def igpreflight_check(folder: Path, jobs: int | None) -> float:
    args = [sys.executable, "-m", "igpreflight", "check", "--format", "json", str(folder)]
    if jobs:
        args += ["--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr.decode(errors="replace"))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build_batch(Path(tmp), args.files)
        ours = igpreflight_check(files[0].parent, args.jobs)
        base = per_file_processes(files)
    print(f"files: {len(files)}")
    print(f"igpreflight check:        {ours:8.2f} s")
    print(f"ffmpeg -i per file:       {base:8.2f} s")
    print(f"speed-up: {base / ours:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()

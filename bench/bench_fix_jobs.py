"""Benchmark: `fix --jobs 2` against `fix --jobs 1` on one image batch (target >= 1.7x on 2 cores).

Both runs fix the same generated 3000x4000 photos to feed size in the same
process, so the ratio is what counts.

    python bench/bench_fix_jobs.py [--files 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import make_image  # noqa: E402
from igpreflight.transcode.batch import fix_paths  # noqa: E402
from igpreflight.transcode.types import FixOptions  # noqa: E402


def timed(src: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    results = fix_paths([src], out, FixOptions(), jobs=jobs)
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        for i in range(args.files):
            make_image(src / f"{i:03d}.png", size=(3000, 4000), seed=i)
        one = timed(src, Path(tmp) / "out1", 1)
        many = timed(src, Path(tmp) / f"out{args.jobs}", args.jobs)
    print(f"files: {args.files}")
    print(f"--jobs 1: {one:7.2f} s")
    print(f"--jobs {args.jobs}: {many:7.2f} s")
    print(f"speed-up: {one / many:.2f}x (target >= 1.7x on 2 cores)")


if __name__ == "__main__":
    main()

"""Probe cost does not grow with pixel count: time probe() on a 600x400 and a
6000x4000 JPEG (100x the pixels) and print the ratio, next to a full decode.

Run: python bench/bench_probe.py [repeats]. Expect a probe ratio near 1 (file
size differs, headers do not) and a decode ratio near 100.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import make_image  # noqa: E402
from igpreflight.preflight.probe import probe  # noqa: E402


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def decode(path: Path) -> None:
    with Image.open(path) as im:
        im.load()


def main(repeats: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = make_image(Path(tmp) / "small.jpg", (600, 400))
        large = make_image(Path(tmp) / "large.jpg", (6000, 4000))
        p_small = best_of(lambda: probe(small), repeats)
        p_large = best_of(lambda: probe(large), repeats)
        d_small = best_of(lambda: decode(small), 3)
        d_large = best_of(lambda: decode(large), 3)
    print(
        f"probe  600x400: {p_small * 1e3:8.2f} ms   6000x4000: {p_large * 1e3:8.2f} ms   ratio {p_large / p_small:6.1f}"
    )
    print(
        f"decode 600x400: {d_small * 1e3:8.2f} ms   6000x4000: {d_large * 1e3:8.2f} ms   ratio {d_large / d_small:6.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)

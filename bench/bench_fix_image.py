"""Benchmark: `igpreflight fix` on 100 camera-size JPEGs vs ImageMagick, and the
peak memory of fixing sharp's 280-megapixel JPEG.

1. 100 generated 4000x3000 JPEGs fixed to feed size (1440x1080) by igpreflight,
   against ImageMagick doing the equivalent resize and re-encode in the same run:
   `convert in.jpg -resize 1440x -quality 90 out.jpg`, one process per file, as
   a shell loop would. Target: igpreflight at least 1.5x faster. Both use the
   same machine at the same time, so the ratio is what counts, not the seconds.
2. Peak resident memory of a fresh process fixing `giant-image.jpg`
   (20000x14000) from the shared corpus. Target: under 400 MB.

ImageMagick comes from Debian's packages: when `/usr/bin/convert` is missing or
is not ImageMagick, its case is skipped and the install line printed (a benchmark
never installs anything). The corpus is found as the tests find it
(`IGPREFLIGHT_CORPUS`, else ../shared/corpus).

    python bench/bench_fix_image.py [--files 100] [--jobs 1]
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_path import PEAK_SCRIPT_TAIL, corpus_dir  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from igpreflight.transcode.batch import fix_paths  # noqa: E402
from igpreflight.transcode.types import FixOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GIANT = corpus_dir() / "sharp" / "giant-image.jpg"
CONVERT = "/usr/bin/convert"  # /usr/local/bin/convert may be a stand-in
INSTALL = "apt-get install -y --no-install-recommends imagemagick"


def imagemagick() -> str | None:
    """The real ImageMagick `convert`, or None (its case is skipped) when absent."""
    try:
        proc = subprocess.run([CONVERT, "-version"], capture_output=True, text=True, timeout=30)
    except OSError:
        proc = None
    if proc is None or "ImageMagick" not in proc.stdout:
        print(f"ImageMagick is not at {CONVERT}: its case is skipped (Debian: {INSTALL})")
        return None
    return CONVERT


def photo_like(size: tuple[int, int], seed: int) -> Image.Image:
    """A photo-like frame (gradients, shapes, fine noise) so JPEG work is realistic."""
    w, h = size
    small = Image.effect_noise((w // 8, h // 8), 60).convert("RGB")
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((w // 8, h // 8)),
            small.getchannel(0),
            Image.linear_gradient("L").rotate(90).resize((w // 8, h // 8)),
        ),
    )
    im = base.filter(ImageFilter.GaussianBlur(2)).resize(size, Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(im)
    for i in range(12):
        x, y = (seed * 397 + i * 811) % w, (seed * 211 + i * 577) % h
        d.ellipse([x, y, x + w // 10, y + h // 10], fill=((i * 40) % 256, 120, 255 - i * 20))
    grain = Image.effect_noise(size, 12).convert("RGB")
    return Image.blend(im, grain, 0.08)


def build(root: Path, count: int) -> list[Path]:
    src = root / "in"
    src.mkdir()
    frames = [photo_like((4000, 3000), s) for s in range(4)]
    files = []
    for i in range(count):
        path = src / f"{i:03d}.jpg"
        frames[i % len(frames)].save(path, "JPEG", quality=88 + i % 6)
        files.append(path)
    return files


def run_igpreflight(files: list[Path], out: Path, jobs: int) -> float:
    start = time.perf_counter()
    results = fix_paths(files, out, FixOptions(), jobs=jobs)
    elapsed = time.perf_counter() - start
    bad = [r for r in results if not r.ok]
    if bad:
        raise SystemExit(f"igpreflight failed on {len(bad)} files: {bad[0].reason}")
    with Image.open(results[0].output) as im:
        assert im.size == (1440, 1080), im.size
    return elapsed


def run_imagemagick(convert: str, files: list[Path], out: Path) -> float:
    out.mkdir()
    start = time.perf_counter()
    for f in files:
        subprocess.run(
            [convert, str(f), "-resize", "1440x", "-quality", "90", str(out / f.name)],
            check=True,
            timeout=300,
        )
    return time.perf_counter() - start


def giant_peak_mb(out: Path) -> float | None:
    if not GIANT.is_file():
        return None
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from igpreflight.transcode.batch import fix_paths\n"
        "from igpreflight.transcode.types import FixOptions\n"
        "[r] = fix_paths([sys.argv[1]], Path(sys.argv[2]), FixOptions())\n"
        "assert r.ok, r.reason\n"
        f"{PEAK_SCRIPT_TAIL}"
        "print(peak)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(GIANT), str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=REPO,
    )
    return int(proc.stdout.split()[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=1, help="igpreflight workers (default 1)")
    args = ap.parse_args(argv)
    convert = imagemagick()
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as tmp:
        root = Path(tmp)
        print(f"generating {args.files} 4000x3000 JPEGs...", file=sys.stderr)
        files = build(root, args.files)
        ours = run_igpreflight(files, root / "ours", args.jobs)
        theirs = run_imagemagick(convert, files, root / "magick") if convert else None
        peak = giant_peak_mb(root / "giant")
        shutil.rmtree(root / "ours", ignore_errors=True)
    print(f"files: {args.files} x 4000x3000 JPEG -> 1440x1080")
    print(
        f"igpreflight fix (jobs={args.jobs}): {ours:.2f} s ({ours / args.files * 1000:.0f} ms/file)"
    )
    ratio = theirs / ours if theirs else None
    if ratio is not None:
        print(f"ImageMagick convert -resize 1440x -quality 90: {theirs:.2f} s")
        print(f"ratio: {ratio:.2f}x faster (target >= 1.5x): {'PASS' if ratio >= 1.5 else 'FAIL'}")
    if peak is None:
        print("giant-image.jpg: corpus absent, memory not measured")
    else:
        verdict = "PASS" if peak < 400 else "FAIL"
        print(f"giant-image.jpg (280 MP) peak RSS: {peak:.0f} MB (target < 400 MB): {verdict}")
    return 0 if (ratio is None or ratio >= 1.5) and (peak is None or peak < 400) else 1


if __name__ == "__main__":
    sys.exit(main())

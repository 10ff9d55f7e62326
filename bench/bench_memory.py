"""Benchmark: peak memory of `fix` on the corpus's largest images, with the
memory budget (default 1 GB) against an unlimited budget, in the same run.

Each case runs in a fresh process that reports the peak RSS of itself (VmHWM) or
of a helper it started (the strict JPEG decoder), whichever is larger. The corpus
is found as the tests find it (`IGPREFLIGHT_CORPUS`, else ../shared/corpus):
- black_large.webp (16000x9000 WebP; Pillow decodes WebP through an RGBA
  buffer, about 16 bytes per pixel): refused with the size it needs under the
  default budget, decoded with `--max-memory 8G` (the old behaviour: 2.23 GB);
- giant-image.jpg (20000x14000 JPEG): draft mode keeps it small either way.

    python bench/bench_memory.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_path import PEAK_SCRIPT_TAIL, corpus_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = corpus_dir()
CASES = [CORPUS / "androidx-media" / "black_large.webp", CORPUS / "sharp" / "giant-image.jpg"]
SCRIPT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from igpreflight.transcode.batch import fix_paths\n"
    "from igpreflight.transcode.types import FixOptions\n"
    "options = FixOptions(max_memory=int(sys.argv[3])) if int(sys.argv[3]) else FixOptions()\n"
    "[r] = fix_paths([sys.argv[1]], Path(sys.argv[2]), options)\n"
    f"{PEAK_SCRIPT_TAIL}"
    "print(r.status.value, peak // 1024)\n"
)


def peak(src: Path, budget: int) -> tuple[str, int]:
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(src), out, str(budget)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
    status, mb = proc.stdout.split()
    return status, int(mb)


def main() -> int:
    if not CASES[0].is_file():
        print(f"the corpus is not at {CORPUS} (set IGPREFLIGHT_CORPUS)")
        return 1
    for src in CASES:
        default_status, default_mb = peak(src, 0)
        open_status, open_mb = peak(src, 8 << 30)
        print(
            f"{src.name}: default budget (1G): {default_status}, peak {default_mb} MB; "
            f"--max-memory 8G: {open_status}, peak {open_mb} MB; ratio {open_mb / default_mb:.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

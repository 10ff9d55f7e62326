"""Benchmark: `igpreflight fix` on a mixed batch of 1080p clips against the
always-transcode habit, in the same run.

The batch: generated 1080p30 clips (H.264/AAC, a few seconds each), half of
which only need a remux (moov at the end: VID004), the other half a real video
re-encode (display-matrix rotation, VP9 in WebM). The baseline is what peers
run on every file: `ffmpeg -i in -c:v libx264 -c:a aac out.mp4` (x264's default
`medium` preset), one process per file. igpreflight goes through `fix_paths`,
the `fix` command's driver: probe, check, plan, remux or transcode (veryfast),
re-probe and re-check every output. Target: igpreflight at most 1/3 of the
baseline's time. Also printed: one remux-only file, igpreflight's remux against
the baseline's transcode of the same file.

Both sides run serially on the same machine in the same run, so the ratio is
what counts, not the seconds.

    python bench/bench_fix_video.py [--files 8] [--duration 6] [--gop 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import make_video  # noqa: E402
from igpreflight.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from igpreflight.transcode.batch import fix_paths  # noqa: E402
from igpreflight.transcode.types import FixOptions, FixStatus  # noqa: E402

W, H, FPS = 1920, 1080, 30


def make_batch(
    folder: Path, files: int, duration: float, gop: int | None = None
) -> list[tuple[Path, str]]:
    """Half remux-only clips, half that need a video re-encode; `gop` frames between
    keyframes (None: x264's 250), which the proof of a remux is cut at."""
    made: list[tuple[Path, str]] = []
    common: dict = dict(width=W, height=H, fps=FPS, duration=duration, bitrate="8M")
    if gop:
        common["extra_args"] = ["-g", str(gop)]
    for i in range(files):
        if i % 2 == 0:
            p = make_video(folder / f"{i:02d}-moov-at-end.mp4", faststart=False, **common)
            made.append((p, "remux"))
        elif i % 4 == 1:
            p = make_video(folder / f"{i:02d}-rotated.mp4", rotation=90, **common)
            made.append((p, "transcode"))
        else:
            vp9 = {k: v for k, v in common.items() if k != "extra_args"}
            p = make_video(
                folder / f"{i:02d}-vp9.webm", vcodec="libvpx-vp9", acodec="libopus", **vp9
            )
            made.append((p, "transcode"))
    return made


def baseline(src: Path, out: Path) -> float:
    """The always-transcode habit, timed."""
    args = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", str(src)]
    args += ["-c:v", "libx264", "-c:a", "aac", str(out)]
    t = time.perf_counter()
    subprocess.run(args, check=True, timeout=3600)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=8, help="clips in the batch (half remux-only)")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per clip")
    ap.add_argument("--gop", type=int, default=None, help="frames a GOP (30: phone-like)")
    args = ap.parse_args(argv)
    if os.environ.get("IGPREFLIGHT_X264_PRESET"):
        print("note: IGPREFLIGHT_X264_PRESET is set; unset it to measure the default preset")

    with tempfile.TemporaryDirectory(prefix="bench-fix-video-") as tmp:
        root = Path(tmp)
        src, out_base, out_fix = root / "in", root / "baseline", root / "fixed"
        for d in (src, out_base, out_fix):
            d.mkdir()
        t = time.perf_counter()
        batch = make_batch(src, args.files, args.duration, args.gop)
        print(
            f"generated {len(batch)} clips {W}x{H}@{FPS} x {args.duration:g} s "
            f"({sum(1 for _, k in batch if k == 'remux')} remux-only) "
            f"in {time.perf_counter() - t:.1f} s"
        )

        base_times: dict[str, float] = {}
        for path, _ in batch:
            base_times[path.name] = baseline(path, out_base / (path.stem + ".mp4"))
        base_total = sum(base_times.values())

        t = time.perf_counter()
        results = fix_paths([str(src)], out_fix, FixOptions(), jobs=1)
        fix_total = time.perf_counter() - t
        bad = [r for r in results if not r.ok]
        if bad:
            for r in bad:
                print(f"FAILED {r.source}: {r.reason}", file=sys.stderr)
            return 1
        statuses = {Path(r.source).name: r.status.value for r in results}

        remux_file = next(p for p, kind in batch if kind == "remux")
        t = time.perf_counter()
        one = fix_paths([str(remux_file)], root / "one", FixOptions(), jobs=1)
        remux_one = time.perf_counter() - t
        assert one[0].status is FixStatus.REMUXED, one[0].status

    print()
    print(f"{'file':28} {'igpreflight':>12} {'baseline (s)':>13}")
    for path, _ in batch:
        print(f"{path.name:28} {statuses[path.name]:>12} {base_times[path.name]:13.2f}")
    print()
    print(f"baseline (always transcode, x264 medium): {base_total:7.2f} s")
    print(f"igpreflight fix (probe+plan+fix+re-check): {fix_total:7.2f} s")
    ratio = fix_total / base_total
    verdict = "meets" if ratio <= 1 / 3 else "MISSES"
    print(f"ratio igpreflight / baseline: {ratio:.3f} ({verdict} the 1/3 target)")
    print(
        f"one remux-only file ({remux_file.name}): igpreflight remux {remux_one:.3f} s vs "
        f"baseline transcode {base_times[remux_file.name]:.2f} s "
        f"-> {remux_one / base_times[remux_file.name]:.3f} "
        f"({base_times[remux_file.name] / remux_one:.0f}x faster)"
    )
    return 0 if ratio <= 1 / 3 else 1


if __name__ == "__main__":
    sys.exit(main())

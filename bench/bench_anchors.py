"""Benchmark: issue 20's table, igpreflight against the field's tools in the same run.

Every case runs the igpreflight command line and its anchor as separate
processes, interleaved, best of `--repeat` (a shared machine's noise only ever
slows a run down), and prints the ratio against the goal:

- fix 40 camera JPEGs (4000x3000) to 1440 px: one job against `vipsthumbnail`
  per file in a shell loop, two jobs against `xargs -P2 vipsthumbnail` (both
  write JPEG at quality 92, 4:2:0, optimized Huffman tables, metadata stripped,
  as `fix` does; `fix` also proves every source decodes and re-checks every
  output);
- peak memory (the process tree's maximum resident size, from wait4) of fixing
  sharp's 280 MP giant-image.jpg from the corpus, against vipsthumbnail's;
- check 300 mixed files (JPEG, PNG, WebP, MP4) against `mediainfo --Output=JSON
  DIR` in one process, with the default jobs and with `--jobs 1`;
- check of one file, wall time (goal: 0.12 s; `mediainfo FILE` for scale), as a
  clean venv install runs it and, reported, with this interpreter's site hooks;
- a remux of a 10 s 1080p clip (moov at the end) against its transcode: the
  `ffmpeg -c:v libx264 -c:a aac` peers run on every file (x264 medium), and
  igpreflight's own transcode of the same clip rotated; the clip as the test
  generator makes it (x264 ultrafast, a keyframe every 250 frames), a
  phone-like one (a keyframe a second, AAC audio), and that one with CABAC and
  B-frames (x264 veryfast), each against its own transcode; and, reported
  without a goal, the phone-like remux with `fix --deep` (every picture decoded).

The command line runs as an installed package does, with its bytecode cached
(PYTHONDONTWRITEBYTECODE is dropped, caches go to a temporary folder). The
anchors come from Debian's packages: `apt-get install -y libvips-tools
mediainfo`; a missing one is named with that line, and its cases skipped.
The S3 latency goal has its own script: bench/bench_s3_latency.py.

    python bench/bench_anchors.py [--repeat 3] [--only fix,memory,check,start,video]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_path import corpus_dir  # noqa: E402

GIANT = corpus_dir() / "sharp" / "giant-image.jpg"
INSTALL = "apt-get install -y libvips-tools mediainfo"
VIPS_JPEG = "[Q=92,optimize_coding,strip,subsample_mode=on]"  # what fix writes


@dataclass
class Run:
    seconds: float
    peak_kb: int
    cpu: float = 0.0  # user + system seconds of the process tree


# Linux keeps a process's peak RSS across fork and exec (signal->maxrss), so a
# command forked straight from this process (which holds the generated photos)
# would report this process's size. A small launcher forks it instead, and
# reports the command's time, peak RSS and CPU from wait4.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(argv: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """One command (and its children), timed, with its tree's peak resident size."""
    proc = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *argv],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(argv[:4])}... exited {proc.returncode}: {proc.stderr[-500:]}")
    seconds, peak_kb, cpu = proc.stderr.split()[-3:]
    return Run(float(seconds), int(peak_kb), float(cpu))


def interleaved(cases: dict[str, Callable[[int], Run]], repeat: int) -> dict[str, Run]:
    """Each case `repeat` times, in turn; the best time (and the lowest peak) of each."""
    seen: dict[str, list[Run]] = {name: [] for name in cases}
    for r in range(repeat):
        for name, case in cases.items():
            seen[name].append(case(r))
    return {
        name: Run(
            min(x.seconds for x in runs),
            min(x.peak_kb for x in runs),
            min(x.cpu for x in runs),
        )
        for name, runs in seen.items()
    }


def our_env(cache: Path) -> dict[str, str]:
    """The CLI as an installed package runs: bytecode written once, then reused."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def anchor(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        print(f"{name} is not on PATH: its cases are skipped (Debian: {INSTALL})")
    return found


@dataclass
class Row:
    measure: str
    anchor: str
    theirs: str
    ours: str
    ratio: float
    goal: str
    met: bool | None  # None: reported, no goal
    cpu: str = "-"  # CPU seconds of the process trees, the anchor's / ours


def faster(measure: str, name: str, theirs: Run, ours: Run, goal: float) -> Row:
    """A row for "igpreflight at least `goal` times faster than the anchor"."""
    ratio = theirs.seconds / ours.seconds
    return Row(measure, name, f"{theirs.seconds:.2f} s", f"{ours.seconds:.2f} s", ratio,
               f">= {goal:g}x", ratio >= goal, f"{theirs.cpu:.2f} / {ours.cpu:.2f}")  # fmt: skip


def table(rows: list[Row]) -> str:
    head = (
        "| measure | anchor | anchor's | igpreflight | ratio | goal | met | CPU s, anchor / ours |"
        "\n|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r.measure} | {r.anchor} | {r.theirs} | {r.ours} | {r.ratio:.2f}x | {r.goal} | "
        f"{'-' if r.met is None else 'yes' if r.met else 'NO'} | {r.cpu} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def fix_cases(root: Path, igp: list[str], env: dict[str, str], vips: str, repeat: int) -> list[Row]:
    from bench_fix_image import build

    root.mkdir(parents=True, exist_ok=True)
    files = build(root, 40)
    src = files[0].parent
    loop = f'for f in "{src}"/*.jpg; do {vips} "$f" -s 1440 -o "$OUT/%s.jpg{VIPS_JPEG}"; done'
    pair = f'ls "{src}"/*.jpg | xargs -P2 -I{{}} {vips} {{}} -s 1440 -o "$OUT/%s.jpg{VIPS_JPEG}"'

    def shell(script: str, label: str) -> Callable[[int], Run]:
        def case(r: int) -> Run:
            out = root / f"{label}-{r}"
            out.mkdir()
            return run(["sh", "-c", script], {**os.environ, "OUT": str(out)})

        return case

    def ours(jobs: int) -> Callable[[int], Run]:
        return lambda r: run(
            [*igp, "fix", str(src), "--out", str(root / f"ours{jobs}-{r}"), "--jobs", str(jobs)],
            env,
        )

    best = interleaved(
        {
            "vips": shell(loop, "vips"),
            "ours1": ours(1),
            "xargs": shell(pair, "xargs"),
            "ours2": ours(2),
        },
        repeat,
    )
    return [
        faster("fix 40 JPEGs 4000x3000 -> 1440, one job", "vipsthumbnail loop", best["vips"], best["ours1"], 1.5),
        faster("same, two jobs", "xargs -P2 vipsthumbnail", best["xargs"], best["ours2"], 1.5),
    ]  # fmt: skip


def memory_case(
    root: Path, igp: list[str], env: dict[str, str], vips: str, repeat: int
) -> list[Row]:
    if not GIANT.is_file():
        print(f"{GIANT} is absent (set IGPREFLIGHT_CORPUS): the memory case is skipped")
        return []

    def theirs(r: int) -> Run:
        out = root / f"giant-vips-{r}"
        out.mkdir()
        return run([vips, str(GIANT), "-s", "1440", "-o", f"{out}/%s.jpg{VIPS_JPEG}"])

    def ours(r: int) -> Run:
        return run([*igp, "fix", str(GIANT), "--out", str(root / f"giant-ours-{r}")], env)

    best = interleaved({"vips": theirs, "ours": ours}, repeat)
    vm, om = best["vips"].peak_kb / 1024, best["ours"].peak_kb / 1024
    return [Row("peak memory, fix of a 280 MP JPEG", "vipsthumbnail", f"{vm:.0f} MB", f"{om:.0f} MB",
                vm / om, "<= libvips", om <= vm)]  # fmt: skip


def check_cases(
    root: Path, igp: list[str], env: dict[str, str], mediainfo: str, repeat: int
) -> list[Row]:
    from bench_check import build_batch

    (root / "mixed").mkdir(parents=True, exist_ok=True)
    folder = build_batch(root / "mixed", 300)[0].parent
    checking = [*igp, "check", "--format", "json", str(folder)]
    best = interleaved(
        {
            "mediainfo": lambda r: run([mediainfo, "--Output=JSON", str(folder)]),
            "ours": lambda r: run(checking, env, ok=(0, 1)),
            "ours1": lambda r: run([*checking, "--jobs", "1"], env, ok=(0, 1)),
        },
        repeat,
    )
    anchor_name = "mediainfo --Output=JSON DIR"
    return [
        faster("check 300 mixed files", anchor_name, best["mediainfo"], best["ours"], 2.5),
        faster("same, --jobs 1", anchor_name, best["mediainfo"], best["ours1"], 2.0),
    ]


def start_case(
    root: Path, igp: list[str], env: dict[str, str], mediainfo: str | None, repeat: int
) -> list[Row]:
    from fixtures.generate import make_image

    photo = str(make_image(root / "one.jpg", size=(1080, 1350)))
    clean, clean_env = clean_python(root, env)
    run([*igp, "check", photo], env)  # writes the bytecode caches
    run([clean, "-m", "igpreflight", "check", photo], clean_env)
    cases = {"ours": lambda r: run([*igp, "check", photo], env)}
    # The interpreter alone, with this environment's site-packages hooks (.pth files
    # of editable installs, a CA bundle): the part of the wall that is not ours.
    cases["python"] = lambda r: run([igp[0], "-c", "pass"], env)
    cases["clean"] = lambda r: run([clean, "-m", "igpreflight", "check", photo], clean_env)
    cases["clean-python"] = lambda r: run([clean, "-c", "pass"], clean_env)
    if mediainfo:
        cases["mediainfo"] = lambda r: run([mediainfo, photo])
    best = interleaved(cases, max(10, repeat))
    theirs = f"{best['mediainfo'].seconds:.3f} s" if mediainfo else "-"

    def row(measure: str, ours: float, python: float, goal: bool) -> Row:
        text = f"{ours:.3f} s ({python:.3f} s of it `python -c pass`)"
        return Row(
            measure,
            "mediainfo FILE (for scale)",
            theirs,
            text,
            0.12 / ours,
            "<= 0.12 s" if goal else "(reported)",
            ours <= 0.12 if goal else None,
        )

    return [
        row("check of one file, wall, installed in a clean venv", best["clean"].seconds,
            best["clean-python"].seconds, True),
        row("same, this interpreter with its site hooks", best["ours"].seconds,
            best["python"].seconds, False),
    ]  # fmt: skip


def clean_python(root: Path, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A virtual environment's python that sees the checkout and this interpreter's
    packages on PYTHONPATH, as a `pip install igpreflight` into a fresh venv (or
    pipx) sees them: without the `.pth` start-up hooks of this interpreter's
    site-packages (an editable install's finder, a CA bundle), which no igpreflight
    install brings and which cost this machine's `python -c pass` 0.03-0.05 s."""
    import sysconfig
    import venv

    folder = root / "clean-venv"
    venv.create(folder, with_pip=False)
    packages = sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]
    clean_env = {**env, "PYTHONPATH": os.pathsep.join([str(REPO), *dict.fromkeys(packages)])}
    return str(folder / "bin" / "python"), clean_env


def video_case(root: Path, igp: list[str], env: dict[str, str], repeat: int) -> list[Row]:
    """Remuxes of 10 s 1080p clips (moov at the end) against their transcodes: the
    generator's x264 ultrafast clip (a keyframe every 250 frames: two GOPs), a
    phone-like one (a keyframe a second, AAC audio), and the same with CABAC and
    B-frames (x264 veryfast, what phones' High profile streams are like)."""
    from fixtures.generate import make_video
    from igpreflight.ffmpeg_bin import ffmpeg_exe

    common = dict(width=1920, height=1080, fps=30, duration=10.0, bitrate="8M")
    clips = {
        "remux": make_video(root / "clip.mp4", faststart=False, **common),  # VID004
        "phone": make_video(root / "phone.mp4", faststart=False, extra_args=["-g", "30"], **common),
        "cabac": make_video(
            root / "cabac.mp4", faststart=False, extra_args=["-preset", "veryfast", "-g", "30"],
            **common,
        ),
    }  # fmt: skip
    turned = make_video(root / "turned.mp4", rotation=90, **common)  # a video re-encode

    def peers(clip: Path, r: int) -> Run:  # what peers run on every file
        out = root / f"peers-{clip.stem}-{r}.mp4"
        return run([ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", str(clip),
                    "-c:v", "libx264", "-c:a", "aac", str(out)])  # fmt: skip

    def ours(clip: Path, r: int, *more: str) -> Run:
        out = root / f"{clip.stem}-{r}{'-'.join(more)}"
        return run([*igp, "fix", str(clip), "--out", str(out), *more], env)

    cases: dict[str, Callable[[int], Run]] = {}
    for name, clip in clips.items():
        cases[name] = lambda r, clip=clip: ours(clip, r)
        cases[f"peers-{name}"] = lambda r, clip=clip: peers(clip, r)
    cases["ours"] = lambda r: ours(turned, r)
    cases["deep"] = lambda r: ours(clips["phone"], r, "--deep")
    best = interleaved(cases, repeat)
    x264 = "ffmpeg -c:v libx264 (medium)"
    return [
        faster("remux of a 10 s 1080p clip vs its transcode", x264, best["peers-remux"],
               best["remux"], 20),
        faster("same, vs igpreflight's own transcode", "fix (x264 veryfast)", best["ours"],
               best["remux"], 20),
        faster("remux of a phone-like clip (keyframe a second, AAC) vs its transcode", x264,
               best["peers-phone"], best["phone"], 20),
        faster("same, CABAC and B-frames (x264 veryfast -g 30)", x264, best["peers-cabac"],
               best["cabac"], 20),
        reported(faster("phone-like remux with `fix --deep` (every picture decoded)", x264,
                        best["peers-phone"], best["deep"], 20)),
    ]  # fmt: skip


def reported(row: Row) -> Row:
    """A row measured for the record, with no goal of its own."""
    return replace(row, goal="(reported)", met=None)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def load() -> str:
    """The 1-, 5- and 15-minute load averages (/proc/loadavg): the runnable processes
    sharing the CPUs, which slow the anchors and us alike."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N interleaved runs")
    parser.add_argument("--only", default="fix,memory,check,start,video", help="cases to run")
    args = parser.parse_args()
    only = set(args.only.split(","))
    vips, mediainfo = anchor("vipsthumbnail"), anchor("mediainfo")
    igp = [sys.executable, "-m", "igpreflight"]
    print(f"machine: {machine()}; load average {load()} at the start")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-anchors-") as tmp:
        root = Path(tmp)
        env = our_env(root / "pycache")
        if "fix" in only and vips:
            rows += fix_cases(root / "fix", igp, env, vips, args.repeat)
        if "memory" in only and vips:
            rows += memory_case(root, igp, env, vips, args.repeat)
        if "check" in only and mediainfo:
            rows += check_cases(root, igp, env, mediainfo, args.repeat)
        if "start" in only:
            rows += start_case(root, igp, env, mediainfo, args.repeat)
        if "video" in only:
            rows += video_case(root, igp, env, args.repeat)
    print(f"load average {load()} at the end")
    print(table(rows))
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

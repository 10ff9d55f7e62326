"""Run `igpreflight check`, `check --deep` and `fix` on structure-aware mutants, one
process at a time, and report what breaks the promise for any bytes: an exit status
other than 0/1, a traceback or "internal error" on stderr, a run past 10 s, a
process peak past 400 MB, an output written for a file check calls FILE001, or a
FILE001 that `check` and `check --deep` word differently (decoding aside).

    nice -n 19 python bench/fuzz/run_cli.py SEED... [--per-seed 60] [--fix-every 3]
        [--work /tmp/igp-mutants] [--seed 1]

A seed's kind comes from its name (.mp4/.mov/.m4a: box mutants; .jpg: EXIF; .png:
chunks; .webp/.avi: RIFF; anything else: header bytes). Findings go to
WORK/findings.jsonl and stdout; the mutants stay in WORK for replay.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import mutants  # noqa: E402

IGP = [sys.executable, "-m", "igpreflight"]
SLOW = 10.0
FAT_MB = 400


def kind_of(path: Path) -> str:
    ext = path.suffix.lower()
    return {".mp4": "mp4", ".mov": "mp4", ".m4a": "mp4", ".jpg": "jpeg", ".jpeg": "jpeg",
            ".png": "png", ".webp": "riff", ".avi": "riff"}.get(ext, "bytes")  # fmt: skip


def run(args: list[str], timeout: float = 60.0) -> dict:
    """Run one command; its peak is the largest resident size of it or any child it
    waited for (GNU time's %M: the MediaInfo server and ffmpeg included)."""
    env = dict(os.environ, IGPREFLIGHT_DEBUG="1", NO_COLOR="1")
    peak = Path(os.environ.get("TMPDIR", "/tmp")) / f"igp-peak-{os.getpid()}"
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M", "-o", str(peak), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        return {"rc": "timeout", "s": timeout, "out": out, "err": err, "mb": 0}
    try:
        mb = int(peak.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        mb = 0
    return {"rc": proc.returncode, "s": time.monotonic() - start, "out": out, "err": err, "mb": mb}


def file001(report: bytes) -> list[str]:
    try:
        doc = json.loads(report)
    except ValueError:
        return ["<no json>"]
    return [
        f["message"]
        for entry in doc.get("files", [])
        for f in entry.get("findings", [])
        if f["rule"] == "FILE001"
    ]


def problems(label: str, got: dict) -> list[str]:
    found = []
    err = got["err"].decode("utf-8", "replace")
    if got["rc"] not in (0, 1):
        found.append(f"{label}: exit {got['rc']}")
    if "Traceback" in err or "internal error" in err:
        found.append(f"{label}: {err.strip().splitlines()[-1][:300]}")
    if got["s"] > SLOW:
        found.append(f"{label}: {got['s']:.1f} s")
    if got["mb"] > FAT_MB:
        found.append(f"{label}: peak {got['mb']:.0f} MB")
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("seeds", nargs="+", type=Path)
    ap.add_argument("--per-seed", type=int, default=60)
    ap.add_argument("--fix-every", type=int, default=3)
    ap.add_argument("--deep-every", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/igp-mutants"))
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    rng = random.Random(opts.seed)
    opts.work.mkdir(parents=True, exist_ok=True)
    log = (opts.work / "findings.jsonl").open("a")
    n = 0
    for seed in opts.seeds:
        data = seed.read_bytes()
        made = list(mutants(data, kind_of(seed), rng))
        picked = rng.sample(made, min(opts.per_seed, len(made)))
        for name, body in picked:
            n += 1
            folder = opts.work / seed.stem
            folder.mkdir(exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "+-@." else "_" for c in name)
            path = folder / f"{safe}{seed.suffix}"
            path.write_bytes(body)
            check = run([*IGP, "check", "--format", "json", "-q", str(path)])
            found = problems("check", check)
            rejected = file001(check["out"])
            if n % opts.deep_every == 0:
                deep = run([*IGP, "check", "--deep", "--format", "json", "-q", str(path)], 120)
                found += problems("check --deep", deep)
                d001 = file001(deep["out"])
                if rejected and d001 != rejected:
                    found.append(f"verdicts differ: check {rejected} / deep {d001}")
            if n % opts.fix_every == 0:
                out = opts.work / "out"
                shutil.rmtree(out, ignore_errors=True)
                fix = run([*IGP, "fix", "-q", "--extend", "--out", str(out), str(path)], 300)
                found += problems("fix", fix)
                written = (
                    [
                        p
                        for p in out.rglob("*")
                        if p.is_file() and not p.name.startswith((".", "fix-ledger", "fix.lock"))
                    ]
                    if out.exists()
                    else []
                )
                if rejected and written:
                    found.append(f"fix wrote {written[0].name} for a FILE001 file")
            status = "; ".join(found) if found else "ok"
            print(f"{path}: {check['rc']} {check['s']:.1f}s {rejected[:1]} {status}", flush=True)
            if found:
                log.write(json.dumps({"path": str(path), "problems": found}) + "\n")
                log.flush()


if __name__ == "__main__":
    main()
